import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { orderFromItem, orderFromRows, type Order, type StoredLine } from '../domain/order';
import { projectOrders, type WarnLogger } from './read-model-writer';
import { READ_MODEL_TABLE_KEYS as TABLE_KEYS, READ_MODEL_TABLES, tablesWithSuffix } from './tables';

/** Rebuilt tables are filled beside the live ones under this suffix. */
export const REBUILD_TABLES = tablesWithSuffix('_rebuild');
/** After the swap, the previous live tables sit under this suffix until caught up and dropped. */
export const RETIRED_TABLES = tablesWithSuffix('_retired');

/** One page of a scan of the orders table. */
interface ScanPage {
  readonly items: readonly Record<string, AttributeValue>[];
  readonly next?: Record<string, AttributeValue>;
}

/** Reads the orders table a page at a time. */
export type ScanOrders = (cursor: Record<string, AttributeValue> | undefined) => Promise<ScanPage>;

/** Where a rebuild stands; returned by every step so a caller can resume. */
export interface RebuildProgress {
  readonly stage: 'scanning' | 'done';
  readonly scanned: number;
  readonly projected: number;
  /** Items of the orders table that are not valid orders (logged, skipped). */
  readonly malformed: number;
  /** Orders that arrived during the rebuild and were copied over after the swap. */
  readonly caughtUp: number;
}

interface StateRow extends RowDataPacket {
  cursor_json: string | null;
  scanned: number;
  projected: number;
  malformed: number;
  started_at: string;
}

async function tableExists(pool: Pool, name: string): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [name]);
  return rows.length > 0;
}

/**
 * Rebuilds the read model from the orders table without stopping the
 * projection: fresh tables are filled beside the live ones (scan, re-project
 * with the same constant-statement transaction), swapped in with one atomic
 * `RENAME TABLE`, then the orders projected live during the rebuild are copied
 * over and the old tables dropped.
 *
 * Idempotent and resumable: the scan cursor and counts live in MySQL, every
 * step can be repeated, and a run that stopped anywhere continues where it
 * stopped. `restart` discards a rebuild in progress.
 */
