/**
 * Who owns a read-model database, and who is using it now.
 *
 * The local runtime clears and migrates its read model, so it must only ever
 * do that to a database it made. Two things protect what it did not make:
 *
 * - **Ownership**, recorded in the database itself: when the runtime makes a
 *   read model it writes a marker naming the pipeline table the read model
 *   is derived from and the runtime's state (`--data` folder, or in memory).
 *   A database holding anything else (other tables, a read model with no
 *   marker, another pipeline's or another state's read model) is refused at
 *   start, with nothing in it touched, unless the user says `--take-over`.
 * - **One runtime at a time**, by a MySQL named lock held on a connection of
 *   its own for the runtime's life. The server releases it when that
 *   connection ends, however the process ends (`kill -9` included). A second
 *   runtime on the same database is refused, naming the holder.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import { ReadModelRefusedError } from './errors';
import { readModelOwnedTables } from '../config/read-model-tables';

/** The table that records which runtime made the read model. */
const OWNER_TABLE = 'local_runtime_owner';

/** Where a server is, and which database on it. */
export interface DatabaseTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/** The runtime holding a read model's lock, as it describes itself. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** The runtime's endpoint, when it has one (the demo's and `npm start`'s). */
  readonly endpoint: string;
  /** The server connection that holds the lock. */
  readonly connectionId: number;
  /** When it took the lock (UTC, ISO 8601). */
  readonly since: string;
}

/**
 * The named lock of one read-model database. Named locks are server-wide, so
 * the name carries the database (hashed, within MySQL 8.0's 64 characters).
 */
function readModelLockName(database: string): string {
  return `order-pipeline.local-runtime.${createHash('sha256').update(database).digest('hex').slice(0, 16)}`;
}

function where(target: DatabaseTarget): string {
  return `the database ${target.database} on ${target.host}:${target.port}`;
}

const ANOTHER_DATABASE = (target: DatabaseTarget) =>
  `--db-url mysql://${encodeURIComponent(target.user)}@${target.host}:${target.port}/<another name> (or DB_URL)`;

/** The lock, held for the runtime's life; {@link release} ends it. */
export class ReadModelLock {
  readonly holder: LockHolder;
  readonly #target: DatabaseTarget;
  readonly #log: (message: string) => void;
  #connection: Connection | undefined;
  #released = false;
  #retry: NodeJS.Timeout | undefined;
  /** Why the lock is not held right now (a lost server connection), if it is not. */
  lost: string | undefined;

  private constructor(target: DatabaseTarget, connection: Connection, holder: LockHolder, log: (message: string) => void) {
    this.#target = target;
    this.#connection = connection;
    this.holder = holder;
    this.#log = log;
    this.#watch(connection);
  }

