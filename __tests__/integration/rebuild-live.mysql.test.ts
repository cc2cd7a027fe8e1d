/**
 * The read-model rebuild on the local runtime as an operator runs it: resumed
 * after a restart (in memory, or with --data), and under live traffic with
 * queries asked all along. Each test has its own runtime and database.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand, DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createConnection, createPool, type RowDataPacket } from 'mysql2/promise';
import { localClientOptions } from '../../clients/local-client';
import { invokeFunction, operationsTarget } from '../../clients/operations';
import { localIdle, putEntries, type EntryInput, type PipelineEvent, type Target } from '../../clients/pipeline-client';
import { resourceNames } from '../../config/pipeline';
import { orderFromItem } from '../../handlers/domain/order';
import { rebuildReadModel, REBUILD_TABLES, RETIRED_TABLES, sourceOf, type RebuildProgress } from '../../handlers/read-model/rebuild';
import { READ_MODEL_TABLES } from '../../config/read-model-tables';
import { databaseUrl, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { adminSettings, dropReadModel } from '../helpers/mysql';
import { budget } from '../helpers/budget';

const run = promisify(execFile);
const ORDERS_TABLE = resourceNames('local').ordersTable;
const databases: string[] = [];
const running: RunningLocalRuntime[] = [];

function adminOptions(database?: string) {
  return { ...adminSettings(), ...(database ? { database } : {}) };
}

async function start(database: string, args: string[] = [], retryDelayMs?: null): Promise<RunningLocalRuntime> {
  if (!databases.includes(database)) databases.push(database);
  const runtime = await startLocalRuntime({ dbUrl: databaseUrl(database), args, ...(retryDelayMs === null ? { retryDelayMs } : {}) });
  running.push(runtime);
  return runtime;
}

afterEach(async () => {
  for (const runtime of running.splice(0)) if (runtime.process.exitCode === null && runtime.process.signalCode === null) await runtime.stop();
});

afterAll(async () => {
  const admin = await createConnection(adminOptions());
  for (const database of databases) await dropReadModel(admin, database);
  await admin.end();
});

const target = (runtime: RunningLocalRuntime): Target => ({ kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint });
const order = (orderId: string, itemid: string, quantity: number): EntryInput => ({
  Source: 'orderPipeline',
  DetailType: 'orderCommand',
  Detail: { command: 'createOrder', orderId, items: [{ itemid, quantity }] },
});

/** Sends `count` orders (`<prefix>-<n>`, over 9 items) in PutEvents calls of 10. */
async function sendOrders(runtime: RunningLocalRuntime, prefix: string, count: number): Promise<void> {
  for (let first = 0; first < count; first += 10) {
    const entries = Array.from({ length: Math.min(10, count - first) }, (_, index) =>
      order(`${prefix}-${first + index}`, `item-${(first + index) % 9}`, 1 + ((first + index) % 4)),
    );
    await putEntries(target(runtime), entries);
  }
}

/** What the orders table holds, as item totals and order ids. */
async function dynamoState(runtime: RunningLocalRuntime): Promise<{ orderIds: string[]; totals: Record<string, number> }> {
  const client = new DynamoDBClient(localClientOptions(runtime.endpoint));
  const orderIds: string[] = [];
  const totals: Record<string, number> = {};
  let cursor: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: ORDERS_TABLE, ...(cursor ? { ExclusiveStartKey: cursor } : {}) }));
    for (const item of page.Items ?? []) {
      const parsed = orderFromItem(item);
      orderIds.push(parsed.orderId);
      for (const line of parsed.items) totals[line.itemid] = (totals[line.itemid] ?? 0) + line.quantity;
    }
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  client.destroy();
  return { orderIds: orderIds.sort(), totals };
}

/** What the read model holds, in the same shape, and the rebuild's leftovers. */
async function readModelState(database: string) {
  const connection = await createConnection(adminOptions(database));
  try {
    const [orders] = await connection.query<RowDataPacket[]>('SELECT order_id FROM ?? ORDER BY order_id', [READ_MODEL_TABLES.orders]);
    const [totals] = await connection.query<RowDataPacket[]>('SELECT item_id, total_ordered FROM ??', [READ_MODEL_TABLES.itemTotals]);
    const [tables] = await connection.query<RowDataPacket[]>(
      'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_name IN (?)',
      [database, [...Object.values(REBUILD_TABLES), ...Object.values(RETIRED_TABLES)]],
    );
    const [state] = await connection
      .query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM read_model_rebuild')
      .catch(() => [[{ n: 0 }]] as unknown as [RowDataPacket[]]);
    return {
      orderIds: orders.map((row) => String(row.order_id)).sort(),
      totals: Object.fromEntries(totals.filter((row) => Number(row.total_ordered) > 0).map((row) => [String(row.item_id), Number(row.total_ordered)])),
      leftovers: tables.map((row) => String(row.name)),
      savedState: Number(state[0]?.n),
    };
  } finally {
    await connection.end();
  }
}

