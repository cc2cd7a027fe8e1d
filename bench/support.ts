/**
 * Shared pieces of the benchmarks: throwaway databases, a per-client
 * statement counter, a Secrets Manager endpoint for the bundled handlers,
 * percentiles, and small formatting helpers.
 */
import { allRoleUserNames } from '../handlers/read-model/users';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect as connectTcp, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { loadMigrations, migrate } from '../handlers/read-model/migrations';
import { useReadCommitted } from '../handlers/shared/db';
import { AwsError, parseJsonBody, readBody, sendAwsError, sendJson } from '../local/aws-protocol';
import { LocalSecrets } from '../local/secrets';

/** The server the benchmarks use: `DB_URL`, default `mysql://root@127.0.0.1:3306`. */
export function benchServer() {
  const url = new URL(process.env.DB_URL ?? 'mysql://root@127.0.0.1:3306');
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
}

/** A database of the benchmark's own, dropped by `drop()`. */
interface BenchDatabase {
  readonly name: string;
  readonly pool: Pool;
  connect(): Promise<Connection>;
  drop(): Promise<void>;
}

/** Creates `bench_<tag>_<random>`, with the read-model schema unless `schema` is false. */
export async function createBenchDatabase(tag: string, schema = true): Promise<BenchDatabase> {
  const server = benchServer();
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
export async function startSecretsEndpoint(secretName: string, value: Record<string, unknown>): Promise<{ url: string; secretArn: string; close(): Promise<void> }> {
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
        sendAwsError(response, error instanceof AwsError ? error : new AwsError('InternalFailure', (error as Error).message, 500));
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
