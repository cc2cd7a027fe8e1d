import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import {
  MigrationChecksumError,
  MigrationFailedError,
  MigrationIncompleteError,
  MigrationLockError,
  MigrationLockWaitError,
  MigrationSetError,
} from './errors';
import { goesThroughRebuild, onlineProblem, splitStatements, stepKind, throughRebuildProblem } from './migration-sql';
import { BOOKKEEPING_TABLES } from '../../config/read-model-tables';

/** One versioned SQL migration file, `NNNN-name.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** SHA-256 of the file, line endings normalised. */
  readonly checksum: string;
  /** Its statements, one step each, in order. */
  readonly steps: readonly string[];
  /** Applied by the rebuild to its fresh tables, not to the live ones (see `migration-sql.ts`). */
  readonly throughRebuild: boolean;
}

/** What a migration run did. */
export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
  /** A through-rebuild migration and the ones after it: they wait for `npm run rebuild-read-model`. */
  readonly awaitingRebuild: readonly string[];
}

/** A step starting or done, for logs (and tests that stop a run between steps). */
export interface StepEvent {
  readonly migration: string;
  readonly step: number;
  readonly steps: number;
  readonly state: 'started' | 'done';
  /** The step had been started by an earlier run that stopped inside it. */
  readonly resumed: boolean;
}

/** How a run waits and when it stops. */
export interface MigrateOptions {
  /** How long to wait for another runner's named lock. @default 60 */
  readonly lockTimeoutSeconds?: number;
  /**
   * How long one attempt of a step may wait for its table locks (`lock_wait_timeout`, and
   * `innodb_lock_wait_timeout` for row statements). While a DDL statement waits for a table
   * held by a long transaction, every statement queued behind it waits too (the projection's
   * writes among them): this bounds that wait. @default {@link MIGRATION_LOCK_WAIT_SECONDS}
   */
  readonly lockWaitSeconds?: number;
  /** Attempts of a step that times out waiting for its locks. @default {@link MIGRATION_STEP_ATTEMPTS} */
  readonly attempts?: number;
  /** Pause between attempts, doubled each time up to 10 s, so the queued statements drain. @default 1000 */
  readonly retryDelayMs?: number;
  /** False when no new step should start (a Lambda's time running out); the run stops and the next resumes. */
  readonly keepGoing?: () => boolean;
  readonly onStep?: (event: StepEvent) => void | Promise<void>;
  readonly logger?: { warn(message: string, ...extra: unknown[]): void };
}

/**
 * A few seconds: MySQL's default `lock_wait_timeout` is a year (MySQL 8.0
 * Reference Manual, Server System Variables, lock_wait_timeout), and a DDL
 * statement waiting that long behind a transaction would stall every
 * projection batch behind it.
 */
const MIGRATION_LOCK_WAIT_SECONDS = 5;
/** Attempts of a step that cannot take its locks: with the pauses, about two minutes of a long transaction. */
const MIGRATION_STEP_ATTEMPTS = 12;

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
const LOCK_WAIT_TIMEOUT = 1205;
const DEADLOCK = 1213;
/** What a DDL step that had already taken effect answers when run again. */
const ALREADY_DONE = new Set([
  1050 /* table exists */, 1051 /* unknown table */, 1060 /* duplicate column */, 1061 /* duplicate key name */, 1091 /* can't drop: no such column or key */,
]);

/** Computes a migration's checksum. */
function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** The label of a migration in reports and logs. */
export function migrationLabel(migration: Pick<Migration, 'version' | 'name'>): string {
  return `${String(migration.version).padStart(4, '0')}-${migration.name}`;
}

/** Reads, splits, checks and orders the migration files of `dir`, refusing an inconsistent set or a statement that is not online. */
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
    const steps = splitStatements(sql);
    if (steps.length === 0) throw new MigrationSetError(`migration file ${file} has no statement`);
    const throughRebuild = goesThroughRebuild(sql);
    steps.forEach((statement, index) => {
      const problem = throughRebuild ? throughRebuildProblem(statement) : onlineProblem(statement);
      if (problem) throw new MigrationSetError(`migration file ${file}, step ${index + 1} (${statement.slice(0, 120)}) ${problem}`);
    });
    migrations.push({ version, name: match[2] as string, sql, checksum: migrationChecksum(sql), steps, throughRebuild });
  }
  if (migrations.length === 0) throw new MigrationSetError(`no migration files in ${dir}`);
  return migrations;
}

interface AppliedRow extends RowDataPacket {
  version: number;
  name: string;
  checksum: string;
}

interface StepRow extends RowDataPacket {
  version: number;
  step: number;
  checksum: string;
  state: 'started' | 'done';
}

