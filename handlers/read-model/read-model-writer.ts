import { randomBytes } from 'node:crypto';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { statusCounts } from '../commands/registry';
import { orderToRows, type Order } from '../domain/order';
import { ReadModelWriteError } from './errors';
import { READ_MODEL_TABLES, type ReadModelTables } from '../../config/read-model-tables';

/** `UTC_TIMESTAMP(3)` as a value of a multi-row insert (mysql2 writes an object's `toSqlString` as SQL). */
const UTC_NOW = { toSqlString: () => 'UTC_TIMESTAMP(3)' };

/** What projecting one order (at one revision) did. */
export type ProjectionOutcome =
  /** Newly written or changed to this revision, aggregates updated. */
  | 'projected'
  /** Already in the read model at this revision or a later one, same content: nothing changed. */
  | 'alreadyProjected'
  /** Already in the read model with different content: nothing changed. */
  | 'conflict';

/** Something that can log a cleanup failure without throwing. */
export interface WarnLogger {
  warn(message: string, ...extra: unknown[]): void;
}

const RETRYABLE_ERRNOS = new Set([1205 /* lock wait timeout */, 1213 /* deadlock */]);
const MAX_ATTEMPTS = 3;

interface StoredOrderRow extends RowDataPacket {
  order_id: string;
  content_hash: string;
  projection_id: string;
  status: string;
  revision: number;
}

/**
 * Projects a batch of order states (an order at a revision: created, or
 * changed by a command such as a cancel) in one transaction with a constant
 * number of statements, whatever the batch size. The read model keeps each
 * order at the highest revision it has seen, so re-deliveries and any arrival
 * order (a cancel before its create, as a rebuild or a redrive can produce)
 * end the same:
 *
 * 1. insert the orders, keeping any that already exist (the primary key is what
 *    refuses a second projection, even when the idempotency store forgot);
 * 2. only when some already existed, read back which rows this transaction
 *    wrote, and which stored ones are at a lower revision: those change;
 * 3. only when some change, write their new status and revision;
 * 4. insert the lines of the new orders (every order keeps its lines);
 * 5.–7. add the orders that start counting (new ones whose status counts, and
 *    changes into such a status) to the per-item, per-item-per-month and
 *    per-item-per-day totals;
 * 8.–13. only when some stop counting (a cancel of a counted order): take
 *    their lines away from the same totals, delete the totals that reach
 *    zero (an item with nothing left leaves the reports), and set each
 *    touched item's last order date to the latest day it still has: one
 *    primary-key lookup per item in `item_daily_totals`, never a scan of the
 *    item's orders.
 *
 * Rows are written in key order, so concurrent batches take locks in the same
 * order. Deadlocks and lock timeouts are retried; any other error rolls back
 * and is thrown, leaving the read model untouched. Returns one outcome per
 * input order, in input order.
 */
export async function projectOrders(
  pool: Pool,
  orders: readonly Order[],
  options: { tables?: ReadModelTables; logger?: WarnLogger } = {},
): Promise<ProjectionOutcome[]> {
  const tables = options.tables ?? READ_MODEL_TABLES;
  // Per order id, the highest revision in the batch is projected (the first
  // copy of it); the other copies are settled against it.
  const latestById = new Map<string, Order>();
  for (const order of orders) {
    const latest = latestById.get(order.orderId);
    if (!latest || order.revision > latest.revision) latestById.set(order.orderId, order);
  }
  const candidates = [...latestById.values()].sort((a, b) => compareKeys(a.orderId, b.orderId));
  if (candidates.length === 0) return [];

  for (let attempt = 1; ; attempt++) {
    const connection = await pool.getConnection();
    let broken = false;
    try {
      const written = await projectInTransaction(connection, candidates, tables);
      return orders.map((order) => {
        const latest = latestById.get(order.orderId) as Order;
        if (latest === order) return written.get(order.orderId) as ProjectionOutcome;
        return latest.contentHash === order.contentHash ? 'alreadyProjected' : 'conflict';
      });
    } catch (error) {
      // A lost connection (server restart, failover) must not go back to the pool.
      broken = (error as { fatal?: boolean }).fatal === true;
      if (!broken) {
        await connection.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = true;
          options.logger?.warn('rollback failed', { error: rollbackError });
        });
      }
      const errno = (error as { errno?: number }).errno;
      // The server's error, without the SQL text and parameters mysql2 attaches to it.
      if (errno === undefined || !RETRYABLE_ERRNOS.has(errno) || attempt >= MAX_ATTEMPTS)
        throw error instanceof Error && 'sql' in error ? new ReadModelWriteError(error) : error;
    } finally {
      if (broken) connection.destroy();
      else connection.release();
    }
  }
}

