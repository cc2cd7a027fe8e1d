import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPool, type Pool } from 'mysql2/promise';
import { adminSettings, serverUrl, dropReadModelDatabase } from './mysql';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The local runtime, started as `npm start` would, in a child process on a free port. */
export interface RunningLocalRuntime {
  readonly endpoint: string;
  readonly busName: string;
  readonly busArn: string;
  readonly stateMachineArn: string;
  readonly database: string;
  /** The endpoint file it writes (ORDER_PIPELINE_ENDPOINT_FILE): give it to a CLI to find this runtime. */
  readonly endpointFile: string;
  readonly process: ChildProcess;
  output(): string;
  /**
   * Sends SIGINT and resolves with the exit code. Throws first if the run
   * recorded an IAM denial, unless it was started with `allowDenials`: every
   * test runs with enforcement on and must need no permission the stacks lack.
   */
  stop(): Promise<number | null>;
}

/**
 * Starts `local/main.ts` (or `entry`, a script that takes the same options and prints the same summary)
 * with its own read-model database (dropped on stop); retries every 10 ms unless `retryDelayMs` says
 * otherwise (`null`: as the stacks define them).
 */
export async function startLocalRuntime(
  options: { entry?: string; args?: string[]; retryDelayMs?: number | null; dbUrl?: string; env?: NodeJS.ProcessEnv; allowDenials?: boolean } = {},
): Promise<RunningLocalRuntime> {
  const url = serverUrl();
  const database = options.dbUrl ? new URL(options.dbUrl).pathname.slice(1) : `test_local_${randomBytes(4).toString('hex')}`;
  // Each runtime writes its endpoint file of its own: never the checkout's, which a developer's npm start may own.
  const endpointFile = path.join(tmpdir(), `order-pipeline-endpoint-${randomBytes(6).toString('hex')}.json`);
  const dbUrl = options.dbUrl ?? `mysql://${url.username || 'root'}${url.password ? `:${url.password}` : ''}@${url.hostname}:${url.port || 3306}/${database}`;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      options.entry ?? 'local/main.ts',
      '--port',
      '0',
      '--db-url',
      dbUrl,
      ...(options.retryDelayMs === null ? [] : ['--retry-delay-ms', String(options.retryDelayMs ?? 10)]),
      ...(options.args ?? []),
    ],
    { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ORDER_PIPELINE_ENDPOINT_FILE: endpointFile, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const field = (name: string) => new RegExp(`^\\s+${name}\\s+(\\S+)`, 'm').exec(output)?.[1];
  const deadline = Date.now() + 30_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      // A start that failed may have made its database already: one the helper named is dropped here, as stop() would.
      if (child.exitCode === null) {
        const gone = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await gone;
      }
      if (!options.dbUrl) await dropReadModelDatabase(database).catch(() => undefined);
      throw new Error(`local runtime did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    endpoint: field('endpoint') as string,
    busName: field('event bus') as string,
    busArn: field('event bus ARN') as string,
    stateMachineArn: field('state machine') as string,
    database,
    endpointFile,
    process: child,
    output: () => output,
    async stop() {
      const denials =
        child.exitCode === null && !options.allowDenials ? ((await (await fetch(`${field('endpoint') as string}/_local/denials`)).json()) as unknown[]) : [];
      if (child.exitCode === null) child.kill('SIGINT');
      const code = await exited;
      const refused = () => {
        if (denials.length > 0) throw new Error(`the synthesized IAM refused calls during this test:\n${JSON.stringify(denials, null, 2)}`);
      };
      if (options.dbUrl) {
        refused();
        return code;
      }
      await dropReadModelDatabase(database);
      refused();
      return code;
    },
  };
}

/** A pool on the read-model database of a runtime started by {@link startLocalRuntime}. */
export function readModelPool(runtime: RunningLocalRuntime): Pool {
  return createPool({ ...adminSettings(), database: runtime.database });
}

/** Runs `local/main.ts` with `args` when it is expected to refuse to start: its exit code and output. */
export async function runLocalRuntimeToExit(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const endpointFile = path.join(tmpdir(), `order-pipeline-endpoint-${randomBytes(6).toString('hex')}.json`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', ORDER_PIPELINE_ENDPOINT_FILE: endpointFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, output };
}

/** `mysql://…/<database>` on the test server. */
export function databaseUrl(database: string): string {
  const url = serverUrl();
  return `mysql://${url.username || 'root'}${url.password ? `:${url.password}` : ''}@${url.hostname}:${url.port || 3306}/${database}`;
}