/** Creates the bookkeeping tables: the applied migrations, and the steps of those under way. */
async function prepareBookkeeping(connection: Connection): Promise<void> {
  await connection.query(
    `CREATE TABLE IF NOT EXISTS ?? (
       version    INT UNSIGNED NOT NULL,
       name       VARCHAR(200) NOT NULL,
       checksum   CHAR(64) CHARACTER SET ascii NOT NULL,
       applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       PRIMARY KEY (version)
     ) ENGINE = InnoDB`,
    [BOOKKEEPING_TABLES.migrations],
  );
  await connection.query(
    `CREATE TABLE IF NOT EXISTS ?? (
       version    INT UNSIGNED NOT NULL,
       step       SMALLINT UNSIGNED NOT NULL,
       checksum   CHAR(64) CHARACTER SET ascii NOT NULL,
       state      VARCHAR(8) CHARACTER SET ascii NOT NULL,
       updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       PRIMARY KEY (version, step)
     ) ENGINE = InnoDB`,
    [BOOKKEEPING_TABLES.migrationSteps],
  );
}

/** Takes the read model's named lock, runs `work`, releases it. */
async function withMigrationLock<T>(connection: Connection, timeoutSeconds: number, work: () => Promise<T>): Promise<T> {
  const [[current]] = await connection.query<RowDataPacket[]>('SELECT DATABASE() AS name');
  const lock = migrationLock(String(current?.name ?? ''));
  const [lockRows] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, ?) AS locked', [lock, timeoutSeconds]);
  if (lockRows[0]?.locked !== 1) throw new MigrationLockError(lock, timeoutSeconds);
  try {
    return await work();
  } finally {
    // A failed release is harmless: the server drops the lock with the session.
    await connection.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
  }
}

/**
 * Applies the migrations not yet recorded, in version order, one statement
 * (step) at a time, under a MySQL named lock. Each step is recorded when
 * done (a row statement in the same transaction as its record), so a run
 * stopped anywhere resumes at the step it stopped at; a DDL step an earlier
 * run started but did not record is run again, and the server's "already
 * there" answer counts as done. Each attempt of a step waits at most
 * `lockWaitSeconds` for its locks, then pauses and tries again, up to
 * `attempts` times. Re-running is a no-op; a migration whose file changed
 * after it (or one of its steps) ran is refused before anything runs. A
 * through-rebuild migration stops the run: it and the ones after it wait for
 * the rebuild (`awaitingRebuild`).
 */
