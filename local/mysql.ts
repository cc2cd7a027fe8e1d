/**
 * The read model's server for the local runtime: `DB_URL` (default
 * `mysql://root@127.0.0.1:3306/orders`), the database created if missing. When
 * the default URL does not answer and a `mariadbd` or `mysqld` binary is
 * installed, a private throwaway instance runs for the session instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConnection, createPool, type Pool } from 'mysql2/promise';
import { READ_MODEL_DATABASE } from '../config/pipeline';
import { UnsupportedTerraformError } from './errors';
import { claimReadModel, ReadModelLock, runtimeState } from './read-model-owner';
import { redactCredentials } from './redact';
import { customerKey } from './secrets';
import type { LocalService, ReadModelServer } from './service';
import { StatementRelay } from './statement-relay';

declare module './service' {
  interface Parts {
    /** The runtime's own view of the read model: the console's tables. */
    inspector: Pool;
  }
}

/**
 * The read model's service: the `aws_rds_cluster` is the server at `DB_URL`
 * (the runtime opens it before anything binds, since the cluster's endpoint
 * attributes resolve to it), and its managed master user secret holds that
 * server's credentials.
 */
export const readModelService: LocalService = {
  name: 'rds',
  serves: {
    aws_rds_cluster: {
      becomes: 'the MySQL server at DB_URL, and its master user secret',
      attributes: (model, resource, id) => {
        const { region, account, database } = model.context;
        const identifier = model.string(resource, 'cluster_identifier');
        return {
          id: identifier,
          cluster_identifier: identifier,
          arn: `arn:aws:rds:${region}:${account}:cluster:${identifier}`,
          cluster_resource_id: `cluster-${id.slice(0, 26).toUpperCase()}`,
          endpoint: database.host,
          reader_endpoint: database.host,
          port: database.port,
          database_name: database.name,
          master_user_secret: [
            {
              secret_arn: `arn:aws:secretsmanager:${region}:${account}:secret:rds!cluster-${id}-${id.slice(0, 6)}`,
              kms_key_id: model.field(resource, 'master_user_secret_kms_key_id') ?? 'aws/secretsmanager',
              secret_status: 'active',
            },
          ],
        };
      },
    },
  },
  async bind({ model, database, options, use, provide, onStop, status, summary, log }) {
    // Nothing is written to the database before it is known to be this runtime's (read-model-owner.ts).
    const mapping = model.only('aws_lambda_event_source_mapping');
    const source = use('dynamodb').tables.find((table) => table.streamArn === model.string(mapping, 'event_source_arn'));
    if (!source) throw new UnsupportedTerraformError(mapping.address, "the read model is projected from a stream of none of the stacks' tables");
    const claimed = await claimReadModel(database, {
      sourceTable: source.name,
      sourceCreated: use('dynamodb').created.has(source.name),
      state: runtimeState(options.dataDir),
      holder: database.holder,
      takeOver: options.takeOver === true,
    });
    if (claimed.tookOver)
      log(
        `read model ${database.database}: taken over (--take-over)${claimed.tookOver.length > 0 ? `; dropped ${claimed.tookOver.join(', ')} to make them again` : ''}`,
      );
    if (claimed.cleared) log(`read model ${database.database} cleared: ${claimed.cleared}${options.dataDir ? '' : ' (use --data <dir> to keep both)'}`);
    provide('readModelClaim', { made: claimed.made, database: database.database, sourceTable: source.name });
    const secrets = use('secrets');
    for (const cluster of model.resources('aws_rds_cluster')) {
      if (model.field(cluster, 'manage_master_user_password') !== true) {
        throw new UnsupportedTerraformError(cluster.address, 'only a cluster with manage_master_user_password runs locally (its secret points at DB_URL)');
      }
      const [secret] = model.attributes(cluster).master_user_secret as { secret_arn: string; kms_key_id: string }[];
      if (!secret) throw new UnsupportedTerraformError(cluster.address, 'has no master user secret');
      secrets.put(
        secret.secret_arn.split(':').pop() as string,
        { username: database.user, password: database.password },
        secret.secret_arn,
        customerKey(secret.kms_key_id),
      );
    }
    const inspector = createPool({
      host: database.host,
      port: database.port,
      user: database.user,
      password: database.password,
      database: database.database,
      connectionLimit: 2,
      dateStrings: true,
    });
    onStop(() => inspector.end());
    provide('inspector', inspector);
    status('readModel', () => ({
      url: database.displayUrl,
      lock: database.lockLost ? `lost: ${database.lockLost}` : `held by pid ${database.holder.pid} since ${database.holder.since}`,
    }));
    summary('read model', `${database.displayUrl} (${database.version})`);
  },
};

