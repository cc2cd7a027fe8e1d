/**
 * The synthesized IAM, proven by behaviour: the real `local` stacks run in the
 * local runtime with enforcement on (in a child process:
 * `__tests__/fixtures/iam-mutation-run.ts`). The unmodified policies pass the
 * whole scenario with zero denials; then every statement of every policy
 * (identity, trust, key, queue and log resource policies) is removed in turn,
 * and the same scenario must notice: a denial, or a broken contract. A
 * removal that nothing notices must be one of the statements AWS needs on its
 * side only (`local/unobservable.ts`).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { budget } from '../helpers/budget';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { UNOBSERVABLE_STATEMENTS } from '../fixtures/unobservable';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface MutationRun {
  baseline: { problem: string; denials: unknown[] };
  results: { where: string; id: string; caught: string }[];
}

let run: MutationRun;
// One runtime, then a scenario per statement: 72 s on a quiet machine.
const MUTATION_RUN_MS = budget({ runtimeStarts: 1, seconds: 75 });

beforeAll(async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '__tests__/fixtures/iam-mutation-run.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 16 * 1024 * 1024,
    timeout: MUTATION_RUN_MS,
  });
  run = JSON.parse(stdout.trim().split('\n').pop() as string) as MutationRun;
}, MUTATION_RUN_MS + 10_000);

describe('the synthesized IAM, by behaviour', () => {
  it('lets the whole scenario through with zero denials', () => {
    expect(run.baseline).toEqual({ problem: '', denials: [] });
  });

  it('notices the removal of every statement, except those AWS needs on its side only', () => {
    // Prepare
    const caught = run.results.filter((result) => result.caught !== '');
    const missed = run.results.filter((result) => result.caught === '');
    process.stdout.write(
      `IAM mutation: ${caught.length} of ${run.results.length} statements caught\n${run.results.map((result) => `  ${result.caught ? 'caught' : 'MISSED'}  ${result.where}${result.caught ? `: ${result.caught}` : ''}`).join('\n')}\n`,
    );

    // Assess
    expect(missed.map((result) => result.id).filter((id) => !(id in UNOBSERVABLE_STATEMENTS))).toEqual([]);
    expect(new Set(missed.map((result) => result.id))).toEqual(new Set(Object.keys(UNOBSERVABLE_STATEMENTS)));
    expect(caught.length).toBeGreaterThan(0);
  });
});