export async function migrate(connection: Connection, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<MigrationReport> {
  const lockWaitSeconds = options.lockWaitSeconds ?? MIGRATION_LOCK_WAIT_SECONDS;
  return withMigrationLock(connection, options.lockTimeoutSeconds ?? 60, async () => {
    await connection.query('SET SESSION lock_wait_timeout = ?, SESSION innodb_lock_wait_timeout = ?', [lockWaitSeconds, lockWaitSeconds]);
    await prepareBookkeeping(connection);
    const [rows] = await connection.query<AppliedRow[]>('SELECT version, name, checksum FROM ?? ORDER BY version', [BOOKKEEPING_TABLES.migrations]);
    const recorded = new Map(rows.map((row) => [row.version, row]));
    const [stepRows] = await connection.query<StepRow[]>('SELECT version, step, checksum, state FROM ?? ORDER BY version, step', [
      BOOKKEEPING_TABLES.migrationSteps,
    ]);

    for (const migration of migrations) {
      const row = recorded.get(migration.version);
      if (row && row.checksum !== migration.checksum) throw new MigrationChecksumError(migration.version, migration.name, row.checksum, migration.checksum);
      const partly = stepRows.find((step) => step.version === migration.version && step.checksum !== migration.checksum);
      if (!row && partly) throw new MigrationChecksumError(migration.version, migration.name, partly.checksum, migration.checksum, true);
    }

    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    const awaitingRebuild: string[] = [];
    for (const migration of migrations) {
      const label = migrationLabel(migration);
      if (recorded.has(migration.version)) {
        alreadyApplied.push(label);
        continue;
      }
      if (awaitingRebuild.length > 0 || migration.throughRebuild) {
        awaitingRebuild.push(label);
        continue;
      }
      const states = new Map(stepRows.filter((step) => step.version === migration.version).map((step) => [step.step, step.state]));
      for (const [offset, statement] of migration.steps.entries()) {
        const step = offset + 1;
        if (states.get(step) === 'done') continue;
        if (options.keepGoing && !options.keepGoing()) throw new MigrationIncompleteError(migration.version, migration.name, step);
        await runStep(connection, migration, { step, statement, resumed: states.get(step) === 'started' }, { ...options, lockWaitSeconds });
      }
      await connection.query('INSERT INTO ?? (version, name, checksum) VALUES (?, ?, ?)', [
        BOOKKEEPING_TABLES.migrations,
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      applied.push(label);
    }
    return { applied, alreadyApplied, awaitingRebuild };
  });
}

/** One step, attempt after attempt while it times out waiting for its locks. */
async function runStep(
  connection: Connection,
  migration: Migration,
  current: { step: number; statement: string; resumed: boolean },
  options: MigrateOptions & { lockWaitSeconds: number },
): Promise<void> {
  const { step, statement, resumed } = current;
  const label = migrationLabel(migration);
  const attempts = options.attempts ?? MIGRATION_STEP_ATTEMPTS;
  const event = (state: StepEvent['state']) => options.onStep?.({ migration: label, step, steps: migration.steps.length, state, resumed });
  const record = (state: StepEvent['state']) =>
    connection.query(
      'INSERT INTO ?? (version, step, checksum, state) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE state = ?, updated_at = CURRENT_TIMESTAMP(3)',
      [BOOKKEEPING_TABLES.migrationSteps, migration.version, step, migration.checksum, state, state],
    );
  await event('started');
  for (let attempt = 1; ; attempt++) {
    try {
      if (stepKind(statement) === 'rows') {
        // The rows and the step's record commit together: the step runs exactly once.
        await connection.query('START TRANSACTION');
        await connection.query(statement);
        await record('done');
        await connection.query('COMMIT');
      } else {
        // DDL commits on its own: recorded as started first, so a run that stops inside it knows.
        await record('started');
        await connection.query(statement).catch((error: unknown) => {
          if (!(resumed && ALREADY_DONE.has(Number((error as { errno?: number }).errno)))) throw error;
          options.logger?.warn(`migration ${label} step ${step} had taken effect before the run that started it stopped`, { error });
        });
        await record('done');
      }
      await event('done');
      return;
    } catch (error) {
      if (stepKind(statement) === 'rows') await connection.query('ROLLBACK').catch(() => undefined);
      const errno = Number((error as { errno?: number }).errno);
      if (errno !== LOCK_WAIT_TIMEOUT && errno !== DEADLOCK) throw new MigrationFailedError(migration.version, migration.name, { cause: error, step });
      if (attempt >= attempts) {
        const oldestTransaction = await oldestOpenTransaction(connection);
        throw new MigrationLockWaitError(
          migration.version,
          migration.name,
          step,
          { attempts, lockWaitSeconds: options.lockWaitSeconds, ...(oldestTransaction ? { oldestTransaction } : {}) },
          { cause: error },
        );
      }
      options.logger?.warn(
        `migration ${label} step ${step} could not take its locks within ${options.lockWaitSeconds} s (attempt ${attempt} of ${attempts}); trying again`,
      );
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, (options.retryDelayMs ?? 1_000) * 2 ** (attempt - 1))));
    }
  }
}

/** The oldest open InnoDB transaction (its connection and age), to name in an error; undefined when it cannot be read. */
async function oldestOpenTransaction(connection: Connection): Promise<string | undefined> {
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      'SELECT trx_mysql_thread_id AS thread, TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS seconds FROM information_schema.innodb_trx WHERE trx_mysql_thread_id <> CONNECTION_ID() ORDER BY trx_started LIMIT 1',
    );
    const oldest = rows[0];
    return oldest ? `connection ${oldest.thread}, open for ${oldest.seconds} s` : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The migration the rebuild must apply to its fresh tables: the first one not
 * yet applied, when it goes through the rebuild; undefined otherwise.
 */
export async function migrationForRebuild(connection: Pick<Connection, 'query'>, migrations: readonly Migration[]): Promise<Migration | undefined> {
  const [tables] = await connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?', [
    BOOKKEEPING_TABLES.migrations,
  ]);
  if (tables.length === 0) return undefined;
  const [rows] = await connection.query<AppliedRow[]>('SELECT version FROM ?? ORDER BY version', [BOOKKEEPING_TABLES.migrations]);
  const applied = new Set(rows.map((row) => row.version));
  const next = migrations.find((migration) => !applied.has(migration.version));
  return next?.throughRebuild ? next : undefined;
}

/**
 * Records a through-rebuild migration as applied once the rebuild's swap
 * brought its tables in, then applies the migrations after it.
 */
export async function completeThroughRebuild(
  connection: Connection,
  migration: Migration,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): Promise<MigrationReport> {
  await withMigrationLock(connection, options.lockTimeoutSeconds ?? 60, async () => {
    await prepareBookkeeping(connection);
    await connection.query('INSERT IGNORE INTO ?? (version, name, checksum) VALUES (?, ?, ?)', [
      BOOKKEEPING_TABLES.migrations,
      migration.version,
      migration.name,
      migration.checksum,
    ]);
  });
  return migrate(connection, migrations, options);
}
