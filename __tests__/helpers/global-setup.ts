/**
 * Runs once before the suite: measures what starting a process costs on this
 * machine, as busy as it is now, so tests size their timeouts by what they do
 * (see budget.ts) rather than by jest's default. The figures reach the test
 * workers through the environment.
 */
import { execFileSync } from 'node:child_process';

function millisecondsOf(command: string, args: readonly string[]): number | undefined {
  const started = performance.now();
  try {
    execFileSync(command, args, { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 120_000 });
  } catch {
    return undefined;
  }
  return Math.round(performance.now() - started);
}

export default function globalSetup(): void {
  // A CLI or a local runtime starts as node with the TypeScript loader.
  process.env.TEST_CLI_START_MS ??= String(millisecondsOf(process.execPath, ['--import', 'tsx', '-e', '0']) ?? 2_000);
  // The AWS CLI (Python) is slower to start than node.
  process.env.TEST_AWS_CLI_START_MS ??= String(millisecondsOf('aws', ['--version']) ?? 0);
}
