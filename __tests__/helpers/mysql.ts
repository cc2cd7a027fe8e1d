import { READ_MODEL_TABLE_KEYS, READ_MODEL_TABLES, type ReadModelTables } from '../../config/read-model-tables';
import { randomBytes } from 'node:crypto';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { loadMigrations, migrate } from '../../handlers/read-model/migrations';
import { allRoleUserNames } from '../../handlers/read-model/users';
import { connectionOptions, useReadCommitted, type DbSettings } from '../../handlers/shared/db';

/** The server tests use: `DB_URL`, default `mysql://root@127.0.0.1:3306`. */
export function serverUrl(): URL {
  return new URL(process.env.DB_URL ?? 'mysql://root@127.0.0.1:3306');
}

/** The server `DB_URL` names and its administrator: what a test's own connection or pool connects with. */
export function adminSettings(): { host: string; port: number; user: string; password: string } {
  const url = serverUrl();
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
}

/** A connection as the administrator `DB_URL` names, to its server (no database unless `options` names one). */
export function adminConnection(options: { database?: string; multipleStatements?: boolean } = {}): Promise<Connection> {
  return createConnection({ ...adminSettings(), ...options });
}

/** A database of its own for one test file, dropped by `drop()`. */
export interface TestDatabase {
  readonly name: string;
  readonly settings: DbSettings;
  readonly credentials: { username: string; password: string };
  readonly pool: Pool;
  /** A fresh single connection (multiple statements allowed). */
  connect(): Promise<Connection>;
  drop(): Promise<void>;
}