export async function rebuildReadModel(options: {
  readonly pool: Pool;
  readonly scan: ScanOrders;
  /** Stop scanning when this returns false (Lambda time left); the caller runs again. */
  readonly keepGoing?: () => boolean;
  readonly restart?: boolean;
  readonly logger?: WarnLogger;
}): Promise<RebuildProgress> {
  const { pool } = options;
  await pool.query(
    `CREATE TABLE IF NOT EXISTS read_model_rebuild (
       id          TINYINT UNSIGNED NOT NULL,
       cursor_json TEXT NULL,
       scanned     BIGINT UNSIGNED NOT NULL DEFAULT 0,
       projected   BIGINT UNSIGNED NOT NULL DEFAULT 0,
       malformed   BIGINT UNSIGNED NOT NULL DEFAULT 0,
       started_at  DATETIME(3) NOT NULL,
       PRIMARY KEY (id)
     ) ENGINE = InnoDB`,
  );

  // A swap that happened but was not finished: finish it first.
  if (!(await tableExists(pool, REBUILD_TABLES.orders)) && (await tableExists(pool, RETIRED_TABLES.orders))) {
    return finishSwap(pool, options.logger);
  }

  let [state] = await pool.query<StateRow[]>("SELECT cursor_json, scanned, projected, malformed, DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s.%f') AS started_at FROM read_model_rebuild WHERE id = 1");
  if (options.restart || state.length === 0 || !(await tableExists(pool, REBUILD_TABLES.orders))) {
    for (const key of TABLE_KEYS) {
      await pool.query('DROP TABLE IF EXISTS ??, ??', [REBUILD_TABLES[key], RETIRED_TABLES[key]]);
      await pool.query('CREATE TABLE ?? LIKE ??', [REBUILD_TABLES[key], READ_MODEL_TABLES[key]]);
    }
    await pool.query('REPLACE INTO read_model_rebuild (id, cursor_json, scanned, projected, malformed, started_at) VALUES (1, NULL, 0, 0, 0, UTC_TIMESTAMP(3))');
    [state] = await pool.query<StateRow[]>("SELECT cursor_json, scanned, projected, malformed, DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s.%f') AS started_at FROM read_model_rebuild WHERE id = 1");
  }
  const row = state[0] as StateRow;
  let cursor = row.cursor_json ? (JSON.parse(row.cursor_json) as Record<string, AttributeValue>) : undefined;
  let { scanned, projected, malformed } = row;
  let finished = row.cursor_json === null && scanned > 0;

  while (!finished) {
    if (options.keepGoing && !options.keepGoing()) {
      return { stage: 'scanning', scanned: Number(scanned), projected: Number(projected), malformed: Number(malformed), caughtUp: 0 };
    }
    const page = await options.scan(cursor);
    const orders: Order[] = [];
    for (const item of page.items) {
      try {
        orders.push(orderFromItem(item));
      } catch (error) {
        malformed++;
        options.logger?.warn('orders-table item skipped by the rebuild', { orderId: item.orderid?.S, error });
      }
    }
    const outcomes = orders.length > 0 ? await projectOrders(pool, orders, { tables: REBUILD_TABLES, ...(options.logger ? { logger: options.logger } : {}) }) : [];
    scanned += page.items.length;
    projected += outcomes.filter((outcome) => outcome === 'projected').length;
    cursor = page.next;
    // Saved after the page is committed: a crash in between re-projects the page, which changes nothing.
    await pool.query('UPDATE read_model_rebuild SET cursor_json = ?, scanned = ?, projected = ?, malformed = ? WHERE id = 1', [
      cursor ? JSON.stringify(cursor) : null,
      scanned,
      projected,
      malformed,
    ]);
    finished = cursor === undefined;
  }

  // One statement swaps all four tables: a projection transaction runs wholly before or after it.
  await pool.query(
    `RENAME TABLE ${TABLE_KEYS.map((key) => `\`${READ_MODEL_TABLES[key]}\` TO \`${RETIRED_TABLES[key]}\`, \`${REBUILD_TABLES[key]}\` TO \`${READ_MODEL_TABLES[key]}\``).join(', ')}`,
  );
  return finishSwap(pool, options.logger);
}

interface RetiredOrderRow extends RowDataPacket {
  order_id: string;
  ordered_at: string;
  content_hash: string;
}

interface RetiredLineRow extends RowDataPacket {
  order_id: string;
  item_id: string;
  quantity: number;
}

/** Copies orders projected live during the rebuild into the new tables, then drops the retired ones. */
async function finishSwap(pool: Pool, logger?: WarnLogger): Promise<RebuildProgress> {
  const [state] = await pool.query<StateRow[]>("SELECT scanned, projected, malformed, DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s.%f') AS started_at, cursor_json FROM read_model_rebuild WHERE id = 1");
  const row = state[0];
  // Orders the live projection wrote since shortly before the rebuild began.
  const [missing] = await pool.query<RetiredOrderRow[]>(
    `SELECT r.order_id, DATE_FORMAT(r.ordered_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS ordered_at, r.content_hash
       FROM ?? r LEFT JOIN ?? l ON l.order_id = r.order_id
      WHERE l.order_id IS NULL AND r.projected_at >= COALESCE(? - INTERVAL 5 MINUTE, '1970-01-01')`,
    [RETIRED_TABLES.orders, READ_MODEL_TABLES.orders, row?.started_at ?? null],
  );
  let caughtUp = 0;
  if (missing.length > 0) {
    const [lines] = await pool.query<RetiredLineRow[]>('SELECT order_id, item_id, quantity FROM ?? WHERE order_id IN (?) ORDER BY order_id, line_no', [
      RETIRED_TABLES.orderLines,
      missing.map((order) => order.order_id),
    ]);
    const byOrder = new Map<string, StoredLine[]>();
    for (const line of lines) byOrder.set(line.order_id, [...(byOrder.get(line.order_id) ?? []), line]);
    const orders = missing.map((order) => orderFromRows({ orderId: order.order_id, orderedAt: order.ordered_at, contentHash: order.content_hash }, byOrder.get(order.order_id) ?? []));
    const outcomes = await projectOrders(pool, orders, { ...(logger ? { logger } : {}) });
    caughtUp = outcomes.filter((outcome) => outcome === 'projected').length;
  }
  for (const key of TABLE_KEYS) await pool.query('DROP TABLE IF EXISTS ??', [RETIRED_TABLES[key]]);
  await pool.query('DELETE FROM read_model_rebuild WHERE id = 1');
  return {
    stage: 'done',
    scanned: Number(row?.scanned ?? 0),
    projected: Number(row?.projected ?? 0),
    malformed: Number(row?.malformed ?? 0),
    caughtUp,
  };
}
