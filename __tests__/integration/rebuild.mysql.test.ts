/**
 * Rebuilding the read model from the orders table, against the MariaDB/MySQL
 * at DB_URL: exact, idempotent, resumable, and safe while orders keep arriving.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { orderToItem, type Order } from '../../handlers/domain/order';
import { projectOrders } from '../../handlers/read-model/read-model-writer';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { monthlySalesByItem } from '../../handlers/queries/monthly-sales-by-item';
import { REBUILD_TABLES, RETIRED_TABLES, rebuildReadModel, type ScanOrders } from '../../handlers/read-model/rebuild';
import { BOOKKEEPING_TABLES, READ_MODEL_TABLE_KEYS, READ_MODEL_TABLES } from '../../config/read-model-tables';
import { buildOrder } from '../helpers/factories';
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { connectionOptions } from '../../handlers/shared/db';
import { createTestDatabase, expectedAggregates, readAggregates, snapshotReadModel, type TestDatabase } from '../helpers/mysql';
import { statusCounts } from '../../handlers/commands/registry';

let db: TestDatabase;
/** The orders table's identity, as the rebuild function reads it from DescribeTable. */
const SOURCE = 'arn:aws:dynamodb:us-east-1:000000000000:table/orders 2026-01-01T00:00:00.000Z';

beforeAll(async () => {
  db = await createTestDatabase('rebuild');
});

afterAll(async () => {
  await db.drop();
});

/** An orders table held in memory, scanned in pages of `pageSize`. */
function ordersTable(orders: Order[], pageSize: number): { scan: ScanOrders; items: Record<string, AttributeValue>[] } {
  const items = orders.map(orderToItem);
  return {
    items,
    scan: async (cursor) => {
      const start = cursor ? Number(cursor.position?.N) : 0;
      const next = start + pageSize;
      return { items: items.slice(start, next), ...(next < items.length ? { next: { position: { N: String(next) } } } : {}) };
    },
  };
}

async function tableExists(name: string): Promise<boolean> {
  const [rows] = await db.pool.query('SHOW TABLES LIKE ?', [name]);
  return (rows as unknown[]).length > 0;
}

const orders = Array.from({ length: 45 }, (_, index) =>
  buildOrder({
    orderId: `r-${String(index).padStart(3, '0')}`,
    orderedAt: `2023-0${(index % 3) + 1}-1${index % 10}T12:00:00.000Z`,
    items: [
      { itemid: `item-${index % 4}`, quantity: index + 1 },
      { itemid: 'common', quantity: 1 },
    ],
  }),
);

