/**
 * The CLIs find the local runtime one way: --endpoint, else AWS_ENDPOINT_URL,
 * else the endpoint file the running runtime writes, else the default port;
 * and a runtime that does not answer is named, with how to point elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

const run = promisify(execFile);
let runtime: RunningLocalRuntime;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs a CLI as a reader would: no endpoint configured unless `env` says so. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'AWS_ENDPOINT_URL' && name !== 'NODE_OPTIONS' && name !== 'ORDER_PIPELINE_ENDPOINT_FILE'),
  );
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', ...args], { env: { ...clean, ...env } });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  }
}

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await runtime?.stop();
});

describe('the CLIs find the runtime', () => {
  it(
    'through the endpoint file the runtime writes while it runs, with no flag',
    async () => {
      // Prepare: the runtime is on a random port and says where its file is.
      expect(runtime.endpoint).not.toBe('http://127.0.0.1:4566');
      expect(JSON.parse(readFileSync(runtime.endpointFile, 'utf8'))).toMatchObject({ endpoint: runtime.endpoint, pid: runtime.process.pid });
      const env = { ORDER_PIPELINE_ENDPOINT_FILE: runtime.endpointFile };

      // Act
      const sent = await cli(['scripts/send.ts', 'events/create-order-6102.json', '--wait'], env);
      const queried = await cli(['scripts/query.ts', 'itemsSalesReport'], env);
      const rebuilt = await cli(['scripts/rebuild-read-model.ts'], env);
      const redriven = await cli(['scripts/redrive.ts', '--dry-run'], env);

      // Assess
      expect(sent).toMatchObject({ code: 0, output: expect.stringContaining('"commandStatus": "orderCreated"') });
      expect(queried).toMatchObject({ code: 0, output: expect.stringContaining('itemsSalesReport (queryMessageId') });
      expect(rebuilt).toMatchObject({ code: 0, output: expect.stringContaining(`rebuilding the read model of local (${runtime.endpoint})`) });
      expect(redriven.code).toBe(0);
    },
    budget({ cliRuns: 4, seconds: 5 }),
  );

  it(
    "shows what orderDetails answers beside its lines: the order's status, created and then cancelled",
    async () => {
      // Prepare
      const env = { ORDER_PIPELINE_ENDPOINT_FILE: runtime.endpointFile };
      await cli(['scripts/send.ts', 'events/create-order-6102.json', '--wait'], env);

      // Act
      const created = await cli(['scripts/query.ts', 'orderDetails', '6102'], env);
      await cli(['scripts/send.ts', 'events/cancel-order-6102.json', '--wait'], env);
      const cancelled = await cli(['scripts/query.ts', 'orderDetails', '6102'], env);

      // Assess
      expect(created).toMatchObject({ code: 0, output: expect.stringContaining('queryOrderStatus: created') });
      expect(cancelled).toMatchObject({ code: 0, output: expect.stringContaining('queryOrderStatus: cancelled') });
      expect(cancelled.output).toContain('z3333');
    },
    budget({ cliRuns: 4, seconds: 5 }),
  );

  it(
    'through AWS_ENDPOINT_URL alone',
    async () => {
      const queried = await cli(['scripts/query.ts', 'itemsSalesReport'], {
        AWS_ENDPOINT_URL: runtime.endpoint,
        ORDER_PIPELINE_ENDPOINT_FILE: path.join(tmpdir(), 'no-such-endpoint-file.json'),
      });
      expect(queried).toMatchObject({ code: 0, output: expect.stringContaining('itemsSalesReport (queryMessageId') });
    },
    budget({ cliRuns: 1 }),
  );

  it(
    'names what it tried, and how to point elsewhere, when nothing answers',
    async () => {
      // Prepare
      const port = await closedPort();

      // Act: AWS_ENDPOINT_URL, then --endpoint, where nothing answers.
      const fromDefault = await cli(['scripts/query.ts', 'itemsSalesReport'], { AWS_ENDPOINT_URL: `http://127.0.0.1:${port}` });
      const fromFlag = await cli(['scripts/send.ts', 'events/create-order-6102.json', '--endpoint', `http://127.0.0.1:${port}`]);
      const fromOperations = await cli(['scripts/rebuild-read-model.ts', '--endpoint', `http://127.0.0.1:${port}`]);

      // Assess: one line naming the endpoint, where it came from, and the ways to point elsewhere.
      expect(fromDefault.code).toBe(1);
      expect(fromDefault.output).toContain(`nothing answers at http://127.0.0.1:${port} (from AWS_ENDPOINT_URL)`);
      for (const failed of [fromFlag, fromOperations]) {
        expect(failed.code).toBe(1);
        expect(failed.output).toContain(`nothing answers at http://127.0.0.1:${port} (from --endpoint): ECONNREFUSED`);
        expect(failed.output).toContain('Start the local pipeline with npm start');
        expect(failed.output).toContain('AWS_ENDPOINT_URL');
      }
    },
    budget({ cliRuns: 3 }),
  );

  it.each([['scripts/send.ts'], ['scripts/query.ts'], ['scripts/rebuild-read-model.ts'], ['scripts/redrive.ts']])(
    '%s --help lists the ways to find the runtime',
    async (script) => {
      const { code, output } = await cli([script, '--help']);
      expect(code).toBe(0);
      expect(output).toContain('--endpoint <url>');
      expect(output).toContain('AWS_ENDPOINT_URL');
      expect(output).toContain('.local/endpoint.json');
    },
    budget({ cliRuns: 1 }),
  );
});

describe('the runtime', () => {
  it(
    'removes its endpoint file when it stops',
    async () => {
      const second = await startLocalRuntime();
      expect(existsSync(second.endpointFile)).toBe(true);
      await second.stop();
      expect(existsSync(second.endpointFile)).toBe(false);
    },
    budget({ runtimeStarts: 1 }),
  );

  it(
    "leaves a running runtime's endpoint file to it: a second runtime of the checkout says how to reach it, and its stop leaves the first one findable",
    async () => {
      // Prepare: a first runtime holding the endpoint file.
      const first = await startLocalRuntime();
      try {
        // Act: a second one, with the same endpoint file, started and stopped.
        const second = await startLocalRuntime({ env: { ORDER_PIPELINE_ENDPOINT_FILE: first.endpointFile } });
        const said = second.output();
        await second.stop();

        // Assess: the second named the holder and its own --endpoint; the file still names the first, and the CLIs find it.
        expect(said).toContain(
          `names the runtime at ${first.endpoint} (pid ${first.process.pid}), which keeps it; the CLIs find this one with --endpoint ${second.endpoint}`,
        );
        expect(JSON.parse(readFileSync(first.endpointFile, 'utf8'))).toMatchObject({ endpoint: first.endpoint, pid: first.process.pid });
        const queried = await cli(['scripts/query.ts', 'itemsSalesReport'], { ORDER_PIPELINE_ENDPOINT_FILE: first.endpointFile });
        expect(queried).toMatchObject({ code: 0, output: expect.stringContaining('itemsSalesReport (queryMessageId') });
      } finally {
        await first.stop();
      }
      expect(existsSync(first.endpointFile)).toBe(false);
    },
    budget({ runtimeStarts: 2, cliRuns: 1 }),
  );
});
