/**
 * The quick start's first command on a laptop with no AWS configuration at
 * all: the demo must need neither a region nor credentials.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { adminConnection, createTestDatabase, serverUrl, type TestDatabase } from '../helpers/mysql';
import { budget } from '../helpers/budget';
import { allRoleUserNames } from '../../handlers/read-model/users';

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
      const admin = await adminConnection();
      const [rows] = await admin.query('SHOW DATABASES LIKE ?', [demoDatabase]);
      await admin.end();
      expect(rows).toEqual([]);
    },
    budget({ runtimeStarts: 1, seconds: 10 }),
  );
  it(
    'drops its database when a Ctrl-C comes while the pipeline is still starting',
    async () => {
      // Prepare: the demo databases already on the server (this file's tests run one at a time; nothing else makes demo_ databases).
      const url = serverUrl();
      url.pathname = `/${database.name}`;
      const admin = await adminConnection();
      const demoDatabases = async () =>
        ((await admin.query('SHOW DATABASES LIKE ?', ['demo\\_%']))[0] as Record<string, string>[]).map((row) => Object.values(row)[0]);
      try {
        const before = new Set(await demoDatabases());
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--db-url', url.toString()], {
          cwd: ROOT,
          env: { ...process.env, NODE_OPTIONS: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        let created: string | undefined;
        while (!created && child.exitCode === null) {
          created = (await demoDatabases()).find((name) => !before.has(name));
          if (!created) await new Promise((resolve) => setTimeout(resolve, 10));
        }

        // Act: Ctrl-C once its database exists, before it has said where its pipeline is.
        const starting = !stdout.includes('local pipeline at');
        child.kill('SIGINT');
        const code = await exited;

        // Assess: it ended as Ctrl-C ends it (not killed by the signal's default action), and its database is gone.
        expect(created).toBeDefined();
        expect(starting).toBe(true);
        expect(code).toBe(130);
        expect(await demoDatabases()).not.toContain(created);
        const [users] = await admin.query('SELECT user FROM mysql.user WHERE user IN (?)', [allRoleUserNames(created as string)]);
        expect(users).toEqual([]);
      } finally {
        await admin.end();
      }
    },
    budget({ runtimeStarts: 1, seconds: 10 }),
  );
});
