/**
 * Every CLI of the project refuses a command line it cannot read in two lines,
 * naming what was wrong and the options it takes, with exit code 2: never a
 * Node stack trace. The CLIs are found, not listed: every entry point that
 * reads its command line does it through parseCommandLine.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { budget } from '../helpers/budget';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sources = [
  'local/main.ts',
  ...readdirSync(path.join(ROOT, 'scripts'))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `scripts/${name}`),
];
const cliEntries = sources.filter((file) => readFileSync(path.join(ROOT, file), 'utf8').includes('parseCommandLine('));

/** Runs `entry` with `args`: its exit code and what it wrote to stderr. */
function runCli(entry: string, args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
    );
  });
}

describe('the command lines of the CLIs', () => {
  it('are all read through parseCommandLine (no entry point calls parseArgs itself)', () => {
    const direct = [...sources, ...readdirSync(path.join(ROOT, 'local')).map((name) => `local/${name}`)]
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /\bparseArgs\(/.test(readFileSync(path.join(ROOT, file), 'utf8')));
    expect(direct).toEqual([]);
    expect(cliEntries).toEqual(expect.arrayContaining(['local/main.ts', 'scripts/send.ts', 'scripts/query.ts', 'scripts/demo.ts']));
  });

  it.each(cliEntries)(
    '%s refuses an unknown option and a missing value with exit 2, the option named, and no stack trace',
    async (entry) => {
      // Act: an option it does not have; then the first option it takes a value for, given none (as its "takes" line lists it).
      const unknown = await runCli(entry, ['--no-such-option']);
      const valued = / takes .*?(--[a-z-]+) <value>/.exec(unknown.stderr)?.[1];
      const missing = valued ? await runCli(entry, [valued]) : undefined;

      // Assess
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("Unknown option '--no-such-option'");
      expect(unknown.stderr).not.toMatch(/^\s+at /m);
      expect(valued).toBeDefined();
      expect(missing?.code).toBe(2);
      expect(missing?.stderr).toContain(`Option '${valued} <value>' argument missing`);
      expect(missing?.stderr).not.toMatch(/^\s+at /m);
    },
    budget({ cliRuns: 2 }),
  );
});
