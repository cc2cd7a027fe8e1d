/**
 * The operations tools against the local runtime (its own database on the
 * MariaDB/MySQL at DB_URL): redrive of both dead-letter queues, the read-model
 * rebuild, and the deploy-time schema trigger's command.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Pool } from 'mysql2/promise';
import { ENVIRONMENTS } from '../../config/environments';
import { localIdle, localEvents, putEntries, waitForResponse, type Target } from '../../clients/pipeline-client';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';
import { resource, synthesize } from '../helpers/synth';

const run = promisify(execFile);
let runtime: RunningLocalRuntime;
let target: Target;
let pool: Pool;
const awsEnv = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-east-1' };

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
    target = { kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint };
    pool = readModelPool(runtime);
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await pool?.end();
  await runtime?.stop();
});

async function cli(script: string, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, '--endpoint', runtime.endpoint, ...args], {
      env: { ...process.env, ...awsEnv, NODE_OPTIONS: '' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  }
}

const command = (orderId: string, itemid: string, quantity: number) => ({
  Source: 'orderPipeline',
  DetailType: 'orderCommand',
  Time: '2024-05-05T10:00:00Z',
  Detail: { command: 'createOrder', orderId, items: [{ itemid, quantity }] },
});

async function total(itemId: string): Promise<number | undefined> {
  const [rows] = await pool.query('SELECT total_ordered FROM item_totals WHERE item_id = ?', [itemId]);
  return (rows as { total_ordered: number }[])[0]?.total_ordered;
}

async function failures(): Promise<Record<string, unknown[]>> {
  return (await (await fetch(`${runtime.endpoint}/_local/failures`)).json()) as Record<string, unknown[]>;
}

/** Leaves a createOrder command event in a dead-letter queue, as EventBridge leaves one there. */
async function leaveInDeadLetterQueue(queueName: string, id: string, order: { orderId: string; itemid: string; quantity: number }): Promise<void> {
  const sqs = new SQSClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const event = {
    version: '0',
    id,
    'detail-type': 'orderCommand',
    source: 'orderPipeline',
    account: '000000000000',
    time: '2024-05-05T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { command: 'createOrder', orderId: order.orderId, items: [{ itemid: order.itemid, quantity: order.quantity }] },
  };
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(event) }));
  sqs.destroy();
}

