/**
 * Online migrations against the MariaDB at DB_URL (each test its own
 * database): a migration that waits behind a long transaction stalls the
 * projection's writes no longer than its lock wait; a migration killed
 * between steps (a real SIGKILL) resumes at its step and ends identical to an
 * uninterrupted one; a change no server makes online goes through the
 * rebuild.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { orderToItem, type Order } from '../../handlers/domain/order';
import { MigrationIncompleteError, MigrationLockWaitError } from '../../handlers/read-model/errors';
import { MIGRATIONS_DIR, loadMigrations, migrate, type StepEvent } from '../../handlers/read-model/migrations';
import { rebuildReadModel } from '../../handlers/read-model/rebuild';
import { projectOrders } from '../../handlers/read-model/read-model-writer';
import { budget } from '../helpers/budget';
import { buildOrder } from '../helpers/factories';
import { createTestDatabase, snapshotReadModel, type TestDatabase } from '../helpers/mysql';

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases) await db.drop();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase('online_migrations');
  databases.push(db);
  return db;
}

/** The project's migrations plus `extra` (file name → SQL), in a folder of their own. */
async function migrationsWith(extra: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
  for (const file of await readdir(MIGRATIONS_DIR)) await writeFile(path.join(dir, file), await readFile(path.join(MIGRATIONS_DIR, file), 'utf8'));
  for (const [file, sql] of Object.entries(extra)) await writeFile(path.join(dir, file), sql);
  return dir;
}

const orders = (count: number, prefix: string): Order[] =>
  Array.from({ length: count }, (_, index) =>
    buildOrder({
      orderId: `${prefix}-${String(index).padStart(5, '0')}`,
      orderedAt: `2024-0${(index % 9) + 1}-15T10:00:00.000Z`,
      items: [{ itemid: `item-${index % 7}`, quantity: (index % 5) + 1 }],
    }),
  );

async function populate(db: TestDatabase, count: number, prefix = 'p'): Promise<Order[]> {
  const all = orders(count, prefix);
  for (let start = 0; start < all.length; start += 100) await projectOrders(db.pool, all.slice(start, start + 100));
  return all;
}

/** Projects one order after another until stopped; each write's duration, in ms. */
function projectionWriter(db: TestDatabase): { stop: () => Promise<number[]> } {
  const durations: number[] = [];
  let running = true;
  let sequence = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await projectOrders(db.pool, [buildOrder({ orderId: `live-${sequence++}`, items: [{ itemid: 'live', quantity: 1 }] })]);
      durations.push(performance.now() - started);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return durations;
    },
  };
}

/** A transaction that has read `table` and stays open: it holds the table's shared metadata lock. */
async function longTransaction(db: TestDatabase, table: string): Promise<{ connection: Connection; id: number; end: () => Promise<void> }> {
  const connection = await db.connect();
  const [[row]] = await connection.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
  await connection.query('START TRANSACTION');
  await connection.query('SELECT COUNT(*) FROM ??', [table]);
  return { connection, id: Number(row?.id), end: () => connection.query('COMMIT').then(() => connection.end()) };
}

const ADD_INDEX = { '0900-orders-by-line-count.sql': 'ALTER TABLE orders ADD INDEX orders_by_line_count (line_count), ALGORITHM = INPLACE, LOCK = NONE;\n' };
const LOCK_WAIT_SECONDS = 2;