describe('rebuildReadModel', () => {
  it('rebuilds a corrupted read model into exactly the projection of the orders table', async () => {
    // Prepare: the live projection, then damage.
    await projectOrders(db.pool, orders);
    const expected = await snapshotReadModel(db.pool);
    await db.pool.query("UPDATE item_totals SET total_ordered = 999 WHERE item_id = 'common'");
    await db.pool.query('DELETE FROM item_monthly_totals LIMIT 2');

    // Act
    const progress = await rebuildReadModel({ pool: db.pool, source: SOURCE, scan: ordersTable(orders, 10).scan });

    // Assess
    expect(progress).toEqual({ stage: 'done', scanned: 45, projected: 45, malformed: 0, caughtUp: 0 });
    expect(await snapshotReadModel(db.pool)).toEqual(expected);
    expect(await tableExists(REBUILD_TABLES.orders)).toBe(false);
    expect(await tableExists(RETIRED_TABLES.orders)).toBe(false);
  });

  it('is idempotent: running it again changes nothing', async () => {
    const before = await snapshotReadModel(db.pool);
    await rebuildReadModel({ pool: db.pool, source: SOURCE, scan: ordersTable(orders, 7).scan });
    expect(await snapshotReadModel(db.pool)).toEqual(before);
  });

  it('resumes where it stopped, and keeps the orders projected live meanwhile', async () => {
    // Prepare
    const before = await snapshotReadModel(db.pool);
    const { scan } = ordersTable(orders, 10);
    let pages = 0;

    // Act: stop after two pages...
    const partial = await rebuildReadModel({ pool: db.pool, source: SOURCE, scan, keepGoing: () => pages++ < 2 });
    // ...an order arrives through the live projection...
    const late = buildOrder({ orderId: 'late-1', orderedAt: '2023-04-01T00:00:00.000Z', items: [{ itemid: 'common', quantity: 100 }] });
    await projectOrders(db.pool, [late]);
    // ...and the next run continues from the saved cursor.
    const resumed = await rebuildReadModel({ pool: db.pool, source: SOURCE, scan });

    // Assess
    expect(partial).toEqual({ stage: 'scanning', scanned: 20, projected: 20, malformed: 0, caughtUp: 0 });
    expect(resumed).toEqual({ stage: 'done', scanned: 45, projected: 45, malformed: 0, caughtUp: 1 });
    const after = await snapshotReadModel(db.pool);
    expect((after.orders as unknown[]).length).toBe((before.orders as unknown[]).length + 1);
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 'common')?.totalordered).toBe(145);
    expect(await monthlySalesByItem(db.pool, 'common')).toEqual([
      { monthyear: 'April 2023', monthlyordered: 100 },
      { monthyear: 'March 2023', monthlyordered: 15 },
      { monthyear: 'February 2023', monthlyordered: 15 },
      { monthyear: 'January 2023', monthlyordered: 15 },
    ]);
  });

  it('finishes a swap that stopped after the rename', async () => {
    // Prepare: the state a crash right after RENAME TABLE leaves behind.
    const all = [...orders, buildOrder({ orderId: 'late-1', orderedAt: '2023-04-01T00:00:00.000Z', items: [{ itemid: 'common', quantity: 100 }] })];
    const before = await snapshotReadModel(db.pool);
    await rebuildReadModel({ pool: db.pool, source: SOURCE, scan: ordersTable(all, 50).scan, keepGoing: () => false });
    await db.pool.query(
      `RENAME TABLE ${READ_MODEL_TABLE_KEYS.map(
        (key) => `${READ_MODEL_TABLES[key]} TO ${RETIRED_TABLES[key]}, ${REBUILD_TABLES[key]} TO ${READ_MODEL_TABLES[key]}`,
      ).join(', ')}`,
    );

    // Act
    const progress = await rebuildReadModel({ pool: db.pool, source: SOURCE, scan: ordersTable(all, 50).scan });

    // Assess: the empty rebuilt tables got every order back from the retired ones.
    expect(progress.stage).toBe('done');
    expect(await snapshotReadModel(db.pool)).toEqual(before);
    expect(await tableExists(RETIRED_TABLES.orders)).toBe(false);
  });

  it('skips and counts items that are not valid orders', async () => {
    const { scan, items } = ordersTable(orders.slice(0, 3), 10);
    items.push({ orderid: { S: 'broken' }, orderedAt: { S: 'never' }, items: { L: [] } });
    const progress = await rebuildReadModel({ pool: db.pool, source: SOURCE, scan, restart: true });
    expect(progress).toMatchObject({ stage: 'done', scanned: 4, projected: 3, malformed: 1 });
  });

  it.each([
    ['another orders table', async () => ({ source: `${SOURCE} (made again)` })],
    [
      'a read model made again',
      async () => {
        await db.pool.query("UPDATE read_model_generation SET generation = REPEAT('a', 32) WHERE id = 1");
        return { source: SOURCE };
      },
    ],
    [
      'a read model whose rebuild tables were dropped',
      async () => {
        await db.pool.query(`DROP TABLE ${Object.values(REBUILD_TABLES).join(', ')}`);
        return { source: SOURCE };
      },
    ],
  ])('starts over, and says why, when the saved state belongs to %s', async (_case, change) => {
    // Prepare: a rebuild stopped half-way over a table holding an order that is then gone from it.
    const before = await snapshotReadModel(db.pool);
    const gone = buildOrder({ orderId: 'gone-1', orderedAt: '2023-05-01T00:00:00.000Z', items: [{ itemid: 'common', quantity: 7 }] });
    let pages = 0;
    await rebuildReadModel({ pool: db.pool, source: SOURCE, scan: ordersTable([gone, ...orders], 10).scan, keepGoing: () => pages++ < 2, restart: true });
    const { source } = await change();

    // Act: resume over the table as it is now.
    const resumed = await rebuildReadModel({ pool: db.pool, source, scan: ordersTable(orders, 10).scan });

    // Assess: the stale half-rebuild discarded (gone-1 not brought back); the read model as before
    // (the table's 45 orders, and late-1 of an earlier test, projected live within the catch-up's window).
    expect(resumed).toMatchObject({ stage: 'done', scanned: 45, projected: 45 });
    expect(resumed.restarted).toMatch(/another orders table|made again|tables are gone/);
    expect(await snapshotReadModel(db.pool)).toEqual(before);
    const [rows] = await db.pool.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM orders WHERE order_id = 'gone-1'");
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('never answers with fewer orders or lower totals than before, while orders keep arriving through the rebuild and its swap', async () => {
    // Prepare: a fresh read model with 300 orders, a table that grows while the rebuild scans it, a second pool that polls as queries do.
    for (const table of Object.values(READ_MODEL_TABLES)) await db.pool.query('TRUNCATE TABLE ??', [table]);
    const table: Order[] = Array.from({ length: 300 }, (_, index) =>
      buildOrder({ orderId: `base-${index}`, orderedAt: '2023-06-01T00:00:00.000Z', items: [{ itemid: `i-${index % 7}`, quantity: 1 + (index % 3) }] }),
    );
    await projectOrders(db.pool, table);
    const growing: ScanOrders = async (cursor) => {
      const start = cursor ? Number(cursor.position?.N) : 0;
      const items = table.slice(start, start + 40).map(orderToItem);
      const next = start + items.length;
      return { items, ...(next < table.length ? { next: { position: { N: String(next) } } } : {}) };
    };
    const poller: Pool = createPool({ ...(await connectionOptions(db.settings, db.credentials)), connectionLimit: 1 });
    let stop = false;
    let live = 0;
    const writer = async (lane: number) => {
      for (let n = 0; !stop; n++) {
        const order = buildOrder({
          orderId: `live-${lane}-${n}`,
          orderedAt: '2023-07-01T00:00:00.000Z',
          items: [{ itemid: `i-${n % 7}`, quantity: 1 + (n % 4) }],
        });
        table.push(order); // the write to DynamoDB comes first...
        await projectOrders(db.pool, [order]); // ...then its projection
        live++;
      }
    };
    const seen: { orders: number; total: number }[] = [];
    const poll = async () => {
      while (!stop) {
        const [[counted]] = await poller.query<RowDataPacket[]>(
          'SELECT (SELECT COUNT(*) FROM orders) AS orders, (SELECT COALESCE(SUM(total_ordered), 0) FROM item_totals) AS total',
        );
        seen.push({ orders: Number(counted?.orders), total: Number(counted?.total) });
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };

    // Act: three rebuilds in a row under the traffic.
    const running = [writer(1), writer(2), poll()];
    const progress = [];
    for (let round = 0; round < 3; round++) progress.push(await rebuildReadModel({ pool: db.pool, source: SOURCE, scan: growing, restart: true }));
    stop = true;
    await Promise.all(running);
    await poller.end();

    // Assess: every answer at least the one before it; the end state exactly the table's projection.
    const drops = seen.filter(
      (sample, index) => index > 0 && (sample.orders < (seen[index - 1] as typeof sample).orders || sample.total < (seen[index - 1] as typeof sample).total),
    );
    expect(drops).toEqual([]);
    expect(progress.map((step) => step.stage)).toEqual(['done', 'done', 'done']);
    expect(live).toBeGreaterThan(0);
    const expectedTotal = table.reduce((sum, order) => sum + order.items.reduce((lines, line) => lines + line.quantity, 0), 0);
    const [[final]] = await db.pool.query<RowDataPacket[]>(
      'SELECT (SELECT COUNT(*) FROM orders) AS orders, (SELECT SUM(total_ordered) FROM item_totals) AS total',
    );
    expect({ orders: Number(final?.orders), total: Number(final?.total) }).toEqual({ orders: table.length, total: expectedTotal });
    expect(seen.length).toBeGreaterThan(10);
  }, 120_000);

  it('reconciles exactly with an orders table holding cancelled orders, cancels made live during the rebuild included', async () => {
    // Prepare: a third of the orders cancelled in the table; the live read model lags (it has none of the cancels).
    const cancel = (order: Order): Order => ({ ...order, status: 'cancelled', revision: 2 });
    const table = orders.map((order, index) => (index % 3 === 0 ? cancel(order) : order));
    const db2 = await createTestDatabase('rebuild_cancels');
    try {
      await projectOrders(db2.pool, orders);
      const { scan, items } = ordersTable(table, 10);
      // Stop half-way; meanwhile the live projection applies two more cancels (one the scan already read as created).
      let pages = 0;
      await rebuildReadModel({ pool: db2.pool, source: SOURCE, scan, keepGoing: () => pages++ < 2 });
      const liveCancels = [table[1] as Order, table[40] as Order].map(cancel);
      await projectOrders(db2.pool, liveCancels);
      for (const order of liveCancels) items[orders.findIndex((o) => o.orderId === order.orderId)] = orderToItem(order);

      // Act
      const progress = await rebuildReadModel({ pool: db2.pool, source: SOURCE, scan });

      // Assess
      expect(progress.stage).toBe('done');
      const final = table.map((order) => liveCancels.find((c) => c.orderId === order.orderId) ?? order);
      expect(final.filter((order) => order.status === 'cancelled')).toHaveLength(17);
      expect(await readAggregates(db2.pool)).toEqual(expectedAggregates(final, statusCounts));
      const [statuses] = await db2.pool.query<RowDataPacket[]>('SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status');
      expect(statuses.map((row) => [String(row.status), Number(row.n)])).toEqual([
        ['cancelled', 17],
        ['created', 28],
      ]);
    } finally {
      await db2.drop();
    }
  });

  it('stops with an error naming its saved state when another run removes it meanwhile, never reading a missing row', async () => {
    // Prepare: a pool on which the saved state goes right after this run writes it (another rebuild finished and deleted it).
    const stateTable = BOOKKEEPING_TABLES.rebuildState;
    const racing = new Proxy(db.pool, {
      get(target, property) {
        if (property !== 'query') return Reflect.get(target, property, target) as unknown;
        return async (sql: string, values?: unknown[]) => {
          const result = await target.query(sql, values);
          if (sql.startsWith('REPLACE INTO')) await target.query('DELETE FROM ?? WHERE id = 1', [stateTable]);
          return result;
        };
      },
    });

    // Act
    const run = rebuildReadModel({ pool: racing, source: SOURCE, scan: ordersTable(orders, 50).scan, restart: true });

    // Assess
    await expect(run).rejects.toThrow(
      `the rebuild's saved state (${stateTable}) is gone: another rebuild finished or discarded it while this one ran; run it again`,
    );
  });
});