describe('redrive', () => {
  it(
    're-projects batches from the on-failure queue once the cause is fixed',
    async () => {
      // Prepare: the read model is broken (a table renamed away), so every retry fails.
      await pool.query('RENAME TABLE item_totals TO item_totals_away');
      const ids = await putEntries(target, [command('rd-1', 'redrive-item', 2), command('rd-2', 'redrive-item', 3)]);
      for (const id of ids) expect((await waitForResponse(target, id)).detail.commandStatus).toBe('orderCreated');
      await localIdle(runtime.endpoint);
      expect((await failures())['order-pipeline-local-projection-failures']?.length).toBeGreaterThan(0);

      // Act: fix, then redrive.
      await pool.query('RENAME TABLE item_totals_away TO item_totals');
      const result = await cli('redrive', '--queue', 'projection');

      // Assess
      expect(result.output).toContain('redriven');
      expect(result.code).toBe(0);
      expect(await total('redrive-item')).toBe(5);
      expect((await failures())['order-pipeline-local-projection-failures']).toEqual([]);
    },
    budget({ cliRuns: 1, seconds: 10 }),
  );

  it(
    'keeps a message whose redrive still fails',
    async () => {
      // Prepare
      await pool.query('RENAME TABLE item_totals TO item_totals_away');
      const [id] = await putEntries(target, [command('rd-3', 'still-broken', 1)]);
      await waitForResponse(target, id as string);
      await localIdle(runtime.endpoint);

      // Act
      const result = await cli('redrive', '--queue', 'projection');
      await pool.query('RENAME TABLE item_totals_away TO item_totals');

      // Assess
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/kept .*: order-pipeline-local-project-orders failed/);
      expect((await failures())['order-pipeline-local-projection-failures']?.length).toBe(1);
      expect((await cli('redrive', '--queue', 'projection')).code).toBe(0);
      expect(await total('still-broken')).toBe(1);
    },
    budget({ cliRuns: 2, seconds: 5 }),
  );

  it(
    'changes nothing on a dry run, so a real redrive right after moves everything',
    async () => {
      // Prepare
      await pool.query('RENAME TABLE item_totals TO item_totals_away');
      const [id] = await putEntries(target, [command('rd-dry', 'dry-item', 4)]);
      await waitForResponse(target, id as string);
      await localIdle(runtime.endpoint);
      await pool.query('RENAME TABLE item_totals_away TO item_totals');

      // Act
      const dry = await cli('redrive', '--queue', 'projection', '--dry-run');
      const real = await cli('redrive', '--queue', 'projection');

      // Assess
      expect(dry).toMatchObject({ code: 0, output: expect.stringContaining('would redrive') });
      expect(real).toMatchObject({ code: 0, output: expect.stringContaining('redriven') });
      expect(await total('dry-item')).toBe(4);
    },
    budget({ cliRuns: 2, seconds: 5 }),
  );

  it(
    'says so, and exits non-zero, when messages are in flight elsewhere',
    async () => {
      // Prepare: a message received by someone else (invisible for a while).
      await pool.query('RENAME TABLE item_totals TO item_totals_away');
      const [id] = await putEntries(target, [command('rd-flight', 'flight-item', 1)]);
      await waitForResponse(target, id as string);
      await localIdle(runtime.endpoint);
      await pool.query('RENAME TABLE item_totals_away TO item_totals');
      const sqs = new SQSClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'order-pipeline-local-projection-failures' }));
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 60 }));

      // Act
      const result = await cli('redrive', '--queue', 'projection');

      // Assess
      expect(result.code).toBe(1);
      expect(result.output).toContain('1 message(s) are in flight');
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: Messages[0]?.ReceiptHandle, VisibilityTimeout: 0 }));
      expect((await cli('redrive', '--queue', 'projection')).code).toBe(0);
      sqs.destroy();
    },
    budget({ cliRuns: 2, seconds: 5 }),
  );

  it(
    'keeps a failed batch whose stream records are no longer readable, and says to rebuild',
    async () => {
      // Prepare: the on-failure record of a batch on a stream that no longer exists (a table replaced since).
      const sqs = new SQSClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'order-pipeline-local-projection-failures' }));
      const streamArn = 'arn:aws:dynamodb:us-east-1:000000000000:table/gone/stream/2020-01-01T00:00:00.000';
      const batch = { shardId: 'shardId-00000001-00000000000000000001', startSequenceNumber: '1', endSequenceNumber: '2', batchSize: 1, streamArn };
      await sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: JSON.stringify({ requestContext: { condition: 'RetryAttemptsExhausted' }, DDBStreamBatchInfo: batch }),
        }),
      );

      // Act
      const result = await cli('redrive', '--queue', 'projection');

      // Assess: the SDK's ResourceNotFoundException, told apart by its class.
      expect(result.code).toBe(1);
      expect(result.output).toContain("the batch's stream records are no longer readable (ResourceNotFoundException); run npm run rebuild-read-model");
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      const kept = Messages.filter(
        (message) => (JSON.parse(message.Body as string) as { DDBStreamBatchInfo?: { streamArn: string } }).DDBStreamBatchInfo?.streamArn === streamArn,
      );
      expect(kept).toHaveLength(1);
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: kept[0]?.ReceiptHandle }));
      for (const other of Messages.filter((message) => !kept.includes(message)))
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: other.ReceiptHandle, VisibilityTimeout: 0 }));
      sqs.destroy();
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );

  it(
    'restarts the workflow for events in its dead-letter queue, keeping their id',
    async () => {
      // Prepare: an event as EventBridge leaves it in the rule's DLQ.
      await leaveInDeadLetterQueue('order-pipeline-local-workflow-dlq', 'dlq-event-1', { orderId: 'dlq-1', itemid: 'dlq-item', quantity: 4 });

      // Act
      const result = await cli('redrive', '--queue', 'workflow');
      await localIdle(runtime.endpoint);

      // Assess
      expect(result.code).toBe(0);
      expect(result.output).toContain('redriven: orderCommand dlq-event-1');
      const response = (await localEvents(runtime.endpoint)).find((candidate) => candidate.detail.commandMessageId === 'dlq-event-1');
      expect(response?.detail).toMatchObject({ orderid: 'dlq-1', commandStatus: 'orderCreated' });
      expect(await total('dlq-item')).toBe(4);
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );
});

