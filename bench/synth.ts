/**
 * Synth time: `npm run synth` with everything it keeps between runs up to
 * date (the bundles, the compiled app), and from clean (no `dist/`, no
 * `cdktf.out`), beside the smallest cdktf app run the same way
 * (bench/minimal-cdktf-app.ts), the three interleaved in every round.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../stacks/bundling/build';
import { load } from './cold-start';
import { median, round } from './support';

const run = promisify(execFile);

/** Medians of one command's runs. */
export interface SynthTiming {
  readonly seconds: number;
  /** Largest resident set of any run (MB). */
  readonly peakMB: number;
  readonly runs: number;
  /** 1-minute load average at each run's start: median, lowest, highest. */
  readonly load: { readonly median: number; readonly min: number; readonly max: number };
}

/** Wall time and peak memory of `command` (bash), from `/usr/bin/time`. */
async function timedCommand(command: string, env: NodeJS.ProcessEnv): Promise<{ seconds: number; peakMB: number; load: number }> {
  const loadAtStart = load().loadAverage;
  const { stderr } = await run('/usr/bin/time', ['-f', '%e %M', 'bash', '-c', command], {
    cwd: ROOT,
    env: { ...env, NODE_OPTIONS: '' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const [seconds, kb] = stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
  return { seconds, peakMB: kb / 1024, load: loadAtStart };
}

function summary(samples: readonly { seconds: number; peakMB: number; load: number }[]): SynthTiming {
  const loads = samples.map((sample) => sample.load);
  return {
    seconds: round(median(samples.map((sample) => sample.seconds)), 2),
    peakMB: round(Math.max(...samples.map((sample) => sample.peakMB)), 0),
    runs: samples.length,
    load: { median: round(median(loads), 2), min: Math.min(...loads), max: Math.max(...loads) },
  };
}

/** The three timings, `runs` rounds (after one round that is not counted: it compiles the minimal app and warms the caches). */
export async function timeSynth(runs: number): Promise<{ upToDate: SynthTiming; clean: SynthTiming; minimalApp: SynthTiming }> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'bench-minimal-synth-'));
  const env = { ...process.env };
  const commands = {
    clean: `rm -rf dist cdktf.out && npm run --silent synth >/dev/null`,
    upToDate: `rm -rf cdktf.out && npm run --silent synth >/dev/null`,
    minimalApp: `rm -rf ${JSON.stringify(outdir)} && CDKTF_OUTDIR=${JSON.stringify(outdir)} bash scripts/node.sh --compiled bench/minimal-cdktf-app.ts >/dev/null`,
  };
  const samples = {
    clean: [] as Awaited<ReturnType<typeof timedCommand>>[],
    upToDate: [] as Awaited<ReturnType<typeof timedCommand>>[],
    minimalApp: [] as Awaited<ReturnType<typeof timedCommand>>[],
  };
  try {
    for (let round = -1; round < runs; round++) {
      for (const key of ['clean', 'upToDate', 'minimalApp'] as const) {
        const sample = await timedCommand(commands[key], env);
        if (round >= 0) samples[key].push(sample);
      }
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return { upToDate: summary(samples.upToDate), clean: summary(samples.clean), minimalApp: summary(samples.minimalApp) };
}