/** The default `DB_URL`. */
const DEFAULT_DB_URL = `mysql://root@127.0.0.1:3306/${READ_MODEL_DATABASE}`;

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/**
 * Percent-decodes one part of DB_URL; a malformed escape says which part and
 * at which character, never the part itself (it may be a password).
 */
function decodeField(part: 'user' | 'password' | 'database', text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    const bad = /%(?![0-9A-Fa-f]{2})/.exec(text)?.index;
    throw new Error(
      `DB_URL ${part} has a malformed percent-escape${bad === undefined ? ' (not UTF-8)' : ` at character ${bad + 1} of the ${part}`}: write % as %25`,
    );
  }
}

function parse(url: string): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`DB_URL is not a URL: ${redactCredentials(url)} (a password with # / ? @ must be percent-encoded)`);
  }
  if (parsed.protocol !== 'mysql:') throw new Error(`DB_URL must start with mysql://, got ${parsed.protocol}//`);
  const database = decodeField('database', parsed.pathname.replace(/^\//, '')) || READ_MODEL_DATABASE;
  if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) throw new Error(`DB_URL database name must be 1-64 letters, digits or _, got ${database}`);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: Number(parsed.port || 3306),
    user: decodeField('user', parsed.username || 'root'),
    password: decodeField('password', parsed.password),
    database,
  };
}

async function connectAndPrepare(target: Target): Promise<string> {
  const connection = await createConnection({ host: target.host, port: target.port, user: target.user, password: target.password, connectTimeout: 3_000 });
  try {
    await connection.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [target.database]);
    const [rows] = await connection.query('SELECT VERSION() AS version');
    return (rows as { version: string }[])[0]?.version ?? 'unknown';
  } finally {
    await connection.end();
  }
}

/** Where the runtime is (for the lock's holder), and the default URL. */
interface OpenOptions {
  /** The runtime's endpoint, recorded with the lock so a second runtime can name the first. */
  readonly endpoint?: string;
  /** @default mysql://root@127.0.0.1:3306/orders */
  readonly defaultUrl?: string;
}

/**
 * Opens the read-model server named by `dbUrl` (or the default, embedded if
 * needed) and takes the database's lock for the caller's life; a database
 * another runtime holds is refused, naming it.
 */