describe('redrive of the bus dead-letter queue', () => {
  it(
    'puts an event the bus could not encrypt back on the bus: the command is answered and written once',
    async () => {
      // Prepare: an event as EventBridge leaves it in the bus's DLQ when its key refused it.
      await leaveInDeadLetterQueue('order-pipeline-local-bus-dlq', 'bus-dlq-event-1', { orderId: 'bus-dlq-1', itemid: 'bus-dlq-item', quantity: 6 });

      // Act
      const result = await cli('redrive', '--queue', 'bus');
      await localIdle(runtime.endpoint);

      // Assess
      expect(result.code).toBe(0);
      expect(result.output).toMatch(/redriven: orderCommand bus-dlq-event-1, put again as [0-9a-f-]{36}/);
      const response = (await localEvents(runtime.endpoint)).find((candidate) => candidate.detail.orderid === 'bus-dlq-1');
      expect(response?.detail).toMatchObject({ commandStatus: 'orderCreated' });
      expect(await total('bus-dlq-item')).toBe(6);
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );
});

describe('rebuild-read-model', () => {
  it(
    'restores exact totals from the orders table, and running it twice changes nothing',
    async () => {
      // Prepare
      const ids = await putEntries(target, [command('rb-1', 'rebuild-item', 7), command('rb-2', 'rebuild-item', 8)]);
      for (const id of ids) await waitForResponse(target, id);
      await localIdle(runtime.endpoint);
      const [healthy] = await pool.query('SELECT * FROM item_totals ORDER BY item_id');
      await pool.query("UPDATE item_totals SET total_ordered = 0 WHERE item_id = 'rebuild-item'");
      await pool.query("DELETE FROM order_lines WHERE order_id = 'rb-1'");

      // Act
      const first = await cli('rebuild-read-model');
      const second = await cli('rebuild-read-model');

      // Assess
      expect(first.code).toBe(0);
      expect(first.output).toContain('read model rebuilt and swapped in');
      expect(second.code).toBe(0);
      const [rebuilt] = await pool.query('SELECT * FROM item_totals ORDER BY item_id');
      expect(rebuilt).toEqual(healthy);
      expect(await total('rebuild-item')).toBe(15);
    },
    budget({ cliRuns: 2, seconds: 5 }),
  );
});

/**
 * A PATH on which `aws` is the installed CLI with `--endpoint-url` the local
 * endpoint: the provisioner's command names no endpoint, and AWS_ENDPOINT_URL
 * is ignored by CLIs older than v1.29 / v2.13 (Debian 12 ships v2.9).
 */
async function localAwsPath(endpoint: string): Promise<string> {
  const real = (await run('/bin/bash', ['-c', 'command -v aws'])).stdout.trim();
  const bin = mkdtempSync(path.join(tmpdir(), 'aws-local-'));
  writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\nexec ${JSON.stringify(real)} --endpoint-url ${JSON.stringify(endpoint)} "$@"\n`, { mode: 0o755 });
  return `${bin}${path.delimiter}${process.env.PATH ?? ''}`;
}

describe('schema trigger', () => {
  it(
    'runs the init function with the AWS CLI and fails on a function error, even with text output configured',
    async () => {
      // Prepare: the provisioner as the local synth renders it, its function name resolved; the CLI pointed at the local endpoint.
      const exec = (
        resource(synthesize(ENVIRONMENTS.local).json.compute, 'null_resource').provisioner as {
          'local-exec': { command: string; interpreter: string[]; environment: Record<string, string> };
        }[]
      )[0]?.['local-exec'];
      if (!exec) throw new Error('the schema trigger has no local-exec provisioner');
      const [shell, ...flags] = exec.interpreter as [string, ...string[]];
      const env = { ...process.env, ...awsEnv, ...exec.environment, AWS_DEFAULT_OUTPUT: 'text', PATH: await localAwsPath(runtime.endpoint) };

      // Act
      const ok = await run(shell, [...flags, exec.command], { env: { ...env, FUNCTION_NAME: 'order-pipeline-local-init-schema' } });
      const failing = run(shell, [...flags, exec.command], { env: { ...env, FUNCTION_NAME: 'order-pipeline-local-project-orders' } });

      // Assess
      expect(ok.stdout).toContain('"alreadyApplied"');
      await expect(failing).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('schema initialisation failed: init-schema reported an error (status|error: "200|Unhandled")'),
      });
    },
    budget({ awsCliRuns: 2, seconds: 10 }),
  );
});