describe('a migration behind a long transaction', () => {
  it(
    'never stalls projection writes longer than its lock wait, gives up naming the transaction, and resumes once it ends',
    async () => {
      // Prepare: a populated read model, the write latency of this machine as busy as it is now.
      const db = await database();
      await populate(db, 2_000);
      const baseline = projectionWriter(db);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const quiet = Math.max(...(await baseline.stop()));
      const migrations = await loadMigrations(await migrationsWith(ADD_INDEX));
      const holder = await longTransaction(db, 'orders');
      const writer = projectionWriter(db);
      const runner = await db.connect();

      // Act: three attempts while the transaction stays open, then again once it ended.
      const steps: StepEvent[] = [];
      const failed = await migrate(runner, migrations, {
        lockWaitSeconds: LOCK_WAIT_SECONDS,
        attempts: 3,
        retryDelayMs: 500,
        onStep: (event) => void steps.push(event),
      }).catch((error: unknown) => error);
      await holder.end();
      const resumed = await migrate(runner, migrations, { lockWaitSeconds: LOCK_WAIT_SECONDS, onStep: (event) => void steps.push(event) });
      const durations = await writer.stop();
      await runner.end();

      // Assess: the writes waited behind the migration's lock requests, never longer than one lock wait.
      const stall = Math.max(...durations);
      const slack = 2_000 + 4 * quiet;
      process.stdout.write(
        `online migration: ${durations.length} projection writes, longest ${Math.round(stall)} ms with a ${LOCK_WAIT_SECONDS} s lock wait (quiet write ${Math.round(quiet)} ms, slack ${Math.round(slack)} ms)\n`,
      );
      expect(stall).toBeGreaterThan(LOCK_WAIT_SECONDS * 1_000 * 0.8);
      expect(stall).toBeLessThan(LOCK_WAIT_SECONDS * 1_000 + slack);
      expect(failed).toBeInstanceOf(MigrationLockWaitError);
      expect((failed as Error).message).toMatch(
        new RegExp(
          `migration 900 \\(orders-by-line-count\\) step 1 waited 3 times ${LOCK_WAIT_SECONDS} s .*the oldest open transaction: connection ${holder.id}, open for \\d+ s; .*resumes at step 1`,
        ),
      );
      expect(resumed.applied).toEqual(['0900-orders-by-line-count']);
      expect(steps.map((event) => `${event.state}${event.resumed ? ' (resumed)' : ''}`)).toEqual(['started', 'started (resumed)', 'done (resumed)']);
      const [index] = await db.pool.query<RowDataPacket[]>("SHOW INDEX FROM orders WHERE Key_name = 'orders_by_line_count'");
      expect(index).toHaveLength(1);
    },
    budget({ seconds: 40 }),
  );

  it(
    'goes on by itself when the transaction ends between two attempts',
    async () => {
      const db = await database();
      await populate(db, 500);
      const migrations = await loadMigrations(await migrationsWith(ADD_INDEX));
      const holder = await longTransaction(db, 'orders');
      const writer = projectionWriter(db);
      const runner = await db.connect();
      const ending = new Promise((resolve) => setTimeout(resolve, LOCK_WAIT_SECONDS * 1_000 + 500)).then(holder.end);

      const report = await migrate(runner, migrations, { lockWaitSeconds: LOCK_WAIT_SECONDS, attempts: 6, retryDelayMs: 500 });
      await ending;
      const stall = Math.max(...(await writer.stop()));
      await runner.end();

      expect(report.applied).toEqual(['0900-orders-by-line-count']);
      expect(stall).toBeLessThan(LOCK_WAIT_SECONDS * 1_000 + 4_000);
    },
    budget({ seconds: 20 }),
  );
});

/** A migration of five steps, each of a kind: an instant column, a table, two row steps that must run once, an online index. */
const FIVE_STEPS = {
  '0900-order-channels.sql': [
    '-- Orders by channel.',
    'ALTER TABLE orders ADD COLUMN channel VARCHAR(16) NULL, ALGORITHM = INSTANT;',
    'CREATE TABLE order_channels (channel VARCHAR(16) NOT NULL, orders BIGINT UNSIGNED NOT NULL, PRIMARY KEY (channel)) ENGINE = InnoDB;',
    "INSERT INTO order_channels (channel, orders) SELECT 'unknown', COUNT(*) FROM orders;",
    "UPDATE order_channels SET orders = orders + 1000 WHERE channel = 'unknown';",
    'CREATE INDEX orders_by_channel ON orders (channel) ALGORITHM = INPLACE LOCK = NONE;',
    '',
  ].join('\n'),
};

