/**
 * Crash durability with --data: the runtime is killed with SIGKILL while
 * commands are in flight, then restarted on the same folder. Every command
 * whose PutEvents returned an EventId ends up stored and projected exactly
 * once: accepted events, stream records with the mapping's checkpoint, and
 * queue messages survive the crash.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localIdle } from '../../clients/pipeline-client';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { serverUrl, dropReadModelDatabase } from '../helpers/mysql';
import { budget } from '../helpers/budget';

const url = serverUrl();
const database = `test_durable_${randomBytes(4).toString('hex')}`;
const dbUrl = `mysql://${url.username || 'root'}${url.password ? `:${url.password}` : ''}@${url.hostname}:${url.port || 3306}/${database}`;
const data = mkdtempSync(path.join(tmpdir(), 'durable-'));
let second: RunningLocalRuntime | undefined;

beforeAll(() => undefined);

afterAll(async () => {
  await second?.stop();
  await dropReadModelDatabase(database);
});

async function putCommands(endpoint: string, bus: string, orderIds: string[]): Promise<string[]> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({
      Entries: orderIds.map((orderId) => ({
        EventBusName: bus,
        Source: 'orderPipeline',
        DetailType: 'orderCommand',
        Time: '2022-10-13T19:00:00Z',
        Detail: JSON.stringify({ command: 'createOrder', orderId, items: [{ itemid: 'durable', quantity: 1 }] }),
      })),
    }),
  });
  const body = (await response.json()) as { Entries: { EventId?: string }[] };
  return orderIds.filter((_, index) => body.Entries[index]?.EventId);
}

async function storedCount(endpoint: string): Promise<number> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'x-amz-target': 'DynamoDB_20120810.Scan', 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ TableName: 'order-pipeline-local-orders', Select: 'COUNT' }),
  });
  return ((await response.json()) as { Count?: number }).Count ?? 0;
}

describe('a crash with --data', () => {
  it(
    'loses no accepted command and projects every stored order exactly once',
    async () => {
      // Prepare
      const first = await startLocalRuntime({ args: ['--data', data], dbUrl });
      const accepted: string[] = [];

      // Act: commands in flight, then SIGKILL (no clean shutdown).
      for (let batch = 0; batch < 8; batch++) {
        accepted.push(
          ...(await putCommands(
            first.endpoint,
            first.busName,
            Array.from({ length: 10 }, (_, index) => `d-${batch}-${index}`),
          )),
        );
      }
      // Kill mid-flow: some orders stored (some of them projected), others not yet.
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (await storedCount(first.endpoint)) < 30) await new Promise((resolve) => setTimeout(resolve, 5));
      first.process.kill('SIGKILL');
      await new Promise((resolve) => first.process.once('exit', resolve));
      second = await startLocalRuntime({ args: ['--data', data], dbUrl });
      await localIdle(second.endpoint);

      // Assess
      expect(accepted).toHaveLength(80);
      const pool = readModelPool(second);
      try {
        const [orders] = await pool.query("SELECT order_id FROM orders WHERE order_id LIKE 'd-%' ORDER BY order_id");
        expect((orders as { order_id: string }[]).map((row) => row.order_id)).toEqual([...accepted].sort());
        const [totals] = await pool.query("SELECT total_ordered FROM item_totals WHERE item_id = 'durable'");
        expect(Number((totals as { total_ordered: number }[])[0]?.total_ordered)).toBe(80);
      } finally {
        await pool.end();
      }
    },
    budget({ runtimeStarts: 2, seconds: 20 }),
  );
});
