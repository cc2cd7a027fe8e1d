/**
 * The suite's test environment (__tests__/helpers/env-guard-environment.ts)
 * fails a test that leaves process.env changed, naming the variables, and
 * restores them; and fails the file when beforeAll changes what afterAll does
 * not put back. Proved on a fixture file run by a child jest with the suite's
 * configuration.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { environmentChanges } from '../helpers/env-guard-environment';
import { budget } from '../helpers/budget';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** What jest --json reports of a file. */
interface JestReport {
  readonly testResults: readonly {
    readonly message: string;
    readonly assertionResults: readonly { readonly title: string; readonly status: string; readonly failureMessages: readonly string[] }[];
  }[];
}

describe('the env guard', () => {
  it('names what was added, changed or removed, never the values', () => {
    expect(environmentChanges({ A: '1', B: '2', C: '3' }, { A: '1', B: 'two', D: '4' })).toEqual(['B (changed)', 'C (removed)', 'D (added)']);
    expect(environmentChanges({ A: '1' }, { A: '1' })).toEqual([]);
  });

  it(
    'fails the test that leaks, and the file whose beforeAll leaks, restoring the environment for the next test',
    async () => {
      // Act: the fixture file, under the suite's configuration and environment.
      const run = promisify(execFile);
      const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
      const outcome = await run(process.execPath, [jest, '--ci', '--json', '--testMatch', '<rootDir>/__tests__/fixtures/env-leak.fixture.ts'], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '--experimental-vm-modules --no-warnings=ExperimentalWarning' },
        maxBuffer: 16 * 1024 * 1024,
      }).then(
        (result) => ({ code: 0, stdout: result.stdout }),
        (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
      );

      // Assess
      expect(outcome.code).toBe(1);
      const [file] = (JSON.parse(outcome.stdout) as JestReport).testResults;
      expect(file?.assertionResults.map((test) => [test.title, test.status])).toEqual([
        ['leaks a variable it adds, one it changes and one it removes', 'failed'],
        ['starts with the environment as it was before the test that leaked', 'passed'],
        ['passes', 'passed'],
      ]);
      expect(file?.assertionResults[0]?.failureMessages.join('\n')).toContain(
        'this test (with its beforeEach and afterEach hooks) changed process.env and did not restore it: HOME (removed), LEAKED_BY_TEST (added), SET_BY_BEFORE_ALL (changed)',
      );
      expect(file?.message).toContain('its beforeAll and afterAll hooks changed process.env and did not restore it: SET_BY_BEFORE_ALL (added)');
      expect(outcome.stdout).not.toContain('secret-value');
    },
    budget({ cliRuns: 1, seconds: 10 }),
  );
});
