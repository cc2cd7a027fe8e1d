/**
 * Read model against the real MariaDB/MySQL at DB_URL: migrations, the
 * constant-statement projection and the queries. Each run uses its own database.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS_DIR, loadMigrations, migrate, migrationLock } from '../../handlers/read-model/migrations';
import { projectOrders } from '../../handlers/read-model/read-model-writer';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { monthlySalesByItem } from '../../handlers/queries/monthly-sales-by-item';
import { buildOrder } from '../helpers/factories';
import { countingPool, createTestDatabase, snapshotReadModel, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('read_model');
});

afterAll(async () => {
  await db.drop();
});

describe('migrations', () => {
  it('re-running is a no-op', async () => {
    const connection = await db.connect();
    try {
      const migrations = await loadMigrations();
      const report = await migrate(connection, migrations);
      expect(report).toEqual({ applied: [], alreadyApplied: migrations.map((m) => `${String(m.version).padStart(4, '0')}-${m.name}`), awaitingRebuild: [] });
      expect(report.alreadyApplied[0]).toBe('0001-read-model');
    } finally {
      await connection.end();
    }
  });

  it('refuses an applied migration whose file was edited, before running anything', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    for (const file of await readdir(MIGRATIONS_DIR)) {
      const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
      await writeFile(path.join(dir, file), `${sql}\n-- edited\n`);
    }
    await writeFile(path.join(dir, '0900-extra.sql'), 'CREATE TABLE should_not_exist (id INT PRIMARY KEY);');
    const connection = await db.connect();

    try {
      // Act
      const run = migrate(connection, await loadMigrations(dir));

      // Assess
      await expect(run).rejects.toThrow(/migration 1 \(read-model\) was edited after it was applied/);
      const [tables] = await connection.query("SHOW TABLES LIKE 'should_not_exist'");
      expect(tables).toEqual([]);
    } finally {
      await connection.end();
    }
  });

  it('applies new migrations in order and records them with their checksum', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    for (const file of await readdir(MIGRATIONS_DIR)) {
      await writeFile(path.join(dir, file), await readFile(path.join(MIGRATIONS_DIR, file), 'utf8'));
    }
    await writeFile(path.join(dir, '0901-later.sql'), 'CREATE TABLE later_table (id INT PRIMARY KEY);');
    await writeFile(path.join(dir, '0900-earlier.sql'), 'CREATE TABLE earlier_table (id INT PRIMARY KEY);');
    const connection = await db.connect();

    try {
      // Act
      const report = await migrate(connection, await loadMigrations(dir));

      // Assess
      expect(report.applied).toEqual(['0900-earlier', '0901-later']);
      const [rows] = await connection.query('SELECT version, name, LENGTH(checksum) AS length FROM schema_migrations WHERE version >= 900 ORDER BY version');
      expect(rows).toEqual([
        { version: 900, name: 'earlier', length: 64 },
        { version: 901, name: 'later', length: 64 },
      ]);
      await connection.query('DROP TABLE earlier_table, later_table; DELETE FROM schema_migrations WHERE version >= 900');
    } finally {
      await connection.end();
    }
  });

  it('waits for the named lock and gives up with a clear error', async () => {
    const holder = await db.connect();
    const runner = await db.connect();
    try {
      // The lock is this database's own: other read models on the server (other test files) never take it.
      const [[held]] = (await holder.query('SELECT GET_LOCK(?, 0) AS locked', [migrationLock(db.name)])) as unknown as [{ locked: number }[]];
      expect(held?.locked).toBe(1);
      await expect(migrate(runner, await loadMigrations(), { lockTimeoutSeconds: 1 })).rejects.toThrow(
        `could not take the migration lock "${migrationLock(db.name)}" within 1 s`,
      );
      expect(migrationLock(db.name)).not.toBe(migrationLock(`${db.name}_other`));
      expect(migrationLock(db.name).length).toBeLessThanOrEqual(64);
    } finally {
      await holder.end();
      await runner.end();
    }
  });

  it('refuses badly named migration files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    await writeFile(path.join(dir, '1-Init.sql'), 'SELECT 1');
    await expect(loadMigrations(dir)).rejects.toThrow('migration file 1-Init.sql must be named NNNN-lower-case-name.sql');
  });
});

describe('projection and queries', () => {
  it('answers the original sample exactly as the contract says', async () => {
    // Prepare
    const order = buildOrder({ orderId: '6102', orderedAt: '2022-10-13T19:00:00.000Z' });

    // Act
    const outcomes = await projectOrders(db.pool, [order]);

    // Assess
    expect(outcomes).toEqual(['projected']);
    expect(await itemsSalesReport(db.pool)).toEqual([
      { itemid: 'z3333', totalordered: 6, lastorderdate: '2022-10-13' },
      { itemid: 'z4444', totalordered: 3, lastorderdate: '2022-10-13' },
    ]);
    expect(await monthlySalesByItem(db.pool, 'z3333')).toEqual([{ monthyear: 'October 2022', monthlyordered: 6 }]);
    expect(await monthlySalesByItem(db.pool, 'unknown')).toEqual([]);
  });

  it('leaves the read model unchanged when the same batch is delivered twice', async () => {
    // Prepare
    const batch = [
      buildOrder({ orderedAt: '2023-01-31T23:59:59.999Z', items: [{ itemid: 'dup-a', quantity: 2 }] }),
      buildOrder({
        orderedAt: '2023-02-01T00:00:00.000Z',
        items: [
          { itemid: 'dup-a', quantity: 5 },
          { itemid: 'dup-b', quantity: 1 },
        ],
      }),
    ];
    await projectOrders(db.pool, batch);
    const before = await snapshotReadModel(db.pool);

    // Act
    const outcomes = await projectOrders(db.pool, batch);

    // Assess
    expect(outcomes).toEqual(['alreadyProjected', 'alreadyProjected']);
    expect(await snapshotReadModel(db.pool)).toEqual(before);
    expect(await monthlySalesByItem(db.pool, 'dup-a')).toEqual([
      { monthyear: 'February 2023', monthlyordered: 5 },
      { monthyear: 'January 2023', monthlyordered: 2 },
    ]);
  });

  it('refuses a conflicting order and leaves the stored one untouched', async () => {
    // Prepare
    const original = buildOrder({ orderId: 'conflict-1', items: [{ itemid: 'c-item', quantity: 4 }] });
    const conflicting = buildOrder({
      orderId: 'conflict-1',
      items: [
        { itemid: 'c-item', quantity: 40 },
        { itemid: 'c-other', quantity: 1 },
      ],
    });
    await projectOrders(db.pool, [original]);
    const before = await snapshotReadModel(db.pool);

    // Act
    const outcomes = await projectOrders(db.pool, [conflicting, buildOrder({ orderId: 'conflict-2', items: [{ itemid: 'c-item', quantity: 1 }] })]);

    // Assess
    expect(outcomes).toEqual(['conflict', 'projected']);
    const after = await snapshotReadModel(db.pool);
    expect(after.orders).toEqual(expect.arrayContaining((before.orders as unknown[]).filter((row) => (row as { order_id: string }).order_id === 'conflict-1')));
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 'c-item')?.totalordered).toBe(5);
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 'c-other')).toBeUndefined();
  });

  it('settles copies of one order inside a batch against the first copy', async () => {
    const first = buildOrder({ orderId: 'twice', items: [{ itemid: 't-item', quantity: 1 }] });
    const other = buildOrder({ orderId: 'twice', items: [{ itemid: 't-item', quantity: 9 }] });
    expect(await projectOrders(db.pool, [first, { ...first }, other])).toEqual(['projected', 'alreadyProjected', 'conflict']);
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 't-item')?.totalordered).toBe(1);
  });

  it('stores and queries an item id full of SQL metacharacters verbatim', async () => {
    // Prepare
    const itemid = `x'; DROP TABLE orders; -- \\ %_ "\`🍕`;
    await projectOrders(db.pool, [buildOrder({ orderedAt: '2024-02-29T12:00:00.000Z', items: [{ itemid, quantity: 11 }] })]);

    // Act
    const report = await itemsSalesReport(db.pool);
    const monthly = await monthlySalesByItem(db.pool, itemid);

    // Assess
    expect(report.find((row) => row.itemid === itemid)).toEqual({ itemid, totalordered: 11, lastorderdate: '2024-02-29' });
    expect(monthly).toEqual([{ monthyear: 'February 2024', monthlyordered: 11 }]);
    expect(await monthlySalesByItem(db.pool, "x'%")).toEqual([]);
  });

  it('writes a batch of any size in the same number of statements', async () => {
    // Prepare
    const small = countingPool(db.pool);
    const large = countingPool(db.pool);
    const orders = (count: number, tag: string) =>
      Array.from({ length: count }, (_, index) =>
        buildOrder({
          items: [
            { itemid: `${tag}-${index % 50}`, quantity: 1 },
            { itemid: `${tag}-x`, quantity: 2 },
          ],
        }),
      );

    const replay = countingPool(db.pool);
    const largeBatch = orders(1000, 'large');

    // Act
    await projectOrders(small.pool, orders(3, 'small'));
    await projectOrders(large.pool, largeBatch);
    await projectOrders(replay.pool, [...largeBatch.slice(0, 500), ...orders(500, 'mixed')]);

    // Assess: 7 for new orders (transaction, orders, lines, three totals), 8 when some were already projected (the read-back).
    expect(small.statements()).toBe(7);
    expect(large.statements()).toBe(7);
    expect(replay.statements()).toBe(8);
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 'large-x')?.totalordered).toBe(2000);
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 'mixed-x')?.totalordered).toBe(1000);
  });

  it('returns totals as JSON numbers and items sorted by id', async () => {
    const report = await itemsSalesReport(db.pool);
    for (const row of report) expect(typeof row.totalordered).toBe('number');
    const ids = report.map((row) => row.itemid);
    expect(ids).toEqual([...ids].sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1)));
  });

  it('rolls back everything when a statement fails mid-transaction', async () => {
    // Prepare: a quantity the INT UNSIGNED column cannot hold fails the lines insert.
    const before = await snapshotReadModel(db.pool);
    const broken = { ...buildOrder({ items: [{ itemid: 'rollback', quantity: 1 }] }), items: [{ itemid: 'rollback', quantity: 2 ** 40 }] };

    // Act
    const run = projectOrders(db.pool, [broken]);

    // Assess
    await expect(run).rejects.toThrow(/Out of range/);
    expect(await snapshotReadModel(db.pool)).toEqual(before);
  });
});
