/**
 * Faults through the local runtime: the read model's server stopped while
 * orders arrive (a private MariaDB/MySQL instance, really stopped and
 * restarted), a poison record in a batch, and the same command delivered many
 * times, racing itself. None lost, none doubled.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createPool, type Pool } from 'mysql2/promise';
import { orderToItem } from '../../handlers/domain/order';
import { PrivateDatabase } from '../../local/mysql';
import { localIdle, waitForResponse, type Target } from '../../clients/pipeline-client';
import { buildOrder } from '../helpers/factories';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

let database: PrivateDatabase;
let runtime: RunningLocalRuntime;
let target: Target;
let events: EventBridgeClient;
let dynamo: DynamoDBClient;
let pool: Pool;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(
  async () => {
    database = await PrivateDatabase.create();
    runtime = await startLocalRuntime({ dbUrl: `mysql://root@127.0.0.1:${database.port}/orders`, retryDelayMs: 1_500 });
    target = { kind: 'local', bus: runtime.busName, endpoint: runtime.endpoint };
    events = new EventBridgeClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    dynamo = new DynamoDBClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    pool = createPool({ host: '127.0.0.1', port: database.port, user: 'root', database: 'orders', connectionLimit: 2 });
  },
  budget({ runtimeStarts: 1, seconds: 10 }),
);

afterAll(async () => {
  events?.destroy();
  dynamo?.destroy();
  await pool?.end();
  await runtime?.stop();
  await database?.destroy();
}, 60_000);

const entry = (orderId: string, itemid: string, quantity: number) => ({
  EventBusName: runtime.busName,
  Source: 'orderPipeline',
  DetailType: 'orderCommand',
  Time: new Date('2024-06-01T08:00:00Z'),
  Detail: JSON.stringify({ command: 'createOrder', orderId, items: [{ itemid, quantity }] }),
});

async function put(entries: ReturnType<typeof entry>[]): Promise<string[]> {
  const result = await events.send(new PutEventsCommand({ Entries: entries }));
  expect(result.FailedEntryCount).toBe(0);
  return (result.Entries ?? []).map((item) => item.EventId as string);
}

async function readModel(itemId: string): Promise<{ total: number | undefined; orders: number }> {
  const [totals] = await pool.query('SELECT total_ordered FROM item_totals WHERE item_id = ?', [itemId]);
  const [orders] = await pool.query('SELECT COUNT(DISTINCT order_id) AS n FROM order_lines WHERE item_id = ?', [itemId]);
  return { total: (totals as { total_ordered: number }[])[0]?.total_ordered, orders: Number((orders as { n: number }[])[0]?.n) };
}

async function failures(): Promise<
  { body: { DDBStreamBatchInfo: { batchSize: number; startSequenceNumber: string }; localDiagnostics: { recordErrors?: string[] } } }[]
> {
  const all = (await (await fetch(`${runtime.endpoint}/_local/failures`)).json()) as Record<string, never[]>;
  return all['order-pipeline-local-projection-failures'] ?? [];
}

describe('faults', () => {
  it('projects every order exactly once when MySQL was down while they arrived', async () => {
    // Prepare
    await database.stop();

    // Act: a query that cannot be answered gets a 503 that names it, never silence...
    const [queryId] = await put([
      {
        EventBusName: runtime.busName,
        Source: 'orderPipeline',
        DetailType: 'orderQuery',
        Time: new Date(),
        Detail: JSON.stringify({ query: 'monthlySalesByItem', itemid: 'while-down' }),
      },
    ]);
    expect((await waitForResponse(target, queryId as string, 30_000)).detail).toMatchObject({
      query: 'monthlySalesByItem',
      queryStatus: 503,
      error: { code: 'ServiceUnavailable' },
    });
    // ...20 orders arrive while the read model's server is down...
    const ids = await put(Array.from({ length: 10 }, (_, index) => entry(`down-${index}`, 'while-down', index + 1)));
    ids.push(...(await put(Array.from({ length: 10 }, (_, index) => entry(`down-${index + 10}`, 'while-down', index + 11)))));
    for (const id of ids) expect((await waitForResponse(target, id)).detail.commandStatus).toBe('orderCreated');
    // ...their batch fails at least once (so the retry path is what is tested)...
    while (!/stream batch failed/.test(runtime.output())) await new Promise((resolve) => setTimeout(resolve, 50));
    // ...and the server is back before the mapping's retries run out (its synthesized attempts, 1.5 s apart: 12 s or more).
    await database.start();
    await localIdle(runtime.endpoint);

    // Assess: the batches did fail while the server was down, and were retried.
    expect(runtime.output()).toMatch(/stream batch failed .*(ECONNREFUSED|ECONNRESET|connect|PROTOCOL_CONNECTION_LOST)/);
    expect(await readModel('while-down')).toEqual({ total: 210, orders: 20 });
    expect(await failures()).toEqual([]);
  }, 60_000);

  it('isolates a poison record by bisection, sends it alone to the on-failure queue, and projects the rest', async () => {
    // Prepare: one write of 21 items, so they reach the projection as one batch.
    const good = Array.from({ length: 20 }, (_, index) => buildOrder({ orderId: `batch-${index}`, items: [{ itemid: 'bisect', quantity: 1 }] }));
    const poison = {
      ...orderToItem(buildOrder({ orderId: 'poison-2', items: [{ itemid: 'bisect', quantity: 1 }] })),
      items: { L: [{ M: { itemid: { S: 'bisect' }, quantity: { N: '-1' } } }] },
    };
    const items = [...good.slice(0, 10).map(orderToItem), poison, ...good.slice(10).map(orderToItem)];

    // Act
    await dynamo.send(new BatchWriteItemCommand({ RequestItems: { 'order-pipeline-local-orders': items.map((Item) => ({ PutRequest: { Item } })) } }));
    await localIdle(runtime.endpoint);

    // Assess
    expect(await readModel('bisect')).toEqual({ total: 20, orders: 20 });
    const dead = await failures();
    expect(dead).toHaveLength(1);
    expect(dead[0]?.body.DDBStreamBatchInfo.batchSize).toBe(1);
    expect(dead[0]?.body.localDiagnostics.recordErrors).toEqual([expect.stringContaining('items[0].quantity must be a positive integer, got -1')]);
  }, 60_000);

  it('creates one order for the same command delivered three times and racing itself', async () => {
    // Act: three identical entries in one PutEvents (concurrent executions), then twice more.
    const ids = await put([entry('race-1', 'race', 7), entry('race-1', 'race', 7), entry('race-1', 'race', 7)]);
    ids.push(...(await put([entry('race-1', 'race', 7)])), ...(await put([entry('race-1', 'race', 7)])));
    const responses = await Promise.all(ids.map((id) => waitForResponse(target, id)));
    await localIdle(runtime.endpoint);

    // Assess
    expect(responses.map((response) => response.detail.commandStatus)).toEqual(Array(5).fill('orderCreated'));
    const stored = await dynamo.send(
      new ScanCommand({ TableName: 'order-pipeline-local-orders', FilterExpression: 'orderid = :id', ExpressionAttributeValues: { ':id': { S: 'race-1' } } }),
    );
    expect(stored.Count).toBe(1);
    expect(await readModel('race')).toEqual({ total: 7, orders: 1 });
  });
});