export async function openReadModelServer(dbUrl: string | undefined, log: (message: string) => void, options: OpenOptions = {}): Promise<ReadModelServer> {
  const explicit = dbUrl !== undefined && dbUrl !== '';
  const target = parse(explicit ? dbUrl : (options.defaultUrl ?? DEFAULT_DB_URL));
  const display = (t: Target) => `mysql://${encodeURIComponent(t.user)}@${t.host}:${t.port}/${t.database}`;
  let version: string | undefined;
  try {
    version = await connectAndPrepare(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const unreachable = code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'ENOTFOUND';
    if (explicit || !unreachable) {
      const advice = unreachable ? '; start a MySQL-compatible server there, or point DB_URL (or --db-url) at one that answers' : '';
      throw new Error(`the read-model server at ${display(target)} is not usable: ${redactCredentials((error as Error).message)}${advice}`, { cause: error });
    }
  }
  if (version !== undefined)
    return locked({ ...target, version, embedded: false, displayUrl: display(target), stop: async () => undefined }, options.endpoint ?? '', log);
  const binary = serverBinary();
  if (!binary) {
    throw new Error(`nothing answers at ${display(target)} and no mariadbd or mysqld is installed; start a MySQL-compatible server or set DB_URL`);
  }
  log(`nothing answers at ${display(target)}; starting a private ${path.basename(binary)} for this run`);
  return locked(await startEmbedded(binary, target.database), options.endpoint ?? '', log);
}

/** The server with its database's lock held and its relay listening; stopping closes both first. */
async function locked(
  server: Omit<ReadModelServer, 'holder' | 'lockLost' | 'relay'>,
  endpoint: string,
  log: (message: string) => void,
): Promise<ReadModelServer> {
  let lock: ReadModelLock;
  let relay: StatementRelay;
  try {
    lock = await ReadModelLock.acquire(server, endpoint, log);
  } catch (error) {
    await server.stop();
    throw error;
  }
  try {
    relay = await StatementRelay.start(server);
  } catch (error) {
    await lock.release();
    await server.stop();
    throw error;
  }
  return {
    ...server,
    holder: lock.holder,
    relay,
    get lockLost() {
      return lock.lost;
    },
    stop: async () => {
      await relay.close();
      await lock.release();
      await server.stop();
    },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Finds an installed MariaDB or MySQL server binary. */
function serverBinary(): string | undefined {
  return ['/usr/sbin/mariadbd', '/usr/sbin/mysqld', '/usr/bin/mariadbd', '/usr/bin/mysqld'].find((candidate) => existsSync(candidate));
}

/**
 * A private MariaDB/MySQL instance in a temporary folder, on a free port:
 * the local runtime's fallback, and the server the fault tests stop and restart.
 */
export class PrivateDatabase {
  readonly port: number;
  readonly #dir: string;
  readonly #binary: string;
  readonly #user: string;
  #child: ChildProcess | undefined;

  readonly #serverArgs: readonly string[];

  private constructor(binary: string, dir: string, port: number, serverArgs: readonly string[]) {
    this.#serverArgs = serverArgs;
    this.#binary = binary;
    this.#dir = dir;
    this.port = port;
    this.#user = process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'mysql');
  }

  /** Initialises a data folder and starts the server. */
  static async create(binary: string | undefined = serverBinary(), options: { readonly serverArgs?: readonly string[] } = {}): Promise<PrivateDatabase> {
    if (!binary) throw new Error('no mariadbd or mysqld is installed');
    const dir = await mkdtemp(path.join(tmpdir(), 'order-pipeline-db-'));
    const database = new PrivateDatabase(binary, dir, await freePort(), options.serverArgs ?? []);
    const dataDir = path.join(dir, 'data');
    const installer = ['/usr/bin/mariadb-install-db', '/usr/bin/mysql_install_db'].find((candidate) => existsSync(candidate));
    const install = installer
      ? spawnSync(
          installer,
          ['--no-defaults', `--datadir=${dataDir}`, `--user=${database.#user}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
          { encoding: 'utf8' },
        )
      : spawnSync(binary, ['--no-defaults', '--initialize-insecure', `--datadir=${dataDir}`, `--user=${database.#user}`], { encoding: 'utf8' });
    if (install.status !== 0) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`initialising the private database failed: ${install.stderr || install.stdout}`);
    }
    await database.start();
    return database;
  }

  /** Starts the server (again) on the same folder and port, and waits until it answers. */
  async start(): Promise<void> {
    if (this.#child && this.#child.exitCode === null) return;
    const child = spawn(
      this.#binary,
      [
        '--no-defaults',
        `--datadir=${path.join(this.#dir, 'data')}`,
        `--socket=${path.join(this.#dir, 'mysqld.sock')}`,
        `--pid-file=${path.join(this.#dir, 'mysqld.pid')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--user=${this.#user}`,
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        ...this.#serverArgs,
      ],
      { stdio: 'ignore' },
    );
    this.#child = child;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const connection = await createConnection({ host: '127.0.0.1', port: this.port, user: 'root', connectTimeout: 1_000 });
        await connection.end();
        return;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the private database did not start: ${(error as Error).message}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Stops the server, keeping its data. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

async function startEmbedded(binary: string, database: string): Promise<Omit<ReadModelServer, 'holder' | 'lockLost' | 'relay'>> {
  const server = await PrivateDatabase.create(binary);
  const target: Target = { host: '127.0.0.1', port: server.port, user: 'root', password: '', database };
  try {
    const version = await connectAndPrepare(target);
    return {
      ...target,
      version,
      embedded: true,
      displayUrl: `mysql://root@127.0.0.1:${server.port}/${database} (private instance)`,
      stop: () => server.destroy(),
    };
  } catch (error) {
    await server.destroy();
    throw error;
  }
}