async function projectInTransaction(connection: PoolConnection, orders: readonly Order[], tables: ReadModelTables): Promise<Map<string, ProjectionOutcome>> {
  const budget = await statementBudget(connection);
  await connection.query('START TRANSACTION');
  const outcomes = await writeOrders(connection, orders, tables, budget);
  await connection.query('COMMIT');
  return outcomes;
}

/**
 * The statements of {@link projectOrders} on `connection`, in whatever
 * transaction the caller holds (the rebuild's final catch-up runs them under
 * `LOCK TABLES`, where `START TRANSACTION` would release the locks). `orders`
 * must be distinct and in key order.
 */
export async function writeOrders(
  connection: PoolConnection,
  orders: readonly Order[],
  tables: ReadModelTables,
  budget?: number,
): Promise<Map<string, ProjectionOutcome>> {
  budget ??= await statementBudget(connection);
  const projectionId = randomBytes(16).toString('hex');
  let duplicates = 0;
  // projected_at in UTC whatever the session's zone (the rebuild's catch-up compares it with UTC).
  const orderRows = (list: readonly Order[]) => list.map((order) => [...orderToRows(order).order, projectionId, UTC_NOW]);
  for (const chunk of chunksWithin(orderRows(orders), budget)) {
    const [inserted] = await connection.query<ResultSetHeader>(
      `INSERT INTO ?? (order_id, ordered_at, content_hash, line_count, status, revision, projection_id, projected_at) VALUES ?
       ON DUPLICATE KEY UPDATE order_id = order_id`,
      [tables.orders, chunk],
    );
    // The server reports "Records: n  Duplicates: d" for a multi-row INSERT.
    duplicates += Number(/\bDuplicates: (\d+)/.exec(inserted.info ?? '')?.[1] ?? 1);
  }

  const outcomes = new Map<string, ProjectionOutcome>();
  const fresh: Order[] = [];
  /** Stored orders this batch moves to a later revision, with the status they had. */
  const changed: { order: Order; from: string }[] = [];
  if (duplicates === 0) {
    // Every row was new: the usual case needs no read-back.
    for (const order of orders) outcomes.set(order.orderId, 'projected');
    fresh.push(...orders);
  } else {
    const [stored] = await connection.query<StoredOrderRow[]>('SELECT order_id, content_hash, projection_id, status, revision FROM ?? WHERE order_id IN (?)', [
      tables.orders,
      orders.map((order) => order.orderId),
    ]);
    const storedById = new Map(stored.map((row) => [row.order_id, row]));
    for (const order of orders) {
      const row = storedById.get(order.orderId);
      if (!row) throw new Error(`order ${order.orderId} was neither inserted nor found`);
      if (row.projection_id === projectionId) {
        fresh.push(order);
        outcomes.set(order.orderId, 'projected');
      } else if (row.content_hash !== order.contentHash) {
        outcomes.set(order.orderId, 'conflict');
      } else if (order.revision > row.revision) {
        changed.push({ order, from: row.status });
        outcomes.set(order.orderId, 'projected');
      } else {
        outcomes.set(order.orderId, 'alreadyProjected');
      }
    }
  }

  if (changed.length > 0) {
    // Every row exists: the insert only takes the update path, one statement for all of them.
    for (const chunk of chunksWithin(orderRows(changed.map(({ order }) => order)), budget)) {
      await connection.query(
        `INSERT INTO ?? (order_id, ordered_at, content_hash, line_count, status, revision, projection_id, projected_at) VALUES ?
         ON DUPLICATE KEY UPDATE status = VALUES(status), revision = VALUES(revision), projection_id = VALUES(projection_id), projected_at = VALUES(projected_at)`,
        [tables.orders, chunk],
      );
    }
  }
  for (const chunk of chunksWithin(
    fresh.flatMap((order) => orderToRows(order).lines),
    budget,
  )) {
    await connection.query('INSERT INTO ?? (order_id, line_no, item_id, quantity) VALUES ?', [tables.orderLines, chunk]);
  }

  const starting = [
    ...fresh.filter((order) => statusCounts(order.status)),
    ...changed.filter(({ order, from }) => !statusCounts(from) && statusCounts(order.status)).map(({ order }) => order),
  ];
  const stopping = changed.filter(({ order, from }) => statusCounts(from) && !statusCounts(order.status)).map(({ order }) => order);
  if (starting.length > 0) await addTotals(connection, aggregate(starting), tables, budget);
  if (stopping.length > 0) await subtractTotals(connection, aggregate(stopping), tables, budget);
  return outcomes;
}

