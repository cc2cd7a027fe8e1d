/**
 * The local runtime beside data it did not make: it uses only a read-model
 * database it owns, one runtime at a time, and the demo never touches the
 * database of `DB_URL`. Each test makes its databases on the server at
 * DB_URL and drops them.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Connection, type RowDataPacket } from 'mysql2/promise';
import { allRoleUserNames } from '../../handlers/read-model/users';
import { localIdle, putEntries, waitForResponse, type Target } from '../../clients/pipeline-client';
import { databaseUrl, runLocalRuntimeToExit, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { adminConnection, dropReadModel } from '../helpers/mysql';
import { budget } from '../helpers/budget';

const run = promisify(execFile);
const made: string[] = [];
const running: RunningLocalRuntime[] = [];

function admin(): Promise<Connection> {
  return adminConnection({ multipleStatements: true });
}

/** A database of this test's, with `sql` run in it. */
async function database(sql = ''): Promise<string> {
  const name = `test_owned_${randomBytes(4).toString('hex')}`;
  made.push(name);
  const connection = await admin();
  try {
    await connection.query('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [name]);
    if (sql) await connection.query(`USE \`${name}\`; ${sql}`);
  } finally {
    await connection.end();
  }
  return name;
}

/** Every table of `name` with its rows, to show nothing in it changed. */
async function contents(name: string): Promise<Record<string, unknown[]>> {
  const connection = await admin();
  try {
    const [tables] = await connection.query<RowDataPacket[]>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
      [name],
    );
    const all: Record<string, unknown[]> = {};
    for (const { name: table } of tables) all[String(table)] = (await connection.query<RowDataPacket[]>('SELECT * FROM ??.??', [name, table]))[0];
    return all;
  } finally {
    await connection.end();
  }
}

async function start(name: string, args: string[] = []): Promise<RunningLocalRuntime> {
  const runtime = await startLocalRuntime({ dbUrl: databaseUrl(name), args });
  running.push(runtime);
  return runtime;
}

const command = (orderId: string, itemid: string, quantity: number) => ({
  Source: 'orderPipeline',
  DetailType: 'orderCommand',
  Detail: { command: 'createOrder', orderId, items: [{ itemid, quantity }] },
});
const salesQuery = { Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'itemsSalesReport' } };

async function ask(runtime: RunningLocalRuntime, entry: Parameters<typeof putEntries>[1][number]): Promise<Record<string, unknown>> {
  const target: Target = { kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint };
  const [id] = await putEntries(target, [entry]);
  return (await waitForResponse(target, id as string)).detail;
}

/** The role users' password hashes: what a second runtime's init-schema would rotate. */
async function rolePasswords(name: string): Promise<unknown[]> {
  const connection = await admin();
  try {
    const users = allRoleUserNames(name);
    return (await connection.query<RowDataPacket[]>('SELECT User, authentication_string FROM mysql.user WHERE User IN (?) ORDER BY User', [users]))[0];
  } finally {
    await connection.end();
  }
}

afterEach(async () => {
  for (const runtime of running.splice(0)) if (runtime.process.exitCode === null && runtime.process.signalCode === null) await runtime.stop();
});

afterAll(async () => {
  const connection = await admin();
  try {
    for (const name of made) await dropReadModel(connection, name);
  } finally {
    await connection.end();
  }
});