/** Everything a migration leaves, without what differs between two databases by nature (ids, clocks, the generation). */
async function endState(db: TestDatabase) {
  const [tables] = await db.pool.query<RowDataPacket[]>('SHOW TABLES');
  const shapes: Record<string, string> = {};
  for (const row of tables) {
    const table = String(Object.values(row)[0]);
    const [[create]] = await db.pool.query<RowDataPacket[]>('SHOW CREATE TABLE ??', [table]);
    shapes[table] = String(create?.['Create Table']).replace(/ AUTO_INCREMENT=\d+/, '');
  }
  const [migrations] = await db.pool.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  const [steps] = await db.pool.query('SELECT version, step, checksum, state FROM schema_migration_steps ORDER BY version, step');
  const [channels] = await db.pool.query('SELECT * FROM order_channels ORDER BY channel');
  return { shapes, migrations, steps, channels, readModel: await snapshotReadModel(db.pool) };
}

/** Runs the migrations in a child process that stops after `step` of `migration`, then SIGKILLs it. */
async function killAfter(db: TestDatabase, dir: string, migration: string, step: number): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'migrate-')), 'config.json');
  const mysql = { host: db.settings.host, port: db.settings.port, user: db.credentials.username, password: db.credentials.password, database: db.name };
  await writeFile(file, JSON.stringify({ mysql, dir, pauseAfter: { migration, step } }));
  const child = spawn(process.execPath, ['--import', 'tsx', '__tests__/fixtures/migrate-and-pause.ts', file], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('paused') || output.includes('finished')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the migration process exited (${code}) before pausing: ${output}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  return output.trim();
}

describe('a migration killed between steps', () => {
  it(
    'resumes at its step and ends identical to one that ran without a stop',
    async () => {
      // Prepare: two read models with the same orders.
      const dir = await migrationsWith(FIVE_STEPS);
      const straight = await database();
      const killed = await database();
      await populate(straight, 300, 'same');
      await populate(killed, 300, 'same');

      // Act: one runs through; the other is killed after step 1, again after step 3, then resumes.
      const straightRunner = await straight.connect();
      const uninterrupted = await migrate(straightRunner, await loadMigrations(dir));
      await straightRunner.end();
      const kills = [await killAfter(killed, dir, '0900-order-channels', 1), await killAfter(killed, dir, '0900-order-channels', 3)];
      const steps: StepEvent[] = [];
      const runner = await killed.connect();
      const resumed = await migrate(runner, await loadMigrations(dir), { onStep: (event) => void steps.push(event) });
      await runner.end();

      // Assess
      expect(kills).toEqual(['paused 0900-order-channels 1', 'paused 0900-order-channels 3']);
      expect(steps.filter((event) => event.state === 'done').map((event) => event.step)).toEqual([4, 5]);
      expect(resumed.applied).toEqual(['0900-order-channels']);
      expect(uninterrupted.applied).toEqual(['0900-order-channels']);
      const end = await endState(killed);
      expect(end.channels).toEqual([{ channel: 'unknown', orders: 1300 }]);
      expect(end).toEqual(await endState(straight));
    },
    budget({ cliRuns: 2, seconds: 20 }),
  );

  it('runs again a DDL step that took effect before its run stopped, and counts the server\'s "already there" as done', async () => {
    // Prepare: the crash window of a DDL step, after the statement and before its record.
    const db = await database();
    const dir = await migrationsWith(FIVE_STEPS);
    const connection = await db.connect();
    await migrate(connection, await loadMigrations(dir));
    await connection.query(
      "DELETE FROM schema_migrations WHERE version = 900; UPDATE schema_migration_steps SET state = 'started' WHERE version = 900 AND step = 5",
    );
    const warnings: string[] = [];

    // Act
    const report = await migrate(connection, await loadMigrations(dir), { logger: { warn: (message) => void warnings.push(message) } });
    await connection.end();

    // Assess
    expect(report.applied).toEqual(['0900-order-channels']);
    expect(warnings).toEqual(['migration 0900-order-channels step 5 had taken effect before the run that started it stopped']);
    const [[channels]] = await db.pool.query<RowDataPacket[]>('SELECT orders FROM order_channels');
    expect(channels?.orders).toBe(1000);
  });

  it('stops before a step when its time runs out, and the next run resumes there', async () => {
    const db = await database();
    const dir = await migrationsWith(FIVE_STEPS);
    const connection = await db.connect();
    let stepsLeft = 2;
    const stopped = await migrate(connection, await loadMigrations(dir), { keepGoing: () => stepsLeft-- > 0 }).catch((error: unknown) => error);
    const steps: StepEvent[] = [];
    const report = await migrate(connection, await loadMigrations(dir), { onStep: (event) => void steps.push(event) });
    await connection.end();

    expect(stopped).toBeInstanceOf(MigrationIncompleteError);
    expect((stopped as Error).message).toBe(
      'migration 900 (order-channels) stopped before step 3: not enough time left in this run; run it again, it resumes at step 3',
    );
    expect(report.applied).toEqual(['0900-order-channels']);
    expect(steps.filter((event) => event.state === 'done').map((event) => event.step)).toEqual([3, 4, 5]);
  });

  it(
    'refuses to resume a migration whose file changed after some of its steps ran',
    async () => {
      const db = await database();
      await killAfter(db, await migrationsWith(FIVE_STEPS), '0900-order-channels', 2);
      const edited = await migrationsWith({ '0900-order-channels.sql': `${FIVE_STEPS['0900-order-channels.sql']}-- edited\n` });
      const connection = await db.connect();
      await expect(migrate(connection, await loadMigrations(edited))).rejects.toThrow(
        /migration 900 \(order-channels\) was edited after it was partly applied/,
      );
      await connection.end();
    },
    budget({ cliRuns: 1, seconds: 10 }),
  );
});

