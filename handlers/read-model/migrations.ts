import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { MigrationChecksumError, MigrationFailedError, MigrationLockError, MigrationSetError } from './errors';

/** One versioned SQL migration file, `NNNN-name.sql`. */
interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** SHA-256 of the file, line endings normalised. */
  readonly checksum: string;
}

/** What a migration run did. */
export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
}

/**
 * Folder holding the migration files. Next to this module in the source tree,
 * and copied next to the bundle by `npm run build`.
 */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * The named lock serialising concurrent runners of one read model (two
 * deploys, a retried trigger). Named locks are server-wide, so the name
 * carries the database: read models side by side on one server never wait
 * for each other. Within the 64 characters MySQL 8.0 allows.
 */
export function migrationLock(database: string): string {
  return `order-pipeline.schema-migrations.${createHash('sha256').update(database).digest('hex').slice(0, 16)}`;
}

const FILE_NAME = /^(\d{4})-([a-z0-9-]+)\.sql$/;

/** Computes a migration's checksum. */
function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads and orders the migration files of `dir`, refusing an inconsistent set. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_NAME.exec(file);
    if (!match) throw new MigrationSetError(`migration file ${file} must be named NNNN-lower-case-name.sql`);
    const version = Number(match[1]);
    if (migrations.some((migration) => migration.version === version)) {
      throw new MigrationSetError(`two migration files have version ${version}`);
    }
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    migrations.push({ version, name: match[2] as string, sql, checksum: migrationChecksum(sql) });
  }
  if (migrations.length === 0) throw new MigrationSetError(`no migration files in ${dir}`);
  return migrations;
}

interface AppliedRow extends RowDataPacket {
  version: number;
  name: string;
  checksum: string;
}

/**
 * Applies the migrations not yet recorded, in version order, under a MySQL
 * named lock. Re-running is a no-op; an applied migration whose file changed is
 * refused before anything runs. `connection` must allow multiple statements.
 */
export async function migrate(
  connection: Connection,
  migrations: readonly Migration[],
  options: { lockTimeoutSeconds?: number } = {},
): Promise<MigrationReport> {
  const lockTimeout = options.lockTimeoutSeconds ?? 60;
  const [[current]] = await connection.query<RowDataPacket[]>('SELECT DATABASE() AS name');
  const lock = migrationLock(String(current?.name ?? ''));
  const [lockRows] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS locked', [lock, lockTimeout]);
  if (lockRows[0]?.locked !== 1) throw new MigrationLockError(lock, lockTimeout);
  try {
    await connection.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version    INT UNSIGNED NOT NULL,
         name       VARCHAR(200) NOT NULL,
         checksum   CHAR(64) CHARACTER SET ascii NOT NULL,
         applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
         PRIMARY KEY (version)
       ) ENGINE = InnoDB`,
    );
    const [rows] = await connection.query<AppliedRow[]>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    const recorded = new Map(rows.map((row) => [row.version, row]));

    for (const migration of migrations) {
      const row = recorded.get(migration.version);
      if (row && row.checksum !== migration.checksum) {
        throw new MigrationChecksumError(migration.version, migration.name, row.checksum, migration.checksum);
      }
    }

    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const migration of migrations) {
      const label = `${String(migration.version).padStart(4, '0')}-${migration.name}`;
      if (recorded.has(migration.version)) {
        alreadyApplied.push(label);
        continue;
      }
      try {
        await connection.query(migration.sql);
      } catch (error) {
        throw new MigrationFailedError(migration.version, migration.name, { cause: error });
      }
      await connection.query('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      applied.push(label);
    }
    return { applied, alreadyApplied };
  } finally {
    // A failed release is harmless: the server drops the lock with the session.
    await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}
