/**
 * How the CLIs find the local runtime, one way for all of them, in this order:
 *
 * 1. `--endpoint <url>` on the command line;
 * 2. `AWS_ENDPOINT_URL`, the standard variable the AWS SDKs and CLI read;
 * 3. the endpoint file that `npm start` writes while it runs (and removes when
 *    it stops): `.local/endpoint.json` in the checkout, or the path in
 *    `ORDER_PIPELINE_ENDPOINT_FILE`; a file left by a runtime that is no longer
 *    running (a `kill -9`) is ignored;
 * 4. `http://127.0.0.1:4566`, `npm start`'s default.
 *
 * Both sides read this module: the runtime writes the file, the CLIs read it.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The local runtime's region, which its CLIs' clients use too: `AWS_REGION`, `AWS_DEFAULT_REGION`, else us-east-1. */
export function localRegion(): string {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/** `npm start`'s endpoint when no port is given. */
export const DEFAULT_LOCAL_ENDPOINT = 'http://127.0.0.1:4566';

/** What the endpoint file holds. */
export interface EndpointFile {
  readonly endpoint: string;
  readonly pid: number;
  readonly bus: string;
  readonly startedAt: string;
}

/** Where a found endpoint came from, for messages. */
export interface FoundEndpoint {
  readonly url: string;
  readonly from: string;
}

/** The endpoint file's path: `ORDER_PIPELINE_ENDPOINT_FILE`, else `.local/endpoint.json` in the checkout. */
export function endpointFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ORDER_PIPELINE_ENDPOINT_FILE || fileURLToPath(new URL('../.local/endpoint.json', import.meta.url));
}

/** Writes the running runtime's endpoint (atomically: a reader never sees half a file). */
export function writeEndpointFile(content: EndpointFile, file = endpointFilePath()): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`);
  renameSync(temporary, file);
}

/**
 * Writes this runtime's endpoint file unless another runtime that is running
 * holds it: then that one's content, and nothing is written. The first
 * runtime of a checkout keeps the file (and the CLIs keep finding it) while a
 * second one runs beside it; the second is found with --endpoint. Overwritten,
 * the first one's file was gone for good once the second stopped.
 */
export function claimEndpointFile(content: EndpointFile, file = endpointFilePath()): EndpointFile | undefined {
  const holder = readEndpointFile(file);
  if (holder && holder.pid !== content.pid) return holder;
  writeEndpointFile(content, file);
  return undefined;
}

/** Removes the endpoint file if it is still this process's (another runtime may have started since). */
export function removeEndpointFile(pid = process.pid, file = endpointFilePath()): void {
  if (readEndpointFile(file)?.pid === pid) rmSync(file, { force: true });
}

/** The endpoint file of a runtime that is running, or undefined (no file, unreadable, or its process ended). */
export function readEndpointFile(file = endpointFilePath()): EndpointFile | undefined {
  let content: EndpointFile;
  try {
    content = JSON.parse(readFileSync(file, 'utf8')) as EndpointFile;
  } catch {
    return undefined;
  }
  if (typeof content.endpoint !== 'string' || !Number.isInteger(content.pid)) return undefined;
  try {
    process.kill(content.pid, 0);
  } catch (error) {
    // EPERM: the process exists but is another user's; ESRCH: it ended.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return content;
}

/** The local runtime's endpoint, by the rules above. */
export function findLocalEndpoint(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): FoundEndpoint {
  if (flag) return { url: flag, from: '--endpoint' };
  if (env.AWS_ENDPOINT_URL) return { url: env.AWS_ENDPOINT_URL, from: 'AWS_ENDPOINT_URL' };
  const file = endpointFilePath(env);
  const running = readEndpointFile(file);
  if (running)
    return { url: running.endpoint, from: `${path.relative(process.cwd(), file) || file}, written by the runtime npm start runs (pid ${running.pid})` };
  return { url: DEFAULT_LOCAL_ENDPOINT, from: "npm start's default (no --endpoint, no AWS_ENDPOINT_URL, and no runtime running from this checkout)" };
}

/** What every CLI's usage text says about finding the runtime. */
export const ENDPOINT_USAGE = `The local runtime is found with --endpoint <url>, else AWS_ENDPOINT_URL, else the
endpoint npm start writes to .local/endpoint.json while it runs, else ${DEFAULT_LOCAL_ENDPOINT}.`;

/** A message for a local endpoint that did not answer: what was tried, and how to point elsewhere. */
export function unreachableMessage(found: FoundEndpoint, error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
  const name = (error as Error).name;
  if (!['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT'].includes(code ?? name)) return undefined;
  return `nothing answers at ${found.url} (from ${found.from}): ${code ?? name}. Start the local pipeline with npm start (-- --port <n> for another port), or point this command at a running one with --endpoint <url> or AWS_ENDPOINT_URL.`;
}
