/**
 * The README's commands, run as a reader runs them. Its shell blocks marked
 * `bash local-runtime` (the runtime, started once in the background) and
 * `bash local` (everything else meant to run on a laptop) are taken from
 * README.md itself and run in order in one shell, so what a block exports
 * holds for the next ones, against the runtime the first block starts. What
 * the test changes, and only that: the runtime listens on a free port (the
 * blocks' `127.0.0.1:4566` is rewritten to it), on a database of the test's
 * own, with its endpoint file in a temporary folder; nothing of the suite's
 * AWS settings reaches the blocks. A command that stops working fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { budget } from '../helpers/budget';
import { databaseUrl } from '../helpers/local-runtime';
import { dropReadModelDatabase } from '../helpers/mysql';

/** The README's shell blocks of one kind, in order. */
function readmeBlocks(markdown: string, kind: 'local' | 'local-runtime'): string[] {
  const blocks: string[] = [];
  const fence = /^```bash ([a-z-]+)\n([\s\S]*?)^```$/gm;
  for (const match of markdown.matchAll(fence)) if (match[1] === kind) blocks.push((match[2] as string).trimEnd());
  return blocks;
}

const README = readFileSync('README.md', 'utf8');
const database = `test_readme_${randomBytes(4).toString('hex')}`;
const endpointFile = path.join(tmpdir(), `readme-endpoint-${randomBytes(4).toString('hex')}.json`);
let port: number;
let runtime: ChildProcess | undefined;
let runtimeOutput = '';

/** The environment of a reader's shell: theirs, without anything AWS or the suite set. */
function readerEnv(): NodeJS.ProcessEnv {
  const kept = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !name.startsWith('AWS_') && !name.startsWith('POWERTOOLS_') && !['NODE_OPTIONS', 'DB_URL', 'TEST_CLI_START_MS', 'TEST_AWS_CLI_START_MS'].includes(name),
    ),
  );
  return { ...kept, DB_URL: databaseUrl(database), LOCAL_PORT: String(port), ORDER_PIPELINE_ENDPOINT_FILE: endpointFile };
}

const forPort = (script: string) => script.replaceAll('127.0.0.1:4566', `127.0.0.1:${port}`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return free;
}

/** Runs `script` in bash with `set -e`: the exit code and everything it printed. */
function bash(script: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', `set -euo pipefail\n${script}`], { env: readerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

const localBlocks = readmeBlocks(README, 'local');
const runtimeBlocks = readmeBlocks(README, 'local-runtime');

beforeAll(
  async () => {
    port = await freePort();
    const [start] = runtimeBlocks;
    if (!start) return;
    runtime = spawn('bash', ['-c', `exec ${forPort(start.replace(/\s+#.*$/gm, ''))}`], { env: readerEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    runtime.stdout?.on('data', (chunk: Buffer) => (runtimeOutput += chunk.toString()));
    runtime.stderr?.on('data', (chunk: Buffer) => (runtimeOutput += chunk.toString()));
    const deadline = Date.now() + budget({ runtimeStarts: 1, cliRuns: 1 }) - 5_000;
    while (!runtimeOutput.includes('Press Ctrl-C to stop.')) {
      if (runtime.exitCode !== null || Date.now() > deadline) throw new Error(`the README's npm start did not start:\n${runtimeOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  },
  budget({ runtimeStarts: 1, cliRuns: 1 }),
);

afterAll(async () => {
  if (runtime?.pid && runtime.exitCode === null) {
    // npm start runs the runtime under npm and bash: Ctrl-C reaches the whole group.
    const exited = new Promise((resolve) => runtime?.once('exit', resolve));
    process.kill(-runtime.pid, 'SIGINT');
    await exited;
  }
  await dropReadModelDatabase(database);
}, 60_000);

describe("the README's commands", () => {
  it('has one block that starts the runtime, and blocks that run against it', () => {
    expect(runtimeBlocks).toEqual([expect.stringMatching(/^npm start\b/)]);
    expect(localBlocks.length).toBeGreaterThanOrEqual(5);
  });

  it('starts the runtime as written', () => {
    expect(runtimeOutput).toContain(`http://127.0.0.1:${port}`);
    expect(runtimeOutput).toContain(`read model     mysql://`);
  });

  it.each(localBlocks.map((block, index) => [index + 1, block.split('\n')[0] as string, block] as const))(
    'block %i (%s …) runs as written, each command exiting 0',
    async (_index, _first, block) => {
      // The blocks run in order in one shell: each test replays the ones before it, so exports carry over.
      const position = localBlocks.indexOf(block);
      const before = localBlocks
        .slice(0, position)
        .filter((earlier) => /^export /m.test(earlier))
        .map((earlier) =>
          earlier
            .split('\n')
            .filter((line) => line.startsWith('export '))
            .join('\n'),
        );
      const { code, output } = await bash(forPort([...before, block].join('\n')));
      expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
      expect(output).not.toMatch(/nothing answers at|You must specify a region|ECONNREFUSED/);
    },
    budget({ cliRuns: 4, awsCliRuns: 3, seconds: 10 }),
  );
});
