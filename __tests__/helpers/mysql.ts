import { READ_MODEL_TABLE_KEYS, READ_MODEL_TABLES, type ReadModelTables } from '../../handlers/read-model/tables';
import { randomBytes } from 'node:crypto';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { loadMigrations, migrate } from '../../handlers/read-model/migrations';
import { roleUserName } from '../../handlers/read-model/users';
import { connectionOptions, useReadCommitted, type DbSettings } from '../../handlers/shared/db';

/** The server tests use: `DB_URL`, default `mysql://root@127.0.0.1:3306`. */
export function serverUrl(): URL {
  return new URL(process.env.DB_URL ?? 'mysql://root@127.0.0.1:3306');
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
  const [orders] = await pool.query('SELECT order_id, ordered_at, content_hash, line_count FROM ?? ORDER BY order_id', [tables.orders]);
  const [lines] = await pool.query('SELECT * FROM ?? ORDER BY order_id, line_no', [tables.orderLines]);
  const [totals] = await pool.query('SELECT * FROM ?? ORDER BY item_id', [tables.itemTotals]);
  const [months] = await pool.query('SELECT * FROM ?? ORDER BY item_id, month_start', [tables.itemMonthlyTotals]);
  return { orders, lines, totals, months };
}

/** Drops a read-model database and the role users init-schema made for it. */
export async function dropReadModel(admin: Connection, database: string): Promise<void> {
  await admin.query('DROP DATABASE IF EXISTS ??', [database]);
  for (const role of ['reader', 'writer'] as const) await admin.query('DROP USER IF EXISTS ?@?', [roleUserName(role, database), '%']);
}

/** Empties the read model's tables (between the runs of a property). */
export async function truncateReadModel(connection: Connection, tables: ReadModelTables = READ_MODEL_TABLES): Promise<void> {
  for (const key of READ_MODEL_TABLE_KEYS) await connection.query('TRUNCATE TABLE ??', [tables[key]]);
}
