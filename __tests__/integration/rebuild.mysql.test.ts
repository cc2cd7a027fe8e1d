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
import { READ_MODEL_TABLES } from '../../handlers/read-model/tables';
import { buildOrder } from '../helpers/factories';
import { createTestDatabase, snapshotReadModel, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;

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
    items: [{ itemid: `item-${index % 4}`, quantity: index + 1 }, { itemid: 'common', quantity: 1 }],
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
    const progress = await rebuildReadModel({ pool: db.pool, scan: ordersTable(orders, 10).scan });

    // Assess
    expect(progress).toEqual({ stage: 'done', scanned: 45, projected: 45, malformed: 0, caughtUp: 0 });
    expect(await snapshotReadModel(db.pool)).toEqual(expected);
    expect(await tableExists(REBUILD_TABLES.orders)).toBe(false);
    expect(await tableExists(RETIRED_TABLES.orders)).toBe(false);
  });

  it('is idempotent: running it again changes nothing', async () => {
    const before = await snapshotReadModel(db.pool);
    await rebuildReadModel({ pool: db.pool, scan: ordersTable(orders, 7).scan });
    expect(await snapshotReadModel(db.pool)).toEqual(before);
  });

  it('resumes where it stopped, and keeps the orders projected live meanwhile', async () => {
    // Prepare
    const before = await snapshotReadModel(db.pool);
    const { scan } = ordersTable(orders, 10);
    let pages = 0;

    // Act: stop after two pages...
    const partial = await rebuildReadModel({ pool: db.pool, scan, keepGoing: () => pages++ < 2 });
    // ...an order arrives through the live projection...
    const late = buildOrder({ orderId: 'late-1', orderedAt: '2023-04-01T00:00:00.000Z', items: [{ itemid: 'common', quantity: 100 }] });
    await projectOrders(db.pool, [late]);
    // ...and the next run continues from the saved cursor.
    const resumed = await rebuildReadModel({ pool: db.pool, scan });

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
    await rebuildReadModel({ pool: db.pool, scan: ordersTable(all, 50).scan, keepGoing: () => false });
    await db.pool.query(
      `RENAME TABLE ${(['orders', 'orderLines', 'itemTotals', 'itemMonthlyTotals'] as const)
        .map((key) => `${READ_MODEL_TABLES[key]} TO ${RETIRED_TABLES[key]}, ${REBUILD_TABLES[key]} TO ${READ_MODEL_TABLES[key]}`)
        .join(', ')}`,
    );

    // Act
    const progress = await rebuildReadModel({ pool: db.pool, scan: ordersTable(all, 50).scan });

    // Assess: the empty rebuilt tables got every order back from the retired ones.
    expect(progress.stage).toBe('done');
    expect(await snapshotReadModel(db.pool)).toEqual(before);
    expect(await tableExists(RETIRED_TABLES.orders)).toBe(false);
  });

  it('skips and counts items that are not valid orders', async () => {
    const { scan, items } = ordersTable(orders.slice(0, 3), 10);
    items.push({ orderid: { S: 'broken' }, orderedAt: { S: 'never' }, items: { L: [] } });
    const progress = await rebuildReadModel({ pool: db.pool, scan, restart: true });
    expect(progress).toMatchObject({ stage: 'done', scanned: 4, projected: 3, malformed: 1 });
  });
});
