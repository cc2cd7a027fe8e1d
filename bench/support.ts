/**
 * Shared pieces of the benchmarks: throwaway databases, a per-client
 * statement counter, a Secrets Manager endpoint for the bundled handlers,
 * percentiles, and small formatting helpers.
 */
import { allRoleUserNames } from '../handlers/read-model/users';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { connect as connectTcp, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { loadMigrations, migrate } from '../handlers/read-model/migrations';
import { useReadCommitted } from '../handlers/shared/db';
import { readBody, sendJson } from '../local/http';
import { parseJsonBody, sendJsonError } from '../local/protocols/json';
import { AwsError } from '../local/errors';
import { LocalSecrets } from '../local/secrets';

/** The server the benchmarks use: `DB_URL`, default `mysql://root@127.0.0.1:3306`. */
export function benchServer() {
  const url = new URL(process.env.DB_URL ?? 'mysql://root@127.0.0.1:3306');
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
}

/** How to reach a server: `benchServer()`, or a private one ({@link startTlsServer}). */
type BenchServer = ReturnType<typeof benchServer>;

/** A MariaDB/MySQL server of the benchmark's own that speaks TLS: its address, its certificate, and `stop()`. */
export interface TlsServer extends BenchServer {
  /** The self-signed certificate the server presents (PEM), for clients to trust. */
  readonly ca: string;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway server with TLS on (the machine's server has it off, and
 * cannot turn it on without a restart): a data directory from
 * `mariadb-install-db` (or `mysqld --initialize-insecure`), a self-signed
 * certificate from `openssl`, on a free port. Removed by `stop()`.
 */
export async function startTlsServer(): Promise<TlsServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-tls-'));
  const run = promisify(execFile);
  const data = path.join(dir, 'data');
  const user = userInfo().username;
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]);
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', `--user=${user}`]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot make a TLS server for the benchmark (needs openssl and mariadb-install-db on PATH): ${(error as Error).message}`, { cause: error });
  }
  const port = await new Promise<number>((resolve) => {
    const probe = createTcpServer().listen(0, '127.0.0.1', () => {
      const free = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(free));
    });
  });
  const server = spawn(
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${path.join(dir, 'sock')}`,
      `--user=${user}`,
      `--ssl-cert=${path.join(dir, 'cert.pem')}`,
      `--ssl-key=${path.join(dir, 'key.pem')}`,
      '--skip-log-bin',
      '--innodb-buffer-pool-size=256M',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async () => {
    if (server.exitCode === null) server.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const address = { host: '127.0.0.1', port, user: 'root', password: '' };
  for (const deadline = Date.now() + 60_000; ;) {
    try {
      const connection = await createConnection(address);
      const [[row]] = (await connection.query('SELECT VERSION() AS version')) as unknown as [[{ version: string }]];
      await connection.end();
      return { ...address, ca: await readFile(path.join(dir, 'cert.pem'), 'utf8'), version: row.version, stop };
    } catch (error) {
      if (server.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`the benchmark's TLS server did not start: ${(error as Error).message}\n${log.slice(-2_000)}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** A database of the benchmark's own, dropped by `drop()`. */
interface BenchDatabase {
  readonly name: string;
  readonly pool: Pool;
  connect(): Promise<Connection>;
  drop(): Promise<void>;
}

/** Creates `bench_<tag>_<random>`, with the read-model schema unless `schema` is false. */
export async function createBenchDatabase(tag: string, schema = true, server: BenchServer = benchServer()): Promise<BenchDatabase> {
  const name = `bench_${tag}_${randomBytes(3).toString('hex')}`;
  const admin = await createConnection(server);
  await admin.query('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [name]);
  await admin.end();
  const options = { ...server, database: name, dateStrings: true as const, timezone: 'Z', supportBigNumbers: true, charset: 'utf8mb4_bin' };
  const connect = () => createConnection({ ...options, multipleStatements: true });
  if (schema) {
    const connection = await connect();
    await migrate(connection, await loadMigrations());
    await connection.end();
  }
  const pool = useReadCommitted(createPool({ ...options, connectionLimit: 10 }));
  return {
    name,
    pool,
    connect,
    async drop() {
      await pool.end();
      const cleanup = await createConnection(server);
      await cleanup.query('DROP DATABASE IF EXISTS ??', [name]);
      // The role users init-schema made for it (a local pipeline run).
      for (const user of allRoleUserNames(name)) await cleanup.query('DROP USER IF EXISTS ?@?', [user, '%']);
      await cleanup.end();
    },
  };
}

/** A TCP proxy in front of the MySQL server that counts the statements its own clients send. */
interface StatementCounter {
  readonly port: number;
  /** Statements (COM_QUERY and COM_STMT_EXECUTE commands) sent through the proxy so far. */
  statements(): number;
  close(): Promise<void>;
}

/**
 * Counts statements per client, not per server: every connection made
 * through the proxy is counted, whatever else uses the server (the global
 * `Questions` counter took other tests' statements too: 13 instead of 6 per
 * 1,000 orders while another test ran). A command is the first packet of a
 * client exchange (sequence id 0); TLS is off on the bench connections.
 */
export async function statementCounter(host: string, port: number): Promise<StatementCounter> {
  let statements = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connectTcp(port, host);
    sockets.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      // MySQL packets: 3-byte little-endian length, 1-byte sequence id, then the payload.
      while (pending.length >= 4 && pending.length >= 4 + pending.readUIntLE(0, 3)) {
        const length = pending.readUIntLE(0, 3);
        if (pending[3] === 0 && length > 0 && (pending[4] === 0x03 || pending[4] === 0x17)) statements++;
        pending = pending.subarray(4 + length);
      }
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    statements: () => statements,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A Secrets Manager endpoint serving the bench database's credentials. */
export async function startSecretsEndpoint(
  secretName: string,
  value: Record<string, unknown>,
): Promise<{ url: string; secretArn: string; close(): Promise<void> }> {
  const secrets = new LocalSecrets('us-east-1', '000000000000');
  const secretArn = secrets.put(secretName, value);
  const service = secrets.service();
  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const target = String(request.headers['x-amz-target'] ?? '');
        const handler = service.operations[target.split('.')[1] ?? ''];
        if (!handler) throw new AwsError('UnknownOperationException', target);
        sendJson(response, 200, await handler(parseJsonBody(await readBody(request))), 'application/x-amz-json-1.1');
      } catch (error) {
        sendJsonError(response, error instanceof AwsError ? error : new AwsError('InternalFailure', (error as Error).message, 500));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    secretArn,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** The median. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Rounds for display and for latest.json. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Times an async function, in milliseconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** A deterministic pseudo-random generator (mulberry32), so runs are comparable. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