describe('a database the runtime did not make', () => {
  it.each([
    ['orders', 'CREATE TABLE orders (id INT PRIMARY KEY, note TEXT); INSERT INTO orders VALUES (1, "keep me")'],
    ['order_lines', 'CREATE TABLE order_lines (order_id VARCHAR(10), line_no INT, PRIMARY KEY (order_id, line_no)); INSERT INTO order_lines VALUES ("x", 1)'],
    ['item_totals', 'CREATE TABLE item_totals (item_id VARCHAR(10) PRIMARY KEY, total_ordered BIGINT); INSERT INTO item_totals VALUES ("z3333", 999)'],
    ['item_monthly_totals', 'CREATE TABLE item_monthly_totals (item_id VARCHAR(10), n INT); INSERT INTO item_monthly_totals VALUES ("z3333", 1)'],
    ['an unrelated table', 'CREATE TABLE customers (id INT PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (7, "Ada")'],
  ])(
    'holding %s is refused at start, naming the database and the way out, with nothing in it touched',
    async (_what, sql) => {
      // Prepare
      const name = await database(sql);
      const before = await contents(name);

      // Act
      const { code, output } = await runLocalRuntimeToExit(['--db-url', databaseUrl(name)]);

      // Assess
      expect(code).toBe(1);
      expect(output).toContain(`the database ${name} on `);
      expect(output).toContain('nothing in it was touched');
      expect(output).toMatch(/--db-url mysql:\/\/root@[^ ]+\/<another name>/);
      expect(output).toContain('--take-over');
      expect(await contents(name)).toEqual(before);
    },
    90_000,
  );

  it(
    'with --take-over: made its read model there, and left the other tables alone',
    async () => {
      // Prepare: an unrelated table, and a table named like one of the read model's.
      const name = await database(
        'CREATE TABLE customers (id INT PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (7, "Ada"); CREATE TABLE orders (id INT PRIMARY KEY)',
      );
      const { customers } = await contents(name);

      // Act
      const runtime = await start(name, ['--take-over']);
      const answer = await ask(runtime, command('takeover-1', 'takeover-item', 3));

      // Assess
      expect(answer).toMatchObject({ commandStatus: 'orderCreated' });
      expect(runtime.output()).toContain('taken over (--take-over); dropped orders');
      expect((await contents(name)).customers).toEqual(customers);
    },
    budget({ runtimeStarts: 1, seconds: 5 }),
  );

  it(
    'with --take-over: a view named like a read-model table is dropped as a view, and the read model projects there',
    async () => {
      // Prepare: an unrelated table, and a view with the name of the read model's item_totals.
      const name = await database('CREATE TABLE customers (id INT PRIMARY KEY); CREATE VIEW item_totals AS SELECT 1 AS a');

      // Act
      const runtime = await start(name, ['--take-over']);
      const answer = await ask(runtime, command('view-1', 'view-item', 4));
      await localIdle(runtime.endpoint);

      // Assess: item_totals is the read model's table now, and holds the order's item.
      expect(answer).toMatchObject({ commandStatus: 'orderCreated' });
      const connection = await admin();
      try {
        const [types] = await connection.query<RowDataPacket[]>(
          'SELECT table_type AS type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
          [name, 'item_totals'],
        );
        expect(types.map((row) => String(row.type))).toEqual(['BASE TABLE']);
        const [totals] = await connection.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM ??.item_totals', [name]);
        expect(Number(totals[0]?.n)).toBe(1);
      } finally {
        await connection.end();
      }
    },
    budget({ runtimeStarts: 1, seconds: 5 }),
  );

  it("with --take-over: refused, naming the table and its foreign key, when a table that stays refers to one of the read model's; nothing touched", async () => {
    // Prepare: a table named like the read model's orders, and a customer table whose foreign key refers to it.
    const name = await database(
      'CREATE TABLE item_totals (id INT PRIMARY KEY); CREATE TABLE orders (id INT PRIMARY KEY) ENGINE=InnoDB; ' +
        'CREATE TABLE invoices (id INT PRIMARY KEY, order_ref INT, CONSTRAINT invoices_order FOREIGN KEY (order_ref) REFERENCES orders (id)) ENGINE=InnoDB; ' +
        'INSERT INTO orders VALUES (1); INSERT INTO invoices VALUES (10, 1); INSERT INTO item_totals VALUES (5)',
    );
    const before = await contents(name);

    // Act
    const { code, output } = await runLocalRuntimeToExit(['--db-url', databaseUrl(name), '--take-over']);

    // Assess
    expect(code).toBe(1);
    expect(output).toContain('invoices (foreign key invoices_order → orders)');
    expect(output).toContain('nothing in it was touched');
    expect(await contents(name)).toEqual(before);
  }, 90_000);

  it(
    "holding another state's read model is refused, naming that state's --data folder",
    async () => {
      // Prepare: a runtime with --data made and left this read model.
      const name = await database();
      const data = mkdtempSync(path.join(tmpdir(), 'owned-data-'));
      const first = await start(name, ['--data', data]);
      await ask(first, command('state-1', 'state-item', 2));
      await localIdle(first.endpoint);
      await first.stop();
      const before = await contents(name);

      // Act: a runtime in memory, then one with another folder.
      const inMemory = await runLocalRuntimeToExit(['--db-url', databaseUrl(name)]);
      const otherFolder = await runLocalRuntimeToExit(['--db-url', databaseUrl(name), '--data', mkdtempSync(path.join(tmpdir(), 'owned-other-'))]);

      // Assess
      for (const refused of [inMemory, otherFolder]) {
        expect(refused.code).toBe(1);
        expect(refused.output).toContain(`holds the read model of the local runtime whose state is --data ${path.resolve(data)}`);
        expect(refused.output).toContain(`Start with --data ${path.resolve(data)} to continue that one`);
      }
      expect(await contents(name)).toEqual(before);
    },
    budget({ runtimeStarts: 3, seconds: 5 }),
  );
});

