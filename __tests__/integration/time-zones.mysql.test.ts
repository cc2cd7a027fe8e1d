/**
 * The read model's timestamps do not depend on the server's or the session's
 * time zone: a rebuild keeps the orders projected live meanwhile on servers
 * whose default zone is not UTC (a private MariaDB/MySQL started at -08:00
 * and +05:30, as a hostile run found: 42 orders lost at -08:00).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConnection, createPool, type Pool } from 'mysql2/promise';
import { orderToItem } from '../../handlers/domain/order';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { loadMigrations, migrate } from '../../handlers/read-model/migrations';
import { projectOrders } from '../../handlers/read-model/read-model-writer';
import { rebuildReadModel, type ScanOrders } from '../../handlers/read-model/rebuild';
import { useReadCommitted } from '../../handlers/shared/db';
import { PrivateDatabase } from '../../local/mysql';
import { buildOrder } from '../helpers/factories';

const zones = ['-08:00', '+05:30'] as const;
const servers = new Map<string, PrivateDatabase>();

beforeAll(async () => {
  for (const zone of zones) servers.set(zone, await PrivateDatabase.create(undefined, { serverArgs: [`--default-time-zone=${zone}`] }));
}, 120_000);

afterAll(async () => {
  for (const server of servers.values()) await server.destroy();
});

async function readModelOn(zone: string): Promise<Pool> {
  const server = servers.get(zone) as PrivateDatabase;
  const setup = await createConnection({ host: '127.0.0.1', port: server.port, user: 'root', multipleStatements: true });
  await setup.query('CREATE DATABASE IF NOT EXISTS orders CHARACTER SET utf8mb4 COLLATE utf8mb4_bin');
  await setup.query('USE orders');
  await migrate(setup, await loadMigrations());
  await setup.end();
  return useReadCommitted(
    createPool({ host: '127.0.0.1', port: server.port, user: 'root', database: 'orders', dateStrings: true, timezone: 'Z', connectionLimit: 2 }),
  );
}

describe.each(zones)('a read model on a server at %s', (zone) => {
  it('stamps projections in UTC and keeps the orders projected live during a rebuild', async () => {
    // Prepare: the server's own zone is not UTC.
    const pool = await readModelOn(zone);
    try {
      const [[server]] = (await pool.query('SELECT @@global.time_zone AS zone')) as unknown as [{ zone: string }[]];
      expect(server?.zone).toBe(zone);
      const orders = Array.from({ length: 30 }, (_, index) =>
        buildOrder({ orderId: `tz-${index}`, orderedAt: '2023-01-15T23:30:00.000Z', items: [{ itemid: 'tz-item', quantity: 1 }] }),
      );
      await projectOrders(pool, orders);
      const items = orders.map(orderToItem);
      const scan: ScanOrders = async (cursor) => {
        const start = cursor ? Number(cursor.position?.N) : 0;
        return { items: items.slice(start, start + 10), ...(start + 10 < items.length ? { next: { position: { N: String(start + 10) } } } : {}) };
      };

      // Act: a rebuild stops after a page, orders arrive live, the rebuild finishes.
      let pages = 0;
      await rebuildReadModel({ pool, source: 'orders', scan, keepGoing: () => pages++ < 1 });
      const late = Array.from({ length: 42 }, (_, index) =>
        buildOrder({ orderId: `late-${index}`, orderedAt: '2023-02-01T00:00:00.000Z', items: [{ itemid: 'tz-item', quantity: 1 }] }),
      );
      await projectOrders(pool, late);
      const done = await rebuildReadModel({ pool, source: 'orders', scan });

      // Assess: every live order caught up, totals exact, projected_at within a minute of UTC now.
      expect(done).toMatchObject({ stage: 'done', scanned: 30, caughtUp: 42 });
      expect((await itemsSalesReport(pool)).find((row) => row.itemid === 'tz-item')?.totalordered).toBe(72);
      const [[stamp]] = (await pool.query(
        "SELECT TIMESTAMPDIFF(SECOND, MAX(projected_at), UTC_TIMESTAMP(3)) AS behind FROM orders WHERE order_id LIKE 'late-%'",
      )) as unknown as [{ behind: number }[]];
      expect(Math.abs(Number(stamp?.behind))).toBeLessThan(60);
      // An order's date is its UTC date whatever the zone: 23:30 UTC on the 15th stays the 15th.
      const [[line]] = (await pool.query("SELECT DATE_FORMAT(ordered_at, '%Y-%m-%d %H:%i') AS at FROM orders WHERE order_id = 'tz-0'")) as unknown as [
        { at: string }[],
      ];
      expect(line?.at).toBe('2023-01-15 23:30');
    } finally {
      await pool.end();
    }
  }, 60_000);
});
