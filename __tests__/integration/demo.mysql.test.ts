/**
 * The quick start's first command on a laptop with no AWS configuration at
 * all: the demo must need neither a region nor credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
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

  it(
    'drops its database and exits without a crash when its output goes away (npm run demo | head -2)',
    async () => {
      // Prepare
      const url = serverUrl();
      url.pathname = `/${database.name}`;
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--db-url', url.toString()], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const demoDatabase = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const name = /^read model \S+?\/(demo_[0-9a-f]+)/m.exec(stdout)?.[1];
          if (name) resolve(name);
        });
        void exited.then(() => reject(new Error(`the demo ended before naming its database:\n${stdout}${stderr}`)));
      });

      // Act: the reader goes, as head does once it has its lines.
      child.stdout.destroy();
      const code = await exited;

      // Assess: it ended by itself, without an unhandled EPIPE, and left no database behind.
      expect(stderr).not.toContain('EPIPE');
      expect(code).toBe(1);
      const admin = await createConnection({
        host: url.hostname,
        port: Number(url.port || 3306),
        user: decodeURIComponent(url.username || 'root'),
        password: decodeURIComponent(url.password),
      });
      const [rows] = await admin.query('SHOW DATABASES LIKE ?', [demoDatabase]);
      await admin.end();
      expect(rows).toEqual([]);
    },
    budget({ runtimeStarts: 1, seconds: 10 }),
  );
});