  /**
   * Takes the lock of `target.database`, or refuses, naming who holds it. The
   * lock is taken at once or not at all: a second runtime never waits.
   */
  static async acquire(target: DatabaseTarget, endpoint: string, log: (message: string) => void): Promise<ReadModelLock> {
    const connection = await lockConnection(target);
    try {
      const [rows] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS locked, CONNECTION_ID() AS id, UTC_TIMESTAMP(3) AS since', [
        readModelLockName(target.database),
      ]);
      const row = rows[0] as { locked: number | null; id: number; since: string };
      if (row.locked !== 1) throw new ReadModelRefusedError(await inUseMessage(connection, target));
      return new ReadModelLock(
        target,
        connection,
        { pid: process.pid, host: hostname(), endpoint, connectionId: Number(row.id), since: `${row.since.replace(' ', 'T')}Z` },
        log,
      );
    } catch (error) {
      await connection.end().catch(() => undefined);
      throw error;
    }
  }

  /** Releases the lock (and stops trying to get it back). */
  async release(): Promise<void> {
    this.#released = true;
    clearTimeout(this.#retry);
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    await connection.query('SELECT RELEASE_LOCK(?)', [readModelLockName(this.#target.database)]).catch(() => undefined);
    await connection.end().catch(() => connection.destroy());
  }

  /** A lost connection loses the lock: it is taken again as soon as the server answers, unless someone else took it. */
  #watch(connection: Connection): void {
    connection.on('error', (error: Error) => {
      if (this.#released || connection !== this.#connection) return;
      this.#connection = undefined;
      this.lost = `the server connection holding the lock ended (${(error as NodeJS.ErrnoException).code ?? error.message})`;
      this.#log(`read model lock: ${this.lost}; taking it again when the server answers`);
      this.#schedule();
    });
  }

  #schedule(): void {
    this.#retry = setTimeout(() => void this.#reacquire(), 1_000);
    this.#retry.unref();
  }

  async #reacquire(): Promise<void> {
    if (this.#released) return;
    let connection: Connection;
    try {
      connection = await lockConnection(this.#target);
    } catch {
      this.#schedule();
      return;
    }
    const [rows] = await connection
      .query<RowDataPacket[]>('SELECT GET_LOCK(?, 0) AS locked', [readModelLockName(this.#target.database)])
      .catch(() => [[{ locked: null }]] as unknown as [RowDataPacket[]]);
    if (this.#released || (rows[0] as { locked: number | null }).locked !== 1) {
      if (!this.#released) this.#log(`read model lock: ${await inUseMessage(connection, this.#target)}; this runtime no longer holds it: stop one of the two`);
      await connection.end().catch(() => undefined);
      return;
    }
    this.#connection = connection;
    this.lost = undefined;
    this.#watch(connection);
    this.#log(`read model lock: taken again on ${where(this.#target)}`);
  }
}

async function lockConnection(target: DatabaseTarget): Promise<Connection> {
  const { host, port, user, password } = target;
  return createConnection({ host, port, user, password, connectTimeout: 3_000, dateStrings: true });
}

/** Who holds the lock: the holder as it recorded itself in the marker, when it is the same connection. */
async function inUseMessage(connection: Connection, target: DatabaseTarget): Promise<string> {
  const [used] = await connection.query<RowDataPacket[]>('SELECT IS_USED_LOCK(?) AS id', [readModelLockName(target.database)]);
  const id = Number((used[0] as { id: number | null }).id);
  const marker = await readMarker(connection, target.database).catch(() => undefined);
  const holder = marker?.holder?.connectionId === id ? marker.holder : undefined;
  const who = holder ? `pid ${holder.pid} on ${holder.host}${holder.endpoint ? `, ${holder.endpoint}` : ''}, since ${holder.since}` : `server connection ${id}`;
  return `${where(target)} is in use by another local runtime (${who}): stop it first, or give this runtime a database of its own with ${ANOTHER_DATABASE(target)}`;
}

/** The runtime's state that the read model is derived from. */
export type RuntimeState = { readonly kind: 'memory' } | { readonly kind: 'data'; readonly dir: string; readonly id: string };

/** The state of a runtime started with `dataDir` (its folder's id is made on first use), or in memory. */
export function runtimeState(dataDir: string | undefined): RuntimeState {
  if (!dataDir) return { kind: 'memory' };
  const file = path.join(dataDir, 'state-id');
  if (!existsSync(file)) writeFileSync(file, `${randomUUID()}\n`);
  return { kind: 'data', dir: path.resolve(dataDir), id: readFileSync(file, 'utf8').trim() };
}

function describeState(state: RuntimeState): string {
  return state.kind === 'memory' ? 'in memory (no --data)' : `--data ${state.dir}`;
}

/** What the marker records. */
interface Marker {
  readonly sourceTable: string;
  readonly state: RuntimeState;
  readonly holder?: LockHolder;
}

async function readMarker(connection: Connection, database: string): Promise<Marker | undefined> {
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT source_table, state_kind, state_dir, state_id, holder_pid, holder_host, holder_endpoint, holder_connection, DATE_FORMAT(holder_since, '%Y-%m-%dT%H:%i:%s.%fZ') AS holder_since
       FROM ??.?? WHERE id = 1`,
    [database, OWNER_TABLE],
  );
  const row = rows[0];
  if (!row) return undefined;
  const state: RuntimeState = row.state_kind === 'data' ? { kind: 'data', dir: String(row.state_dir), id: String(row.state_id) } : { kind: 'memory' };
  return {
    sourceTable: String(row.source_table),
    state,
    ...(row.holder_pid !== null
      ? {
          holder: {
            pid: Number(row.holder_pid),
            host: String(row.holder_host),
            endpoint: String(row.holder_endpoint),
            connectionId: Number(row.holder_connection),
            since: String(row.holder_since).replace(/(\.\d{3})\d*Z$/, '$1Z'),
          },
        }
      : {}),
  };
}

/** What a runtime asks of the database when it starts. */
export interface Claim {
  /** The synthesized table whose stream the read model is projected from. */
  readonly sourceTable: string;
  /** Whether that table was created by this start (so the read model must start empty too). */
  readonly sourceCreated: boolean;
  readonly state: RuntimeState;
  readonly holder: LockHolder;
  /** The user said the runtime may take the database over. */
  readonly takeOver: boolean;
}

/** What claiming did. */
export interface ClaimResult {
  /** The read model was emptied (dropped, for the schema trigger to make again), and why. */
  readonly cleared?: string;
  /** Tables dropped to take a database over. */
  readonly tookOver?: readonly string[];
  /** The read model is made at this start (a new database, cleared, or taken over), not continued. */
  readonly made: boolean;
}

/**
 * Claims `target.database` for this runtime, or refuses with nothing touched.
 * Call with the lock held. A database it may use gets the marker (with this
 * runtime as the holder); a read model derived from a table that starts
 * empty, or made by another state, is dropped so the schema trigger makes it
 * again, every table the read model's code owns included (the rebuild's state
 * and copies).
 */
export async function claimReadModel(target: DatabaseTarget, claim: Claim): Promise<ClaimResult> {
  const connection = await createConnection({
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    dateStrings: true,
  });
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      'SELECT table_name AS name, table_type AS type FROM information_schema.tables WHERE table_schema = ? ORDER BY table_name',
      [target.database],
    );
    const tables = rows.map((row) => String(row.name));
    // A view named like a read-model table is dropped as a view: DROP TABLE IF EXISTS passed over it with
    // a warning, the schema's CREATE TABLE IF NOT EXISTS then kept it, and every projection write failed.
    const views = new Set(rows.filter((row) => String(row.type) === 'VIEW').map((row) => String(row.name)));
    const owned = new Set([...readModelOwnedTables(), OWNER_TABLE]);
    const marker = tables.includes(OWNER_TABLE) ? await readMarker(connection, target.database) : undefined;
    let result: Omit<ClaimResult, 'made'> = {};
    if (marker) {
      const refusal = markerRefusal(target, marker, claim);
      if (refusal && !claim.takeOver) throw new ReadModelRefusedError(refusal);
      const sameState =
        marker.state.kind === claim.state.kind && (marker.state.kind === 'memory' || (claim.state.kind === 'data' && marker.state.id === claim.state.id));
      if (refusal) result = { cleared: `taken over (--take-over): ${refusal.replace(/^.*? holds /, 'it held ')}` };
      else if (!sameState) result = { cleared: `it was made by a runtime ${describeState(marker.state)}, which is not running` };
      else if (claim.sourceCreated) result = { cleared: `it is derived from ${claim.sourceTable}, which starts empty` };
    } else if (tables.length > 0) {
      if (!claim.takeOver) throw new ReadModelRefusedError(unmarkedRefusal(target, tables, owned));
      const dropped = tables.filter((table) => owned.has(table));
      await refuseReferenced(connection, target, dropped);
      await dropTables(connection, dropped, views);
      result = { tookOver: dropped };
    }
    if (result.cleared) {
      const cleared = tables.filter((table) => owned.has(table) && table !== OWNER_TABLE);
      await refuseReferenced(connection, target, cleared);
      await dropTables(connection, cleared, views);
    }
    await writeMarker(connection, claim);
    return { ...result, made: !marker || result.cleared !== undefined };
  } finally {
    await connection.end().catch(() => undefined);
  }
}

/** Why a marked database is not this runtime's to use, or undefined. */
function markerRefusal(target: DatabaseTarget, marker: Marker, claim: Claim): string | undefined {
  const takeOver = '--take-over to discard that read model and make this runtime its owner';
  if (marker.sourceTable !== claim.sourceTable) {
    return `${where(target)} holds the read model of another pipeline (derived from table ${marker.sourceTable}; this runtime's is ${claim.sourceTable}); nothing in it was touched. Give this runtime a database of its own with ${ANOTHER_DATABASE(target)}, or ${takeOver}`;
  }
  if (marker.state.kind === 'data' && (claim.state.kind !== 'data' || claim.state.id !== marker.state.id)) {
    return `${where(target)} holds the read model of the local runtime whose state is ${describeState(marker.state)}; this runtime's state is ${describeState(claim.state)}, and nothing in it was touched. Start with --data ${marker.state.dir} to continue that one, give this runtime a database of its own with ${ANOTHER_DATABASE(target)}, or ${takeOver}`;
  }
  return undefined;
}

function unmarkedRefusal(target: DatabaseTarget, tables: readonly string[], owned: ReadonlySet<string>): string {
  const shown = tables.length > 8 ? `${tables.slice(0, 8).join(', ')} and ${tables.length - 8} more` : tables.join(', ');
  const named = tables.filter((table) => owned.has(table));
  const what =
    named.length === tables.length
      ? "tables named like the read model's with no owner recorded (made by hand, by another tool, or by a runtime before it recorded ownership)"
      : 'tables this runtime did not create';
  const effect =
    named.length > 0
      ? `it then drops ${named.join(', ')} and makes ${named.length === 1 ? 'it' : 'them'} again as the read model's${named.length < tables.length ? ', and leaves the other tables alone' : ''}`
      : 'it leaves those tables alone and adds the read model beside them';
  return `${where(target)} holds ${what}: ${shown}; nothing in it was touched. Give this runtime a database of its own with ${ANOTHER_DATABASE(target)}, or let it own this one with --take-over (${effect})`;
}

async function dropTables(connection: Connection, tables: readonly string[], views: ReadonlySet<string>): Promise<void> {
  for (const table of tables) await connection.query(views.has(table) ? 'DROP VIEW IF EXISTS ??' : 'DROP TABLE IF EXISTS ??', [table]);
}

/**
 * Refuses, before anything is dropped, when a table that stays has a foreign
 * key to one that would go: the server refused the drop half-way (after the
 * tables before it had gone) with a message naming no table.
 */
async function refuseReferenced(connection: Connection, target: DatabaseTarget, dropping: readonly string[]): Promise<void> {
  if (dropping.length === 0) return;
  const [rows] = await connection.query<RowDataPacket[]>(
    `SELECT table_name AS child, constraint_name AS name, referenced_table_name AS parent
       FROM information_schema.referential_constraints
      WHERE constraint_schema = ? AND unique_constraint_schema = ? AND referenced_table_name IN (?) AND table_name NOT IN (?)
      ORDER BY table_name, constraint_name`,
    [target.database, target.database, dropping, dropping],
  );
  if (rows.length === 0) return;
  const references = rows.map((row) => `${String(row.child)} (foreign key ${String(row.name)} → ${String(row.parent)})`).join(', ');
  throw new ReadModelRefusedError(
    `${where(target)}: the read model's tables cannot be dropped and made again while other tables refer to them: ${references}; nothing in it was touched. Drop those foreign keys, or give this runtime a database of its own with ${ANOTHER_DATABASE(target)}`,
  );
}

async function writeMarker(connection: Connection, claim: Claim): Promise<void> {
  await connection.query(
    `CREATE TABLE IF NOT EXISTS ?? (
       id                TINYINT UNSIGNED NOT NULL,
       source_table      VARCHAR(255) NOT NULL,
       state_kind        VARCHAR(16) CHARACTER SET ascii NOT NULL,
       state_dir         VARCHAR(1024) NULL,
       state_id          VARCHAR(64) CHARACTER SET ascii NULL,
       claimed_at        DATETIME(3) NOT NULL,
       holder_pid        INT UNSIGNED NULL,
       holder_host       VARCHAR(255) NULL,
       holder_endpoint   VARCHAR(255) NULL,
       holder_connection BIGINT UNSIGNED NULL,
       holder_since      DATETIME(3) NULL,
       PRIMARY KEY (id)
     ) ENGINE = InnoDB`,
    [OWNER_TABLE],
  );
  const { state, holder } = claim;
  await connection.query(
    `INSERT INTO ?? (id, source_table, state_kind, state_dir, state_id, claimed_at, holder_pid, holder_host, holder_endpoint, holder_connection, holder_since)
     VALUES (1, ?, ?, ?, ?, UTC_TIMESTAMP(3), ?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE source_table = VALUES(source_table), state_kind = VALUES(state_kind), state_dir = VALUES(state_dir), state_id = VALUES(state_id),
       holder_pid = VALUES(holder_pid), holder_host = VALUES(holder_host), holder_endpoint = VALUES(holder_endpoint),
       holder_connection = VALUES(holder_connection), holder_since = VALUES(holder_since)`,
    [
      OWNER_TABLE,
      claim.sourceTable,
      state.kind,
      state.kind === 'data' ? state.dir : null,
      state.kind === 'data' ? state.id : null,
      holder.pid,
      holder.host,
      holder.endpoint,
      holder.connectionId,
      holder.since.replace('T', ' ').replace('Z', ''),
    ],
  );
}
