import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import { isKnownStatus } from '../commands/registry';
import { orderFromRows, type Order, type StoredLine } from '../domain/order';
import { knownOrderFromItem } from '../domain/order-record';
import { ReadModelError } from './errors';
import { onRebuildTables } from './migration-sql';
import { completeThroughRebuild, migrationForRebuild, migrationLabel, type Migration, type MigrationReport } from './migrations';
import { compareKeys, projectOrders, writeOrders, type WarnLogger } from './read-model-writer';
import {
  BOOKKEEPING_TABLES,
  READ_MODEL_TABLE_KEYS as TABLE_KEYS,
  READ_MODEL_TABLES,
  REBUILD_SUFFIXES,
  tablesWithSuffix,
  type ReadModelTables,
} from '../../config/read-model-tables';

/** Rebuilt tables are filled beside the live ones under this suffix. */
export const REBUILD_TABLES = tablesWithSuffix(REBUILD_SUFFIXES.rebuild);
/** After the swap, the previous live tables sit under this suffix until dropped. */
export const RETIRED_TABLES = tablesWithSuffix(REBUILD_SUFFIXES.retired);

const STATE_TABLE = BOOKKEEPING_TABLES.rebuildState;
/** Live table name → its rebuild copy's, for the statements of a through-rebuild migration. */
const REBUILD_NAMES: Readonly<Record<string, string>> = Object.fromEntries(TABLE_KEYS.map((key) => [READ_MODEL_TABLES[key], REBUILD_TABLES[key]]));

/**
 * How far before the rebuild's start the catch-up looks for orders the live
 * projection wrote. An order projected before the rebuild began was in the
 * orders table before the scan began, so the scan has it; the margin only
 * absorbs a step of the server's clock.
 */
const CATCH_UP_MARGIN_MINUTES = 5;

/**
 * How long the swap waits to take its locks before giving up for this
 * invocation (a transaction left open holds them; the next invocation
 * tries again). While it waits, new projection batches queue behind it.
 */
const SWAP_LOCK_WAIT_SECONDS = 10;

/**
 * The identity of the orders table a rebuild reads (from DynamoDB's
 * `DescribeTable`): its ARN, id and creation time, so a table deleted and made
 * again (or restored) under the same name is another source, and a saved
 * rebuild of the old one starts over.
 */
export function sourceOf(name: string, table: { TableArn?: string; TableId?: string; CreationDateTime?: Date } | undefined): string {
  return `${table?.TableArn ?? name} ${table?.TableId ?? ''} ${table?.CreationDateTime?.toISOString() ?? ''}`.trim();
}

/** One page of a scan of the orders table. */
interface ScanPage {
  readonly items: readonly Record<string, AttributeValue>[];
  readonly next?: Record<string, AttributeValue>;
}

/** Reads the orders table a page at a time. */
export type ScanOrders = (cursor: Record<string, AttributeValue> | undefined) => Promise<ScanPage>;

/** Where a rebuild stands; returned by every step so a caller can resume. */
export interface RebuildProgress {
  /** `scanning`: run again to go on; `swapping`: scanned, the swap could not take its locks yet, run again; `done`. */
  readonly stage: 'scanning' | 'swapping' | 'done';
  readonly scanned: number;
  readonly projected: number;
  /** Items of the orders table that are not valid orders (logged, skipped). */
  readonly malformed: number;
  /** Orders the live projection wrote during the rebuild, copied into the new tables before the swap. */
  readonly caughtUp: number;
  /** Why a saved rebuild was discarded and this one started over, when it was. */
  readonly restarted?: string;
  /** When a through-rebuild migration came in with the swap: it, and the migrations applied after it. */
  readonly migrations?: MigrationReport;
}

interface StateRow extends RowDataPacket {
  cursor_json: string | null;
  scanned: number;
  projected: number;
  malformed: number;
  caught_up: number;
  started_at: string;
  source: string;
  generation: string;
  migration_version: number | null;
}

async function tableExists(pool: Pool | PoolConnection, name: string): Promise<boolean> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [name]);
  return rows.length > 0;
}

/** The read model's generation (`read_model_generation`): new whenever the read model is made again. */
async function readGeneration(pool: Pool): Promise<string> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT generation FROM ?? WHERE id = 1', [BOOKKEEPING_TABLES.generation]);
  const generation = rows[0]?.generation as string | undefined;
  if (!generation) throw new Error(`the read model has no generation (${BOOKKEEPING_TABLES.generation} is empty): run init-schema first`);
  return generation;
}

