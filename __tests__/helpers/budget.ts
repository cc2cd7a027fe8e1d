/**
 * Test timeouts sized by what a test does, not by jest's default: each process
 * it starts costs what starting one cost when the suite began (measured once,
 * in global-setup.ts), times a margin for a machine that gets busier while the
 * suite runs (two CPU-bound processes beside four test workers on two cores).
 */

/** How much slower than at the suite's start a process may start later in the run. */
const MARGIN = 8;
/** At least this per started process, however fast the measurement was. */
const FLOOR_MS = 5_000;

const measured = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** What a test does that takes time. */
export interface Work {
  /** CLIs of this project it runs (node with the TypeScript loader). */
  readonly cliRuns?: number;
  /** AWS CLI commands it runs. */
  readonly awsCliRuns?: number;
  /** Local runtimes it starts (a CLI start, plus the synth and the services). */
  readonly runtimeStarts?: number;
  /** Everything else, in seconds, as on a quiet machine. */
  readonly seconds?: number;
}

/** The timeout (ms) for a test that does `work`. */
export function budget(work: Work): number {
  const cli = Math.max(FLOOR_MS, MARGIN * measured('TEST_CLI_START_MS', 2_000));
  const awsCli = Math.max(FLOOR_MS, MARGIN * measured('TEST_AWS_CLI_START_MS', 2_000));
  const runtime = 2 * cli + 20_000;
  return 10_000 + (work.cliRuns ?? 0) * cli + (work.awsCliRuns ?? 0) * awsCli + (work.runtimeStarts ?? 0) * runtime + MARGIN * 1_000 * (work.seconds ?? 0);
}