/** Adds orders that start counting to the totals: the per-item last order date only moves forward. */
async function addTotals(connection: PoolConnection, totals: Totals, tables: ReadModelTables, budget: number): Promise<void> {
  for (const chunk of chunksWithin(totals.items, budget)) {
    await connection.query(
      `INSERT INTO ?? (item_id, total_ordered, last_order_date) VALUES ?
       ON DUPLICATE KEY UPDATE total_ordered = total_ordered + VALUES(total_ordered),
                               last_order_date = GREATEST(last_order_date, VALUES(last_order_date))`,
      [tables.itemTotals, chunk],
    );
  }
  for (const chunk of chunksWithin(totals.months, budget)) {
    await connection.query(
      `INSERT INTO ?? (item_id, month_start, monthly_ordered) VALUES ?
       ON DUPLICATE KEY UPDATE monthly_ordered = monthly_ordered + VALUES(monthly_ordered)`,
      [tables.itemMonthlyTotals, chunk],
    );
  }
  for (const chunk of chunksWithin(totals.days, budget)) {
    await connection.query(
      `INSERT INTO ?? (item_id, order_date, daily_ordered) VALUES ?
       ON DUPLICATE KEY UPDATE daily_ordered = daily_ordered + VALUES(daily_ordered)`,
      [tables.itemDailyTotals, chunk],
    );
  }
}

/**
 * Takes orders that stop counting away from the totals. Every row exists (the
 * orders were counted), so each multi-row insert only takes its update path;
 * a row that did not exist would mean totals out of step with the orders, and
 * the batch is refused rather than guessed at. Totals reaching zero are
 * deleted; each touched item's last order date becomes the latest day left.
 */
async function subtractTotals(connection: PoolConnection, totals: Totals, tables: ReadModelTables, budget: number): Promise<void> {
  const subtract = async (table: string, columns: string, total: string, rows: readonly (readonly unknown[])[]) => {
    for (const chunk of chunksWithin(rows, budget)) {
      const [result] = await connection.query<ResultSetHeader>(
        `INSERT INTO ?? (${columns}) VALUES ? ON DUPLICATE KEY UPDATE ${total} = ${total} - VALUES(${total})`,
        [table, chunk],
      );
      // ON DUPLICATE KEY UPDATE counts 2 per updated row and 1 per inserted one.
      if (result.affectedRows !== 2 * chunk.length)
        throw new Error(
          `${table}: ${2 * chunk.length - result.affectedRows} of ${chunk.length} totals to reduce were missing; the read model's totals are out of step with its orders (rebuild it)`,
        );
    }
  };
  // Rows the subtraction must not insert carry the amount to take away; inserted, they would be caught above.
  await subtract(tables.itemTotals, 'item_id, total_ordered, last_order_date', 'total_ordered', totals.items);
  await subtract(tables.itemMonthlyTotals, 'item_id, month_start, monthly_ordered', 'monthly_ordered', totals.months);
  await subtract(tables.itemDailyTotals, 'item_id, order_date, daily_ordered', 'daily_ordered', totals.days);
  const items = totals.items.map(([itemId]) => itemId);
  await connection.query('DELETE FROM ?? WHERE item_id IN (?) AND daily_ordered = 0', [tables.itemDailyTotals, items]);
  await connection.query('DELETE FROM ?? WHERE item_id IN (?) AND monthly_ordered = 0', [tables.itemMonthlyTotals, items]);
  await connection.query('DELETE FROM ?? WHERE item_id IN (?) AND total_ordered = 0', [tables.itemTotals, items]);
  await connection.query('UPDATE ?? t SET t.last_order_date = (SELECT MAX(d.order_date) FROM ?? d WHERE d.item_id = t.item_id) WHERE t.item_id IN (?)', [
    tables.itemTotals,
    tables.itemDailyTotals,
    items,
  ]);
}