describe('a --data folder started against another database', () => {
  it(
    'rebuilds the read model from the orders table before it says it is ready: queries answer every stored order, and the next start continues it',
    async () => {
      // Prepare: a runtime with --data that stored and projected orders, then stopped.
      const data = mkdtempSync(path.join(tmpdir(), 'catch-up-data-'));
      const first = await start(await database(), ['--data', data]);
      for (let index = 0; index < 5; index++) await ask(first, command(`catch-up-${index}`, `catch-up-item-${index % 2}`, index + 1));
      await localIdle(first.endpoint);
      const report = (await ask(first, salesQuery)).queryResult;
      await first.stop();

      // Act: the same folder against a new, empty database; then once more on it.
      const fresh = await database();
      const next = await start(fresh, ['--data', data]);
      const rebuilt = (await ask(next, salesQuery)).queryResult;
      const details = await ask(next, { Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'orderDetails', orderId: 'catch-up-3' } });
      await next.stop();
      const again = await start(fresh, ['--data', data]);

      // Assess: the same answers as before, said at the start; the second start on it continues it (no rebuild).
      expect(next.output()).toContain('holds orders: rebuilding it from the table');
      expect(next.output()).toMatch(/rebuilt: 5 orders projected/);
      expect(rebuilt).toEqual(report);
      expect(details).toMatchObject({ queryStatus: 200 });
      expect(again.output()).not.toContain('rebuilding it from the table');
      expect((await ask(again, salesQuery)).queryResult).toEqual(report);
    },
    budget({ runtimeStarts: 3, seconds: 10 }),
  );
});

describe('one runtime per read model', () => {
  it(
    'refuses a second runtime, naming the first, which answers as before; the demo beside it uses a database of its own',
    async () => {
      // Prepare
      const name = await database();
      const first = await start(name);
      await ask(first, command('first-1', 'first-item', 5));
      await localIdle(first.endpoint);
      const report = await ask(first, salesQuery);
      const passwords = await rolePasswords(name);
      const before = await contents(name);

      // Act: a second runtime, then the demo, both pointed at the first one's database.
      const second = await runLocalRuntimeToExit(['--db-url', databaseUrl(name)]);
      const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && key !== 'DB_URL'));
      const demo = await run(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--db-url', databaseUrl(name)], { env });

      // Assess: the second refused, naming the holder; the demo answered from its own database, dropped after.
      expect(second.code).toBe(1);
      expect(second.output).toContain(`the database ${name} on `);
      expect(second.output).toContain(`is in use by another local runtime (pid ${first.process.pid}`);
      expect(second.output).toContain(first.endpoint);
      expect(demo.stdout).toContain('demo OK');
      const demoDatabase = /read model mysql:\/\/[^/]+\/(demo_[0-9a-f]+)/.exec(demo.stdout)?.[1];
      expect(demoDatabase).toBeDefined();
      const connection = await admin();
      const [left] = await connection.query<RowDataPacket[]>('SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?', [demoDatabase]);
      const [demoUsers] = await connection.query<RowDataPacket[]>('SELECT User FROM mysql.user WHERE User IN (?)', [allRoleUserNames(demoDatabase as string)]);
      await connection.end();
      expect(left).toEqual([]);
      expect(demoUsers).toEqual([]);
      // The first runtime's database, role users and answers are as they were; it goes on working.
      expect(await contents(name)).toEqual(before);
      expect(await rolePasswords(name)).toEqual(passwords);
      expect((await ask(first, salesQuery)).queryResult).toEqual(report.queryResult);
      expect(await ask(first, command('first-2', 'first-item', 1))).toMatchObject({ commandStatus: 'orderCreated' });
    },
    budget({ runtimeStarts: 3, cliRuns: 1, seconds: 10 }),
  );

  it(
    'frees the read model when its runtime is killed (kill -9): the next start takes it, with its data',
    async () => {
      // Prepare
      const name = await database();
      const data = mkdtempSync(path.join(tmpdir(), 'owned-killed-'));
      const first = await start(name, ['--data', data]);
      await ask(first, command('killed-1', 'killed-item', 4));
      await localIdle(first.endpoint);

      // Act
      first.process.kill('SIGKILL');
      await new Promise((resolve) => first.process.once('exit', resolve));
      const next = await start(name, ['--data', data]);
      await localIdle(next.endpoint);

      // Assess
      const report = (await ask(next, salesQuery)).queryResult as { itemid: string; totalordered: number }[];
      expect(report.find((row) => row.itemid === 'killed-item')?.totalordered).toBe(4);
    },
    budget({ runtimeStarts: 2, seconds: 5 }),
  );
});