/** A rebuild that stopped after its first page of 10 orders, as a timeout or a crash leaves it (the rebuild's own code, on the runtime's tables). */
async function interruptedRebuild(runtime: RunningLocalRuntime, database: string): Promise<RebuildProgress> {
  const client = new DynamoDBClient(localClientOptions(runtime.endpoint));
  const pool = createPool({ ...adminOptions(database), connectionLimit: 2, dateStrings: true });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: ORDERS_TABLE }));
    let pages = 0;
    return await rebuildReadModel({
      pool,
      source: sourceOf(ORDERS_TABLE, Table),
      keepGoing: () => pages++ < 1,
      scan: async (cursor) => {
        const page = await client.send(
          new ScanCommand({ TableName: ORDERS_TABLE, Limit: 10, ConsistentRead: true, ...(cursor ? { ExclusiveStartKey: cursor } : {}) }),
        );
        return { items: page.Items ?? [], ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}) };
      },
    });
  } finally {
    client.destroy();
    await pool.end();
  }
}

async function rebuildCli(runtime: RunningLocalRuntime): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/rebuild-read-model.ts', '--endpoint', runtime.endpoint], {
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return stdout;
}

describe('a rebuild resumed after a restart', () => {
  it(
    'after a fresh start (no --data): the stale half-rebuild is gone with the cleared read model, and the result is exactly the orders table',
    async () => {
      // Prepare: 40 orders, a rebuild stopped after 10 of them, a restart that empties the orders table.
      const database = `test_rebuild_fresh_${randomBytes(4).toString('hex')}`;
      const first = await start(database);
      await sendOrders(first, 'gone', 40);
      await localIdle(first.endpoint);
      expect(await interruptedRebuild(first, database)).toMatchObject({ stage: 'scanning', scanned: 10 });
      await first.stop();
      const second = await start(database);
      await sendOrders(second, 'kept', 5);
      await localIdle(second.endpoint);

      // Act: resumed as documented.
      const output = await rebuildCli(second);
      await localIdle(second.endpoint);

      // Assess
      expect(output).toContain('read model rebuilt and swapped in');
      const source = await dynamoState(second);
      const rebuilt = await readModelState(database);
      expect(source.orderIds).toHaveLength(5);
      expect(rebuilt).toEqual({ ...source, leftovers: [], savedState: 0 });
    },
    budget({ runtimeStarts: 2, cliRuns: 1, seconds: 10 }),
  );

  it(
    'after a restart with --data: it goes on from where it stopped and ends exact, the orders that arrived meanwhile included',
    async () => {
      // Prepare
      const database = `test_rebuild_data_${randomBytes(4).toString('hex')}`;
      const data = mkdtempSync(path.join(tmpdir(), 'rebuild-data-'));
      const first = await start(database, ['--data', data]);
      await sendOrders(first, 'before', 40);
      await localIdle(first.endpoint);
      expect(await interruptedRebuild(first, database)).toMatchObject({ stage: 'scanning', scanned: 10 });
      await first.stop();
      const second = await start(database, ['--data', data]);
      await sendOrders(second, 'meanwhile', 7);
      await localIdle(second.endpoint);

      // Act
      const output = await rebuildCli(second);
      await localIdle(second.endpoint);

      // Assess: resumed (not started over), and exact.
      expect(output).not.toContain('started over');
      expect(output).toMatch(/done: \d+ orders scanned/);
      const source = await dynamoState(second);
      expect(source.orderIds).toHaveLength(47);
      expect(await readModelState(database)).toEqual({ ...source, leftovers: [], savedState: 0 });
    },
    budget({ runtimeStarts: 2, cliRuns: 1, seconds: 10 }),
  );
});

