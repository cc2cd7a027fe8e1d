/**
 * The quick start's first command on a laptop with no AWS configuration at
 * all: the demo must need neither a region nor credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/mysql';
import { budget } from '../helpers/budget';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('demo', { migrate: false });
});
afterAll(() => database.drop());

describe('npm run demo', () => {
  it(
    'answers the sample command and both queries as the contract says, without any AWS configuration',
    async () => {
      const url = serverUrl();
      url.pathname = `/${database.name}`;
      // Nothing from the developer's or the suite's AWS setup reaches the demo.
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && name !== 'DB_URL' && name !== 'NODE_OPTIONS'));
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--db-url', url.toString()], { cwd: ROOT, env });
      expect(stdout).toContain('orderCommand createOrder 6102 → orderCommandResponse');
      expect(stdout).toContain('demo OK: every response matches the contract');
    },
    budget({ runtimeStarts: 1, seconds: 10 }),
  );
});
