/**
 * What `npm run synth` writes, as text that can be committed and compared:
 * the synthesized stacks of one fixed configuration (dev, offline, nothing
 * taken from the caller's shell), with the values that follow from the
 * bundles' bytes (asset folders, the schema trigger's code hash) named
 * instead of spelled out. A change to the stacks shows up as a diff of
 * Terraform JSON; a change to a handler's code does not.
 *
 * `npm run synth:fixture` writes it to `__tests__/fixtures/synth/`, and
 * `__tests__/stacks/synth-output.test.ts` fails when the synth no longer
 * writes it (speeding the synth up must change no byte of it).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleZip, DIST, ROOT } from './bundling/build';
import { FunctionName, type FunctionKey } from './catalogue';

const run = promisify(execFile);

/** Where the committed snapshot lives. */
export const SNAPSHOT_DIR = path.join(ROOT, '__tests__', 'fixtures', 'synth');

/**
 * The environment `npm run synth` runs in for the snapshot: the dev
 * environment with local state, and none of the variables that override
 * config (`AWS_REGION`, `ALARM_EMAILS`, `TF_STATE_*`), whatever the shell holds.
 */
export function snapshotEnvironment(outdir: string): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'npm_config_cache'];
  return {
    ...Object.fromEntries(keep.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]])),
    CQRS_ENV: 'dev',
    TF_LOCAL_STATE: '1',
    CDKTF_OUTDIR: outdir,
    CHECKPOINT_DISABLE: '1',
  };
}

/** Each stack's `cdk.tf.json` in a synth's output folder, by stack name. */
export function readStacks(outdir: string): Record<string, string> {
  const stacks = path.join(outdir, 'stacks');
  return Object.fromEntries(
    readdirSync(stacks)
      .sort()
      .map((stack) => [stack, readFileSync(path.join(stacks, stack, 'cdk.tf.json'), 'utf8')]),
  );
}

/**
 * `text` with every value that follows from a bundle's bytes named instead:
 * the content hash in an asset's folder (`assets/<id>/<hash>/<function>.zip`)
 * and the SHA-256 of a function's zip in `dist` (what the schema trigger keys on).
 */
export function nameBundleValues(text: string, dist: string = DIST): string {
  let named = text.replace(/("assets\/([a-z0-9-]+)_bundle_[0-9A-F]+\/)[0-9A-F]{32}\//g, '$1<content hash of $2.zip>/');
  for (const key of Object.keys(FunctionName) as FunctionKey[]) {
    const zip = bundleZip(key, dist);
    if (!existsSync(zip)) continue;
    const sha256 = createHash('sha256').update(readFileSync(zip)).digest('hex');
    named = named.replaceAll(`"${sha256}"`, `"<sha256 of ${FunctionName[key]}.zip>"`);
  }
  return named;
}

/**
 * Runs `npm run synth` as a developer does (its bundles and anything else it
 * keeps between runs as they are) into a temporary folder, and returns each
 * stack's `cdk.tf.json` exactly as written.
 */
export async function npmRunSynth(): Promise<Record<string, string>> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'synth-snapshot-'));
  try {
    await run('npm', ['run', '--silent', 'synth'], { cwd: ROOT, env: snapshotEnvironment(outdir), maxBuffer: 16 * 1024 * 1024 });
    return readStacks(outdir);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** {@link npmRunSynth} with the bundle values named: what the snapshot holds. */
export async function snapshotSynth(): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(await npmRunSynth()).map(([stack, text]) => [stack, nameBundleValues(text)]));
}

/** Where two texts first differ (line number and both lines), or undefined when they are equal. */
export function firstDifference(actual: string | undefined, expected: string | undefined): { line: number; actual?: string; expected?: string } | undefined {
  if (actual === expected) return undefined;
  const a = (actual ?? '').split('\n');
  const b = (expected ?? '').split('\n');
  let line = 0;
  while (line < Math.max(a.length, b.length) && a[line] === b[line]) line++;
  return { line: line + 1, ...(a[line] !== undefined ? { actual: a[line] } : {}), ...(b[line] !== undefined ? { expected: b[line] } : {}) };
}

/** The committed snapshot, by stack name (`<stack>.tf.json` files). */
export function readSnapshot(dir: string = SNAPSHOT_DIR): Record<string, string> {
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.tf.json'))
      .sort()
      .map((file) => [file.slice(0, -'.tf.json'.length), readFileSync(path.join(dir, file), 'utf8')]),
  );
}