async function readState(pool: Pool): Promise<StateRow | undefined> {
  const [rows] = await pool.query<StateRow[]>(
    "SELECT cursor_json, scanned, projected, malformed, caught_up, DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s.%f') AS started_at, source, generation, migration_version FROM ?? WHERE id = 1",
    [STATE_TABLE],
  );
  return rows[0];
}

/**
 * The saved state this run has written: gone only when another run finished
 * or discarded the rebuild meanwhile, which stops this one with an error that
 * says so.
 */
async function savedState(pool: Pool): Promise<StateRow> {
  const state = await readState(pool);
  if (!state)
    throw new ReadModelError(`the rebuild's saved state (${STATE_TABLE}) is gone: another rebuild finished or discarded it while this one ran; run it again`);
  return state;
}

/** The saved state's table, made if missing; one of an earlier shape (no generation, no migration) is dropped. */
async function prepareStateTable(pool: Pool): Promise<void> {
  const [columns] = await pool.query<RowDataPacket[]>(
    "SELECT 1 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'migration_version'",
    [STATE_TABLE],
  );
  if (columns.length === 0) await pool.query('DROP TABLE IF EXISTS ??', [STATE_TABLE]);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ?? (
       id          TINYINT UNSIGNED NOT NULL,
       cursor_json TEXT NULL,
       scanned     BIGINT UNSIGNED NOT NULL DEFAULT 0,
       projected   BIGINT UNSIGNED NOT NULL DEFAULT 0,
       malformed   BIGINT UNSIGNED NOT NULL DEFAULT 0,
       caught_up   BIGINT UNSIGNED NOT NULL DEFAULT 0,
       started_at  DATETIME(3) NOT NULL,
       source      VARCHAR(2048) NOT NULL,
       generation  CHAR(32) CHARACTER SET ascii NOT NULL,
       migration_version INT UNSIGNED NULL,
       PRIMARY KEY (id)
     ) ENGINE = InnoDB`,
    [STATE_TABLE],
  );
}

/** Why a saved rebuild cannot be resumed, or undefined when it can. */
async function staleReason(pool: Pool, state: StateRow, source: string, generation: string, migration: Migration | undefined): Promise<string | undefined> {
  if (state.source !== source) return `it was started from another orders table (${state.source}; now ${source})`;
  if (state.generation !== generation) return 'the read model was made again since it started';
  if ((state.migration_version ?? undefined) !== migration?.version)
    return `the migration to apply through the rebuild changed since it started (${state.migration_version ?? 'none'}; now ${migration ? migrationLabel(migration) : 'none'})`;
  if (!(await tableExists(pool, REBUILD_TABLES.orders))) return 'its tables are gone';
  return undefined;
}

/**
 * Rebuilds the read model from the orders table without stopping the
 * projection or the queries: fresh tables are filled beside the live ones
 * (scan, re-project with the same constant-statement transaction), caught
 * up with the orders the live projection wrote meanwhile, and swapped in.
 *
 * **Answers stay exact during it.** The last catch-up and the swap are one
 * critical section: the live tables are read-locked (projection writes wait,
 * queries go on), the orders projected since the rebuild began are copied
 * into the new tables and committed, and a `RENAME TABLE` is queued on a
 * second connection before the lock is released. Pending write locks are
 * granted before waiting ones of lower priority (MySQL 8.0 Reference Manual,
 * "Metadata Locking", https://dev.mysql.com/doc/refman/8.0/en/metadata-locking.html:
 * "Write lock requests have higher priority than read lock requests"; the
 * same on MariaDB, checked by the rebuild tests), so the rename runs before
 * any waiting batch: a batch commits wholly into the old tables before the
 * catch-up, or into the new ones after the swap. No query ever sees fewer
 * orders than before.
 *
 * Idempotent and resumable: the scan cursor and counts live in MySQL, every
 * step can be repeated, and a run that stopped anywhere continues where it
 * stopped, as long as the saved state belongs to the same orders table
 * (`source`) and the same read model (its generation): otherwise it starts
 * over and says why (`restarted`). `restart` discards a rebuild in progress.
 * The pool needs two connections (the swap's lock and its rename).
 */
export async function rebuildReadModel(options: {
  readonly pool: Pool;
  readonly scan: ScanOrders;
  /** What the orders table is (its ARN and creation), to tell a resumed rebuild it still reads the same one. */
  readonly source: string;
  /** Stop scanning when this returns false (Lambda time left); the caller runs again. */
  readonly keepGoing?: () => boolean;
  readonly restart?: boolean;
  readonly logger?: WarnLogger;
  /**
   * The migration files: the first not yet applied, when it goes through the rebuild, is applied
   * to the fresh tables before they are filled and recorded with the swap.
   */
  readonly migrations?: readonly Migration[];
}): Promise<RebuildProgress> {
  const { pool, source } = options;
  await prepareStateTable(pool);
  const finish = { ...(options.logger ? { logger: options.logger } : {}), ...(options.migrations ? { migrations: options.migrations } : {}) };

  // A swap that happened but was not finished: finish it first.
  if (!(await tableExists(pool, REBUILD_TABLES.orders)) && (await tableExists(pool, RETIRED_TABLES.orders))) {
    return finishSwap(pool, { recover: true, ...finish });
  }

  const generation = await readGeneration(pool);
  const migration = options.migrations ? await migrationForRebuild(pool, options.migrations) : undefined;
  let state = await readState(pool);
  const restarted = state && !options.restart ? await staleReason(pool, state, source, generation, migration) : undefined;
  if (restarted) options.logger?.warn(`the saved rebuild was discarded: ${restarted}; starting over`);
  if (options.restart || !state || restarted) {
    for (const key of TABLE_KEYS) {
      await pool.query('DROP TABLE IF EXISTS ??, ??', [REBUILD_TABLES[key], RETIRED_TABLES[key]]);
      await pool.query('CREATE TABLE ?? LIKE ??', [REBUILD_TABLES[key], READ_MODEL_TABLES[key]]);
    }
    // The fresh tables are empty: a change no server makes online is instant here.
    for (const statement of migration?.steps ?? []) await pool.query(onRebuildTables(statement, REBUILD_NAMES));
    await pool.query(
      'REPLACE INTO ?? (id, cursor_json, scanned, projected, malformed, caught_up, started_at, source, generation, migration_version) VALUES (1, NULL, 0, 0, 0, 0, UTC_TIMESTAMP(3), ?, ?, ?)',
      [STATE_TABLE, source, generation, migration?.version ?? null],
    );
    state = await savedState(pool);
  }
  const withReason = restarted ? { restarted } : {};
  let cursor = state.cursor_json ? (JSON.parse(state.cursor_json) as Record<string, AttributeValue>) : undefined;
  let { scanned, projected, malformed } = state;
  let finished = state.cursor_json === null && scanned > 0;

  while (!finished) {
    if (options.keepGoing && !options.keepGoing()) {
      return { stage: 'scanning', scanned: Number(scanned), projected: Number(projected), malformed: Number(malformed), caughtUp: 0, ...withReason };
    }
    const page = await options.scan(cursor);
    const orders: Order[] = [];
    for (const item of page.items) {
      try {
        orders.push(knownOrderFromItem(item, isKnownStatus));
      } catch (error) {
        malformed++;
        options.logger?.warn('orders-table item skipped by the rebuild', { orderId: item.orderid?.S, error });
      }
    }
    const outcomes =
      orders.length > 0 ? await projectOrders(pool, orders, { tables: REBUILD_TABLES, ...(options.logger ? { logger: options.logger } : {}) }) : [];
    scanned += page.items.length;
    projected += outcomes.filter((outcome) => outcome === 'projected').length;
    cursor = page.next;
    // Saved after the page is committed: a crash in between re-projects the page, which changes nothing.
    await pool.query('UPDATE ?? SET cursor_json = ?, scanned = ?, projected = ?, malformed = ? WHERE id = 1', [
      STATE_TABLE,
      cursor ? JSON.stringify(cursor) : null,
      scanned,
      projected,
      malformed,
    ]);
    finished = cursor === undefined;
  }

  // Most of the catch-up outside the lock, so the critical section copies only the last moments.
  await catchUpOutsideLock(pool, state.started_at);
  if (!(await swapWithLastCatchUp(pool, state.started_at))) {
    const now = await savedState(pool);
    return {
      stage: 'swapping',
      scanned: Number(scanned),
      projected: Number(projected),
      malformed: Number(malformed),
      caughtUp: Number(now.caught_up),
      ...withReason,
    };
  }
  return { ...(await finishSwap(pool, { recover: false, ...finish })), ...withReason };
}

interface LiveOrderRow extends RowDataPacket {
  order_id: string;
  ordered_at: string;
  content_hash: string;
  status: string;
  revision: number;
}

interface LineRow extends RowDataPacket {
  order_id: string;
  item_id: string;
  quantity: number;
}

/**
 * The orders of `from` projected (created or changed) since shortly before
 * `startedAt` that `to` lacks or holds at a lower revision, with their lines,
 * in key order. Written without table aliases, so it also runs under
 * `LOCK TABLES`.
 */
async function missingOrders(connection: PoolConnection, from: ReadModelTables, to: ReadModelTables, startedAt: string): Promise<Order[]> {
  const [missing] = await connection.query<LiveOrderRow[]>(
    `SELECT ??.order_id, DATE_FORMAT(??.ordered_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS ordered_at, ??.content_hash, ??.status, ??.revision
       FROM ?? LEFT JOIN ?? ON ??.order_id = ??.order_id
      WHERE (??.order_id IS NULL OR ??.revision < ??.revision) AND ??.projected_at >= ? - INTERVAL ${CATCH_UP_MARGIN_MINUTES} MINUTE`,
    [
      from.orders,
      from.orders,
      from.orders,
      from.orders,
      from.orders,
      from.orders,
      to.orders,
      to.orders,
      from.orders,
      to.orders,
      to.orders,
      from.orders,
      from.orders,
      startedAt,
    ],
  );
  if (missing.length === 0) return [];
  const [lines] = await connection.query<LineRow[]>('SELECT order_id, item_id, quantity FROM ?? WHERE order_id IN (?) ORDER BY order_id, line_no', [
    from.orderLines,
    missing.map((order) => order.order_id),
  ]);
  const byOrder = new Map<string, StoredLine[]>();
  for (const line of lines) byOrder.set(line.order_id, [...(byOrder.get(line.order_id) ?? []), line]);
  return missing
    .map((order) =>
      orderFromRows(
        { orderId: order.order_id, orderedAt: order.ordered_at, contentHash: order.content_hash, status: order.status, revision: Number(order.revision) },
        byOrder.get(order.order_id) ?? [],
      ),
    )
    .sort((a, b) => compareKeys(a.orderId, b.orderId));
}

/** Copies what the live projection wrote so far into the new tables (one transaction); returns how many. */
async function catchUpOutsideLock(pool: Pool, startedAt: string): Promise<number> {
  const connection = await pool.getConnection();
  try {
    const orders = await missingOrders(connection, READ_MODEL_TABLES, REBUILD_TABLES, startedAt);
    if (orders.length === 0) return 0;
    await connection.query('START TRANSACTION');
    const copied = countProjected(await writeOrders(connection, orders, REBUILD_TABLES));
    await connection.query('UPDATE ?? SET caught_up = caught_up + ? WHERE id = 1', [STATE_TABLE, copied]);
    await connection.query('COMMIT');
    return copied;
  } catch (error) {
    await connection.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

const LOCK_WAIT_TIMEOUT = 1205;

function countProjected(outcomes: ReadonlyMap<string, string>): number {
  return [...outcomes.values()].filter((outcome) => outcome === 'projected').length;
}

/**
 * The critical section: live tables read-locked, the last orders copied and
 * committed, the rename queued behind the lock, the lock released. False
 * when the locks could not be taken within {@link SWAP_LOCK_WAIT_SECONDS}
 * (nothing changed; the next run tries again).
 */
async function swapWithLastCatchUp(pool: Pool, startedAt: string): Promise<boolean> {
  const locker = await pool.getConnection();
  const renamer = await pool.getConnection();
  let lockHeld = false;
  let broken = false;
  try {
    await locker.query('SET SESSION lock_wait_timeout = ?', [SWAP_LOCK_WAIT_SECONDS]);
    // autocommit off, not START TRANSACTION: that would release the table locks.
    await locker.query('SET autocommit = 0');
    const live = TABLE_KEYS.map((key) => `\`${READ_MODEL_TABLES[key]}\` READ`);
    const fresh = TABLE_KEYS.map((key) => `\`${REBUILD_TABLES[key]}\` WRITE`);
    try {
      await locker.query(`LOCK TABLES ${[...live, ...fresh, `\`${STATE_TABLE}\` WRITE`].join(', ')}`);
    } catch (error) {
      if ((error as { errno?: number }).errno === LOCK_WAIT_TIMEOUT) return false;
      throw error;
    }
    lockHeld = true;
    const orders = await missingOrders(locker, READ_MODEL_TABLES, REBUILD_TABLES, startedAt);
    const last = orders.length > 0 ? countProjected(await writeOrders(locker, orders, REBUILD_TABLES)) : 0;
    await locker.query('UPDATE ?? SET caught_up = caught_up + ? WHERE id = 1', [STATE_TABLE, last]);
    await locker.query('COMMIT');

    // Queued behind the read lock, the rename is granted before any batch waiting for its write lock.
    const [[identity]] = await renamer.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
    await renamer.query('SET SESSION lock_wait_timeout = ?', [SWAP_LOCK_WAIT_SECONDS * 6]);
    const rename = renamer.query(
      `RENAME TABLE ${TABLE_KEYS.map((key) => `\`${READ_MODEL_TABLES[key]}\` TO \`${RETIRED_TABLES[key]}\`, \`${REBUILD_TABLES[key]}\` TO \`${READ_MODEL_TABLES[key]}\``).join(', ')}`,
    );
    rename.catch(() => undefined);
    await untilWaitingForLock(locker, Number(identity?.id), rename);
    await locker.query('UNLOCK TABLES');
    lockHeld = false;
    await rename;
    return true;
  } catch (error) {
    broken = true;
    throw error;
  } finally {
    if (lockHeld) await locker.query('UNLOCK TABLES').catch(() => (broken = true));
    await locker.query('SET autocommit = 1').catch(() => (broken = true));
    if (broken) locker.destroy();
    else locker.release();
    renamer.release();
  }
}

/** Resolves once the server shows `connectionId` waiting for a metadata lock (or `statement` ended first, which it reports). */
async function untilWaitingForLock(connection: PoolConnection, connectionId: number, statement: Promise<unknown>): Promise<void> {
  let ended = false;
  statement.then(
    () => (ended = true),
    () => (ended = true),
  );
  for (;;) {
    const [rows] = await connection.query<RowDataPacket[]>(
      "SELECT 1 FROM information_schema.processlist WHERE id = ? AND state LIKE 'Waiting for table metadata lock%'",
      [connectionId],
    );
    if (rows.length > 0) return;
    if (ended) {
      await statement;
      throw new Error('the rename ran before the catch-up lock was released (it should have waited for it)');
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Ends a swapped rebuild: drops the retired tables and the saved state.
 * `recover`: a swap found done at the start of a run, by an earlier version
 * that caught up after its swap; copies what the retired tables hold and
 * the new ones lack first.
 */
async function finishSwap(pool: Pool, options: { recover: boolean; logger?: WarnLogger; migrations?: readonly Migration[] }): Promise<RebuildProgress> {
  const state = await readState(pool);
  let caughtUp = Number(state?.caught_up ?? 0);
  if (options.recover) {
    const connection = await pool.getConnection();
    const orders = await missingOrders(connection, RETIRED_TABLES, READ_MODEL_TABLES, state?.started_at ?? '1970-01-01').finally(() => connection.release());
    if (orders.length > 0)
      caughtUp += (await projectOrders(pool, orders, { ...(options.logger ? { logger: options.logger } : {}) })).filter(
        (outcome) => outcome === 'projected',
      ).length;
  }
  // The swapped-in tables have the migration's shape: record it (before the state that says so goes), then apply the ones after it.
  const migrations = await completeMigration(pool, state?.migration_version ?? undefined, options);
  for (const key of TABLE_KEYS) await pool.query('DROP TABLE IF EXISTS ??', [RETIRED_TABLES[key]]);
  await pool.query('DELETE FROM ?? WHERE id = 1', [STATE_TABLE]);
  return {
    stage: 'done',
    scanned: Number(state?.scanned ?? 0),
    projected: Number(state?.projected ?? 0),
    malformed: Number(state?.malformed ?? 0),
    caughtUp,
    ...(migrations ? { migrations } : {}),
  };
}

/** Records the through-rebuild migration the swap brought in and applies the migrations after it (on a connection of its own: the migration session's lock waits never reach the pool). */
async function completeMigration(
  pool: Pool,
  version: number | undefined,
  options: { migrations?: readonly Migration[] },
): Promise<MigrationReport | undefined> {
  if (version === undefined) return undefined;
  const migration = options.migrations?.find((candidate) => candidate.version === version);
  if (!migration || !options.migrations)
    throw new Error(`the rebuild applied migration ${version} to its tables, but its file is not among the migrations this run was given`);
  const connection = await pool.getConnection();
  try {
    return await completeThroughRebuild(connection, migration, options.migrations);
  } finally {
    connection.destroy();
  }
}