/** The server's `max_allowed_packet`, read once per connection. */
const packetLimits = new WeakMap<object, number>();

/** Bytes one statement's values may take: half the server's packet limit, leaving room for the statement and escaping. */
async function statementBudget(connection: PoolConnection): Promise<number> {
  // mysql2 pools hand out wrappers; the underlying connection is the stable key.
  const key = (connection as unknown as { connection?: object }).connection ?? connection;
  let limit = packetLimits.get(key);
  if (limit === undefined) {
    const [rows] = await connection.query<RowDataPacket[]>('SELECT @@max_allowed_packet AS packet');
    limit = Number((rows[0] as { packet?: number | string } | undefined)?.packet ?? 4 * 1024 * 1024);
    packetLimits.set(key, limit);
  }
  return Math.floor(limit / 2);
}

/**
 * Splits rows into runs whose values stay within `budget` bytes (each string
 * counted twice, for escaping). A normal batch is one run: the statement
 * count stays constant; only a batch of unusually large rows is split.
 */
function chunksWithin<T extends readonly unknown[]>(rows: readonly T[], budget: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const row of rows) {
    let rowSize = 8;
    for (const value of row) rowSize += (typeof value === 'string' ? Buffer.byteLength(value) * 2 : 24) + 4;
    if (current.length > 0 && size + rowSize > budget) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(row);
    size += rowSize;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Per-item, per-item-per-month and per-item-per-day sums of a set of orders, in key order. */
interface Totals {
  items: [itemId: string, total: number, lastOrderDate: string][];
  months: [itemId: string, monthStart: string, total: number][];
  days: [itemId: string, orderDate: string, total: number][];
}

/** The {@link Totals} of a set of orders. */
export function aggregate(orders: readonly Order[]): Totals {
  const items = new Map<string, { total: number; last: string }>();
  const months = new Map<string, { itemId: string; month: string; total: number }>();
  const days = new Map<string, { itemId: string; day: string; total: number }>();
  for (const order of orders) {
    const date = order.orderedAt.slice(0, 10);
    const month = `${order.orderedAt.slice(0, 7)}-01`;
    for (const line of order.items) {
      const item = items.get(line.itemid);
      if (item) {
        item.total += line.quantity;
        if (date > item.last) item.last = date;
      } else {
        items.set(line.itemid, { total: line.quantity, last: date });
      }
      const key = `${month}\u0000${line.itemid}`;
      const monthly = months.get(key);
      if (monthly) monthly.total += line.quantity;
      else months.set(key, { itemId: line.itemid, month, total: line.quantity });
      const dayKey = `${date}\u0000${line.itemid}`;
      const daily = days.get(dayKey);
      if (daily) daily.total += line.quantity;
      else days.set(dayKey, { itemId: line.itemid, day: date, total: line.quantity });
    }
  }
  return {
    items: [...items.entries()].sort(([a], [b]) => compareKeys(a, b)).map(([itemId, { total, last }]) => [itemId, total, last]),
    months: [...months.values()]
      .sort((a, b) => compareKeys(a.itemId, b.itemId) || compareKeys(a.month, b.month))
      .map(({ itemId, month, total }) => [itemId, month, total]),
    days: [...days.values()].sort((a, b) => compareKeys(a.itemId, b.itemId) || compareKeys(a.day, b.day)).map(({ itemId, day, total }) => [itemId, day, total]),
  };
}

/** Orders keys by code point, as the binary collations of the key columns do. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const left = a.charCodeAt(index);
    const right = b.charCodeAt(index);
    if (left !== right) return codePointRank(left) - codePointRank(right);
  }
  return a.length - b.length;
}

// UTF-16 units sort like code points once surrogates (astral characters) are
// moved above the rest of the BMP: U+D800–U+DFFF up, U+E000–U+FFFF down.
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}
