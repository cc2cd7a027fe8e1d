/**
 * Orders that change, in the read model (MariaDB/MySQL at DB_URL, a database
 * of its own): a cancel takes an order's lines away from every total exactly,
 * once, in any arrival order, in a constant number of statements per batch.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { statusCounts } from '../../handlers/commands/registry';
import type { Order } from '../../handlers/domain/order';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { monthlySalesByItem } from '../../handlers/queries/monthly-sales-by-item';
import { orderDetails } from '../../handlers/queries/order-details';
import { projectOrders } from '../../handlers/read-model/read-model-writer';
import { truncateReadModel } from '../helpers/mysql';
import { buildOrder } from '../helpers/factories';
import { countingPool, createTestDatabase, expectedAggregates, readAggregates, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('order_changes');
});

afterAll(async () => {
  await db.drop();
});

const cancelled = (order: Order): Order => ({ ...order, status: 'cancelled', revision: order.revision + 1 });

async function reset(): Promise<void> {
  const connection = await db.connect();
  try {
    await truncateReadModel(connection);
  } finally {
    await connection.end();
  }
}

describe('a cancel in the read model', () => {
  it('takes the order away from every total, gives the item its previous last order date, and keeps the order with its lines', async () => {
    // Prepare: two orders of one item on two days of two months, and another item only in the later one.
    await reset();
    const early = buildOrder({ orderId: 'c-early', orderedAt: '2022-09-30T23:59:59.999Z', items: [{ itemid: 'kept', quantity: 2 }] });
    const late = buildOrder({
      orderId: 'c-late',
      orderedAt: '2022-10-13T19:00:00.000Z',
      items: [
        { itemid: 'kept', quantity: 5 },
        { itemid: 'gone', quantity: 3 },
      ],
    });
    await projectOrders(db.pool, [early, late]);

    // Act
    expect(await projectOrders(db.pool, [cancelled(late)])).toEqual(['projected']);

    // Assess
    expect(await itemsSalesReport(db.pool)).toEqual([{ itemid: 'kept', totalordered: 2, lastorderdate: '2022-09-30' }]);
    expect(await monthlySalesByItem(db.pool, 'kept')).toEqual([{ monthyear: 'September 2022', monthlyordered: 2 }]);
    expect(await monthlySalesByItem(db.pool, 'gone')).toEqual([]);
    expect(await orderDetails(db.pool, 'c-late')).toEqual({
      status: 'cancelled',
      lines: [
        { itemid: 'kept', quantity: 5, orderdate: '2022-10-13', lineNo: 1 },
        { itemid: 'gone', quantity: 3, orderdate: '2022-10-13', lineNo: 2 },
      ],
    });
    expect(await orderDetails(db.pool, 'c-early')).toMatchObject({ status: 'created' });
    expect(await readAggregates(db.pool)).toEqual(expectedAggregates([early, cancelled(late)], statusCounts));
  });

  it('keeps the last order date when another order of the same day still counts', async () => {
    await reset();
    const a = buildOrder({ orderId: 'same-a', orderedAt: '2023-01-05T08:00:00.000Z', items: [{ itemid: 'day', quantity: 1 }] });
    const b = buildOrder({ orderId: 'same-b', orderedAt: '2023-01-05T20:00:00.000Z', items: [{ itemid: 'day', quantity: 4 }] });
    await projectOrders(db.pool, [a, b]);
    await projectOrders(db.pool, [cancelled(b)]);
    expect(await itemsSalesReport(db.pool)).toEqual([{ itemid: 'day', totalordered: 1, lastorderdate: '2023-01-05' }]);
  });

  it('applies a re-delivered cancel once, from the read model alone (no idempotency store)', async () => {
    await reset();
    const order = buildOrder({
      orderId: 'redeliver',
      items: [
        { itemid: 'r', quantity: 7 },
        { itemid: 's', quantity: 1 },
      ],
    });
    const other = buildOrder({ orderId: 'redeliver-other', items: [{ itemid: 'r', quantity: 1 }] });
    await projectOrders(db.pool, [order, other]);
    expect(await projectOrders(db.pool, [cancelled(order)])).toEqual(['projected']);
    expect(await projectOrders(db.pool, [cancelled(order), cancelled(order)])).toEqual(['alreadyProjected', 'alreadyProjected']);
    // A late copy of the create changes nothing either: the read model keeps the highest revision.
    expect(await projectOrders(db.pool, [order])).toEqual(['alreadyProjected']);
    expect(await readAggregates(db.pool)).toEqual(expectedAggregates([cancelled(order), other], statusCounts));
  });

  it('ends exact when the cancel arrives before its create, or in the same batch, in either order', async () => {
    await reset();
    const first = buildOrder({ orderId: 'ooo-1', items: [{ itemid: 'o', quantity: 3 }] });
    const second = buildOrder({ orderId: 'ooo-2', items: [{ itemid: 'o', quantity: 4 }] });
    const third = buildOrder({ orderId: 'ooo-3', orderedAt: '2021-01-01T00:00:00.000Z', items: [{ itemid: 'o', quantity: 5 }] });
    // A rebuild or a redrive can project the cancel first.
    expect(await projectOrders(db.pool, [cancelled(first)])).toEqual(['projected']);
    expect(await projectOrders(db.pool, [first])).toEqual(['alreadyProjected']);
    expect(await projectOrders(db.pool, [cancelled(second), second])).toEqual(['projected', 'alreadyProjected']);
    expect(await projectOrders(db.pool, [third, cancelled(third)])).toEqual(['alreadyProjected', 'projected']);
    expect(await itemsSalesReport(db.pool)).toEqual([]);
    expect(await orderDetails(db.pool, 'ooo-1')).toMatchObject({ status: 'cancelled', lines: [{ itemid: 'o', quantity: 3 }] });
    expect(await readAggregates(db.pool)).toEqual({ items: [], months: [], days: [] });
  });

  it('refuses a batch whose totals are out of step with its orders, and leaves the read model as it was', async () => {
    await reset();
    const order = buildOrder({ orderId: 'drift', items: [{ itemid: 'drift', quantity: 2 }] });
    await projectOrders(db.pool, [order]);
    await db.pool.query('DELETE FROM item_monthly_totals WHERE item_id = ?', ['drift']);
    await expect(projectOrders(db.pool, [cancelled(order)])).rejects.toThrow('item_monthly_totals: 1 of 1 totals to reduce were missing');
    expect(await orderDetails(db.pool, 'drift')).toMatchObject({ status: 'created' });
    expect(await itemsSalesReport(db.pool)).toEqual([{ itemid: 'drift', totalordered: 2, lastorderdate: '2022-10-13' }]);
  });
});

describe('statements per batch', () => {
  it('stay constant whatever the number of cancels, creates and replays in a batch', async () => {
    // Prepare
    await reset();
    const orders = (count: number, tag: string) =>
      Array.from({ length: count }, (_, index) =>
        buildOrder({
          orderId: `${tag}-${index}`,
          orderedAt: `2022-0${1 + (index % 9)}-1${index % 10}T10:00:00.000Z`,
          items: [
            { itemid: `${tag}-${index % 40}`, quantity: 1 + (index % 3) },
            { itemid: `${tag}-x`, quantity: 2 },
          ],
        }),
      );
    const small = orders(3, 'small');
    const large = orders(1000, 'large');
    await projectOrders(db.pool, [...small, ...large]);
    const counts: Record<string, number> = {};
    const measure = async (name: string, batch: Order[]) => {
      const counting = countingPool(db.pool);
      await projectOrders(counting.pool, batch);
      counts[name] = counting.statements();
    };

    // Act
    await measure('3 cancels', small.map(cancelled));
    await measure('500 cancels', large.slice(0, 500).map(cancelled));
    await measure('500 cancels, 500 creates, 500 replays', [
      ...large.slice(500).map(cancelled),
      ...orders(500, 'mixed'),
      ...large.slice(0, 500).map(cancelled),
    ]);

    // Assess: transaction (2), orders, read-back, status change, 3 subtractions, 3 deletions, last dates = 12; with new orders, their lines and 3 additions = 16.
    expect(counts).toEqual({ '3 cancels': 12, '500 cancels': 12, '500 cancels, 500 creates, 500 replays': 16 });
    const final = [...small.map(cancelled), ...large.map(cancelled), ...orders(500, 'mixed')];
    expect(await readAggregates(db.pool)).toEqual(expectedAggregates(final, statusCounts));
  });
});