/** Creates `test_<prefix>_<random>`, optionally with the read-model schema applied. */
export async function createTestDatabase(prefix: string, options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const url = serverUrl();
  const name = `test_${prefix}_${randomBytes(4).toString('hex')}`;
  const settings: DbSettings = {
    host: url.hostname,
    port: Number(url.port || 3306),
    database: name,
    tls: false,
    connectionLimit: 4,
  };
  const credentials = { username: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
  const connectionSettings = await connectionOptions(settings, credentials);
  const admin = await createConnection({ ...connectionSettings, database: undefined });
  await admin.query('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [name]);
  await admin.end();

  const connect = () => createConnection({ ...connectionSettings, multipleStatements: true });
  if (options.migrate !== false) {
    const connection = await connect();
    await migrate(connection, await loadMigrations());
    await connection.end();
  }
  const pool = useReadCommitted(createPool({ ...connectionSettings, connectionLimit: 4 }));
  return {
    name,
    settings,
    credentials,
    pool,
    connect,
    async drop() {
      await pool.end();
      const cleanup = await createConnection({ ...connectionSettings, database: undefined });
      await cleanup.query('DROP DATABASE IF EXISTS ??', [name]);
      await cleanup.end();
    },
  };
}

/** Reads every read-model table, ordered, for before/after comparisons. */
export async function snapshotReadModel(pool: Pool, tables: ReadModelTables = READ_MODEL_TABLES) {
  const [orders] = await pool.query('SELECT order_id, ordered_at, content_hash, line_count, status, revision FROM ?? ORDER BY order_id', [tables.orders]);
  const [lines] = await pool.query('SELECT * FROM ?? ORDER BY order_id, line_no', [tables.orderLines]);
  const [totals] = await pool.query('SELECT * FROM ?? ORDER BY item_id', [tables.itemTotals]);
  const [months] = await pool.query('SELECT * FROM ?? ORDER BY item_id, month_start', [tables.itemMonthlyTotals]);
  const [days] = await pool.query('SELECT * FROM ?? ORDER BY item_id, order_date', [tables.itemDailyTotals]);
  return { orders, lines, totals, months, days };
}

/** The read model's aggregates as plain rows: `[item, total, last date]`, `[item, month, total]`, `[item, day, total]`, in key order. */
export async function readAggregates(pool: Pool, tables: ReadModelTables = READ_MODEL_TABLES) {
  const rows = async (sql: string, table: string) =>
    ((await pool.query(sql, [table]))[0] as Record<string, unknown>[]).map((row) =>
      Object.values(row).map((value) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value)),
    );
  return {
    items: await rows("SELECT item_id, total_ordered, DATE_FORMAT(last_order_date, '%Y-%m-%d') FROM ?? ORDER BY item_id", tables.itemTotals),
    months: await rows("SELECT item_id, DATE_FORMAT(month_start, '%Y-%m-%d'), monthly_ordered FROM ?? ORDER BY item_id, month_start", tables.itemMonthlyTotals),
    days: await rows("SELECT item_id, DATE_FORMAT(order_date, '%Y-%m-%d'), daily_ordered FROM ?? ORDER BY item_id, order_date", tables.itemDailyTotals),
  };
}

/**
 * The aggregates recomputed from scratch from orders in their final states
 * (what the read model must hold): only orders whose status counts, a total
 * per item with its latest order date, per month and per day; no zero rows.
 */
export function expectedAggregates(
  orders: readonly { orderedAt: string; status: string; items: readonly { itemid: string; quantity: number }[] }[],
  counts: (status: string) => boolean,
) {
  const items = new Map<string, [string, number, string]>();
  const months = new Map<string, [string, string, number]>();
  const days = new Map<string, [string, string, number]>();
  for (const order of orders) {
    if (!counts(order.status)) continue;
    const day = order.orderedAt.slice(0, 10);
    const month = `${order.orderedAt.slice(0, 7)}-01`;
    for (const { itemid, quantity } of order.items) {
      const item = items.get(itemid) ?? [itemid, 0, day];
      items.set(itemid, [itemid, item[1] + quantity, day > item[2] ? day : item[2]]);
      const m = months.get(`${itemid}\u0000${month}`) ?? [itemid, month, 0];
      months.set(`${itemid}\u0000${month}`, [itemid, month, m[2] + quantity]);
      const d = days.get(`${itemid}\u0000${day}`) ?? [itemid, day, 0];
      days.set(`${itemid}\u0000${day}`, [itemid, day, d[2] + quantity]);
    }
  }
  const byKey = <T extends unknown[]>(map: Map<string, T>) =>
    [...map.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map(([, row]) => row);
  return { items: byKey(items), months: byKey(months), days: byKey(days) };
}

/** Drops a read-model database and the role users init-schema made for it. */
export async function dropReadModel(admin: Connection, database: string): Promise<void> {
  await admin.query('DROP DATABASE IF EXISTS ??', [database]);
  for (const user of allRoleUserNames(database)) await admin.query('DROP USER IF EXISTS ?@?', [user, '%']);
}

/** Drops a read-model database and its role users over an admin connection of its own, on the server at DB_URL. */
export async function dropReadModelDatabase(database: string): Promise<void> {
  const admin = await adminConnection();
  try {
    await dropReadModel(admin, database);
  } finally {
    await admin.end();
  }
}

/** Empties the read model's tables (between the runs of a property). */
export async function truncateReadModel(connection: Connection, tables: ReadModelTables = READ_MODEL_TABLES): Promise<void> {
  for (const key of READ_MODEL_TABLE_KEYS) await connection.query('TRUNCATE TABLE ??', [tables[key]]);
}

/** A pool whose connections count the statements they send. */
export function countingPool(pool: Pool): { pool: Pool; statements: () => number } {
  let count = 0;
  const proxy = new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== 'getConnection') return Reflect.get(target, property, receiver) as unknown;
      return async () => {
        const connection = await target.getConnection();
        return new Proxy(connection, {
          get(inner, name, innerReceiver) {
            const value = Reflect.get(inner, name, innerReceiver) as unknown;
            if (typeof value !== 'function') return value;
            const method = value as (...args: unknown[]) => unknown;
            if (name !== 'query') return method.bind(inner);
            return (...args: unknown[]) => {
              count++;
              return method.apply(inner, args);
            };
          },
        });
      };
    },
  });
  return { pool: proxy, statements: () => count };
}