describe('a change no server makes online', () => {
  it(
    'waits for the rebuild, which applies it to its fresh tables, swaps them in, records it and applies the migrations after it',
    async () => {
      // Prepare: a populated read model; a column type change (a table copy on both servers) through the rebuild, an online migration after it.
      const db = await database();
      const all = await populate(db, 200);
      const before = await snapshotReadModel(db.pool);
      const dir = await migrationsWith({
        '0900-wider-quantity.sql':
          '-- Quantities beyond 4 billion.\n-- migration: through-rebuild\nALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL;\n',
        '0901-lines-by-quantity.sql': 'CREATE INDEX order_lines_by_quantity ON order_lines (quantity) ALGORITHM = INPLACE LOCK = NONE;\n',
      });
      const migrations = await loadMigrations(dir);
      const quantityType = async () =>
        (
          await db.pool.query<RowDataPacket[]>(
            "SELECT COLUMN_TYPE AS type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'order_lines' AND column_name = 'quantity'",
          )
        )[0][0]?.type as string;
      const connection = await db.connect();

      // Act: the deploy's init-schema, then the rebuild.
      const deploy = await migrate(connection, migrations);
      const typeAfterDeploy = await quantityType();
      const items = all.map(orderToItem);
      const progress = await rebuildReadModel({ pool: db.pool, source: 'orders-table', scan: async () => ({ items }), migrations });
      const again = await migrate(connection, migrations);
      await connection.end();

      // Assess
      expect(deploy).toMatchObject({ applied: [], awaitingRebuild: ['0900-wider-quantity', '0901-lines-by-quantity'] });
      expect(typeAfterDeploy).toMatch(/^int(\(10\))? unsigned$/);
      expect(progress).toMatchObject({ stage: 'done', scanned: 200, migrations: { applied: ['0901-lines-by-quantity'], awaitingRebuild: [] } });
      expect(await quantityType()).toMatch(/^bigint(\(20\))? unsigned$/);
      expect(await snapshotReadModel(db.pool)).toEqual(before);
      expect(again).toMatchObject({ applied: [], awaitingRebuild: [] });
      expect(again.alreadyApplied.slice(-2)).toEqual(['0900-wider-quantity', '0901-lines-by-quantity']);
      const [index] = await db.pool.query<RowDataPacket[]>("SHOW INDEX FROM order_lines WHERE Key_name = 'order_lines_by_quantity'");
      expect(index).toHaveLength(1);
    },
    budget({ seconds: 20 }),
  );
});