describe('a rebuild under live traffic', () => {
  it(
    'never answers a query with fewer orders or lower totals than before it began, and ends equal to the orders table',
    async () => {
      // Prepare: 1,000 orders projected; the report they give.
      const database = `test_rebuild_live_${randomBytes(4).toString('hex')}`;
      // Retries as the stacks define them (1 s, 2 s, 4 s): the query function's reserved concurrency throttles under this load.
      const runtime = await start(database, [], null);
      await sendOrders(runtime, 'seed', 1_000);
      await localIdle(runtime.endpoint);
      const baseline = (await readModelState(database)).totals;
      const operations = operationsTarget(undefined, runtime.endpoint);

      // Act: 3,000 orders sent in four lanes, itemsSalesReport asked every 20 ms, and rebuilds one after another, all at once.
      // Everything runs until the last of the 4,000 orders is projected (the projection lags the sending).
      let sending = true;
      const senders = Promise.all([0, 1, 2, 3].map((lane) => sendOrders(runtime, `live${lane}`, 750)));
      const deadline = Date.now() + 300_000;
      // The bus journal, read as it grows (the runtime keeps only its latest 10,000 events); it orders questions and answers.
      const events: PipelineEvent[] = [];
      let since = 0;
      const readJournal = async () => {
        const response = await fetch(`${runtime.endpoint}/_local/events?since=${since}`);
        events.push(...((await response.json()) as PipelineEvent[]));
        since = Number(response.headers.get('x-next-since') ?? since);
      };
      // itemsSalesReport asked every 20 ms, at most two unanswered at a time: under the query function's reserved
      // concurrency (3), so a throttle never turns into a 503 and every answer is one the read model gave.
      const queryIds: string[] = [];
      const answered = () =>
        new Set(events.filter((event) => event['detail-type'] === 'orderQueryResponse').map((event) => event.detail.queryMessageId as string));
      const poller = (async () => {
        while (sending) {
          await readJournal();
          const done = answered();
          if (queryIds.filter((id) => !done.has(id)).length < 2)
            queryIds.push(
              ...(await putEntries(target(runtime), [{ Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'itemsSalesReport' } }])),
            );
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const samples: { orders: number; total: number }[] = [];
      const drops: { before: { orders: number; total: number }; after: { orders: number; total: number } }[] = [];
      const reader = createPool({ ...adminOptions(database), connectionLimit: 1 });
      const sampler = (async () => {
        while (sending) {
          const [rows] = await reader.query<RowDataPacket[]>(
            `SELECT (SELECT COUNT(*) FROM ${READ_MODEL_TABLES.orders}) AS orders, (SELECT COALESCE(SUM(total_ordered), 0) FROM ${READ_MODEL_TABLES.itemTotals}) AS total`,
          );
          const sample = { orders: Number(rows[0]?.orders), total: Number(rows[0]?.total) };
          const last = samples[samples.length - 1];
          if (last && (sample.orders < last.orders || sample.total < last.total)) drops.push({ before: last, after: sample });
          samples.push(sample);
          if (sample.orders >= 4_000 || Date.now() > deadline) sending = false;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      const rebuilds: RebuildProgress[] = [];
      const rebuilder = (async () => {
        while (sending) {
          let progress: RebuildProgress;
          do progress = await invokeFunction<RebuildProgress>(operations, 'rebuildReadModel', { restart: false });
          while (progress.stage !== 'done');
          rebuilds.push(progress);
        }
      })();
      await Promise.all([senders, poller, rebuilder, sampler]);
      await reader.end();
      await localIdle(runtime.endpoint);
      await readJournal();

      // Assess: every answer at least the report before the rebuilds, item by item.
      // Assess: every answer at least the report before the rebuilds, and at least every answer published before its
      // question was asked (the bus journal orders them: such an answer was read before this one). Orders are only added.
      const answers = events.filter((event) => event['detail-type'] === 'orderQueryResponse' && queryIds.includes(event.detail.queryMessageId as string));
      const totalsOf = (answer: PipelineEvent) =>
        new Map((answer.detail.queryResult as { itemid: string; totalordered: number }[] | undefined)?.map((row) => [row.itemid, row.totalordered]));
      const floors = new Map<string, Map<string, number>>();
      let published = new Map(Object.entries(baseline));
      for (const event of events) {
        if (event['detail-type'] === 'orderQuery') floors.set(event.id, new Map(published));
        if (event['detail-type'] === 'orderQueryResponse' && event.detail.queryStatus === 200) {
          published = new Map(published);
          for (const [item, total] of totalsOf(event)) published.set(item, Math.max(published.get(item) ?? 0, total));
        }
      }
      const lower = answers.flatMap((answer) => {
        const totals = totalsOf(answer);
        const floor = floors.get(answer.detail.queryMessageId as string) ?? new Map<string, number>();
        return [...floor]
          .filter(([item, total]) => (totals.get(item) ?? 0) < total)
          .map(([item, total]) => ({ item, atLeast: total, answered: totals.get(item) ?? 0 }));
      });
      expect(answers.filter((answer) => answer.detail.queryStatus !== 200).map((answer) => answer.detail)).toEqual([]);
      expect(rebuilds.length).toBeGreaterThanOrEqual(2);
      expect(answers.length).toBeGreaterThan(50);
      expect(answers).toHaveLength(queryIds.length);
      expect(lower.slice(0, 10)).toEqual([]);
      // The read model as queries read it, sampled every 20 ms in order: never fewer orders, never a lower total.
      expect(drops).toEqual([]);
      expect(samples.length).toBeGreaterThan(50);
      const source = await dynamoState(runtime);
      expect(source.orderIds).toHaveLength(4_000);
      expect(await readModelState(database)).toEqual({ ...source, leftovers: [], savedState: 0 });
      console.log(
        `rebuild under live traffic: ${rebuilds.length} rebuilds; ${answers.length} itemsSalesReport answers and ${samples.length} samples of the read model, none below what came before (${samples[0]?.orders} orders at the first sample, ${samples[samples.length - 1]?.orders} at the last)`,
      );
    },
    budget({ runtimeStarts: 1, seconds: 60 }),
  );
});
