/**
 * `cancelOrder` through the local runtime (the synthesized workflow, IAM
 * enforced, the stream, the projection, MariaDB): the contract's answers, one
 * outcome under concurrency and re-delivery, and DynamoDB and the read model
 * agreeing exactly afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DynamoDBClient, GetItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Pool } from 'mysql2/promise';
import { localIdle, waitForResponse, type PipelineEvent, type Target } from '../../clients/pipeline-client';
import { statusCounts } from '../../handlers/commands/registry';
import { orderFromItem } from '../../handlers/domain/order';
import { budget } from '../helpers/budget';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { expectedAggregates, readAggregates } from '../helpers/mysql';
import { publishedValidators } from '../helpers/schemas';
import { localEvents } from '../../clients/pipeline-client';

let runtime: RunningLocalRuntime;
let target: Target;
let events: EventBridgeClient;
let dynamo: DynamoDBClient;
let pool: Pool;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const ORDERS_TABLE = 'order-pipeline-local-orders';

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
    target = { kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint };
    events = new EventBridgeClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    dynamo = new DynamoDBClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    pool = readModelPool(runtime);
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  events?.destroy();
  dynamo?.destroy();
  await pool?.end();
  await runtime?.stop();
});

const create = (orderId: string, items: { itemid: string; quantity: number }[], time = '2022-10-13T19:00:00Z'): PutEventsRequestEntry => ({
  EventBusName: runtime.busName,
  Source: 'orderPipeline',
  DetailType: 'orderCommand',
  Time: new Date(time),
  Detail: JSON.stringify({ command: 'createOrder', orderId, items }),
});
const cancel = (orderId: string): PutEventsRequestEntry => ({
  EventBusName: runtime.busName,
  Source: 'orderPipeline',
  DetailType: 'orderCommand',
  Time: new Date('2022-10-14T08:30:00Z'),
  Detail: JSON.stringify({ command: 'cancelOrder', orderId }),
});

/** Puts entries (10 per call, as PutEvents allows) and returns each answer, in order. */
async function answers(entries: PutEventsRequestEntry[]): Promise<PipelineEvent['detail'][]> {
  const ids: string[] = [];
  for (let start = 0; start < entries.length; start += 10) {
    const result = await events.send(new PutEventsCommand({ Entries: entries.slice(start, start + 10) }));
    expect(result.FailedEntryCount).toBe(0);
    ids.push(...(result.Entries ?? []).map((entry) => entry.EventId as string));
  }
  return Promise.all(ids.map(async (id) => (await waitForResponse(target, id, 60_000)).detail));
}

/** The orders table, read as orders. */
async function storedOrders() {
  const items: Record<string, AttributeValue>[] = [];
  let cursor: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: ORDERS_TABLE, ConsistentRead: true, ...(cursor ? { ExclusiveStartKey: cursor } : {}) }));
    items.push(...(page.Items ?? []));
    cursor = page.LastEvaluatedKey;
  } while (cursor);
  return items.map(orderFromItem);
}

describe('cancelOrder through the local runtime', () => {
  it(
    'holds the contract when driven by the AWS CLI: create, query, cancel, query',
    async () => {
      const run = promisify(execFile);
      const cli = await run('aws', ['--version']).then(
        () => 'aws',
        () => '/usr/bin/aws',
      );
      const env = {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_PAGER: '',
        AWS_DEFAULT_OUTPUT: 'json',
      };
      const put = async (entry: Record<string, unknown>) => {
        const { stdout } = await run(
          cli,
          [
            '--endpoint-url',
            runtime.endpoint,
            'events',
            'put-events',
            '--entries',
            JSON.stringify([{ EventBusName: runtime.busArn, Source: 'orderPipeline', ...entry }]),
          ],
          { env },
        );
        return (await waitForResponse(target, (JSON.parse(stdout) as { Entries: { EventId: string }[] }).Entries[0]?.EventId as string, 60_000)).detail;
      };

      expect(
        await put({
          DetailType: 'orderCommand',
          Time: '2022-10-13T19:00:00Z',
          Detail: JSON.stringify({ command: 'createOrder', orderId: 'cli-6102', items: [{ itemid: 'cli-z3333', quantity: 6 }] }),
        }),
      ).toMatchObject({ orderid: 'cli-6102', commandStatus: 'orderCreated' });
      await localIdle(runtime.endpoint);
      expect(await put({ DetailType: 'orderQuery', Detail: JSON.stringify({ query: 'monthlySalesByItem', itemid: 'cli-z3333' }) })).toMatchObject({
        queryStatus: 200,
        queryResult: [{ monthyear: 'October 2022', monthlyordered: 6 }],
      });
      const cancelled = await put({
        DetailType: 'orderCommand',
        Time: '2022-10-14T08:30:00Z',
        Detail: JSON.stringify({ command: 'cancelOrder', orderId: 'cli-6102', reason: 'test' }),
      });
      expect(cancelled).toEqual({ orderid: 'cli-6102', commandStatus: 'orderCancelled', commandMessageId: expect.any(String) });
      await localIdle(runtime.endpoint);
      expect(await put({ DetailType: 'orderQuery', Detail: JSON.stringify({ query: 'monthlySalesByItem', itemid: 'cli-z3333' }) })).toMatchObject({
        queryStatus: 200,
        queryResult: [],
      });
      const report = (await put({ DetailType: 'orderQuery', Detail: JSON.stringify({ query: 'itemsSalesReport' }) })) as { queryResult: { itemid: string }[] };
      expect(report.queryResult.map((row) => row.itemid)).not.toContain('cli-z3333');
      expect(await put({ DetailType: 'orderQuery', Detail: JSON.stringify({ query: 'orderDetails', orderId: 'cli-6102' }) })).toMatchObject({
        queryStatus: 200,
        queryOrderStatus: 'cancelled',
        queryResult: [{ itemid: 'cli-z3333', quantity: 6, orderdate: '2022-10-13' }],
      });
    },
    budget({ awsCliRuns: 6, seconds: 20 }),
  );

  it(
    'refuses an unknown order, and answers a second cancel orderCancelled again without a second write',
    async () => {
      const [unknown] = await answers([cancel('never-created')]);
      expect(unknown).toMatchObject({
        orderid: 'never-created',
        commandStatus: 'orderRejected',
        error: { code: 'OrderNotFound', message: expect.stringContaining('does not exist') },
      });
      expect((await dynamo.send(new GetItemCommand({ TableName: ORDERS_TABLE, Key: { orderid: { S: 'never-created' } } }))).Item).toBeUndefined();

      await answers([create('twice-cancelled', [{ itemid: 'tc', quantity: 2 }])]);
      const [first] = await answers([cancel('twice-cancelled')]);
      const before = (await dynamo.send(new GetItemCommand({ TableName: ORDERS_TABLE, Key: { orderid: { S: 'twice-cancelled' } }, ConsistentRead: true })))
        .Item;
      const [second] = await answers([cancel('twice-cancelled')]);
      const after = (await dynamo.send(new GetItemCommand({ TableName: ORDERS_TABLE, Key: { orderid: { S: 'twice-cancelled' } }, ConsistentRead: true }))).Item;
      expect([first?.commandStatus, second?.commandStatus]).toEqual(['orderCancelled', 'orderCancelled']);
      // The second cancel wrote nothing: the first cancel's message id is still the one stored.
      expect(after).toEqual(before);
      expect(after?.cancelMessageId?.S).toBe(first?.commandMessageId);
    },
    budget({ seconds: 30 }),
  );

  it(
    'makes one write of 20 concurrent cancels, all answered orderCancelled, counted away once',
    async () => {
      await answers([create('contended', [{ itemid: 'contended', quantity: 5 }]), create('contended-other', [{ itemid: 'contended', quantity: 1 }])]);
      await localIdle(runtime.endpoint);

      const results = await answers(Array.from({ length: 20 }, () => cancel('contended')));
      await localIdle(runtime.endpoint);

      expect(results.map((result) => result?.commandStatus)).toEqual(Array(20).fill('orderCancelled'));
      const stored = (await dynamo.send(new GetItemCommand({ TableName: ORDERS_TABLE, Key: { orderid: { S: 'contended' } }, ConsistentRead: true }))).Item;
      expect(stored?.revision?.N).toBe('2');
      expect(results.map((result) => result?.commandMessageId)).toContain(stored?.cancelMessageId?.S);
      const [rows] = await pool.query('SELECT total_ordered FROM item_totals WHERE item_id = ?', ['contended']);
      expect(rows).toEqual([{ total_ordered: 1 }]);
    },
    budget({ seconds: 60 }),
  );

  it(
    'cancels an order the stream has not projected yet, and one created, cancelled and created again in one burst stays cancelled',
    async () => {
      // Act: no wait between the create and the cancel (the projection lags the command side); re-delivered creates around a cancel.
      const lagging = await answers([create('lagging', [{ itemid: 'lag', quantity: 3 }])]);
      const lagCancel = await answers([cancel('lagging')]);
      const burst = await answers([create('burst', [{ itemid: 'burst', quantity: 4 }])]);
      const mixed = await answers([
        cancel('burst'),
        create('burst', [{ itemid: 'burst', quantity: 4 }]),
        create('burst', [{ itemid: 'burst', quantity: 4 }]),
        cancel('burst'),
      ]);
      await localIdle(runtime.endpoint);

      // Assess: the creates are re-deliveries (orderCreated, nothing written), the cancels one outcome.
      expect([...lagging, ...lagCancel, ...burst].map((r) => r?.commandStatus)).toEqual(['orderCreated', 'orderCancelled', 'orderCreated']);
      expect(mixed.map((r) => r?.commandStatus)).toEqual(['orderCancelled', 'orderCreated', 'orderCreated', 'orderCancelled']);
      const [rows] = await pool.query('SELECT order_id, status, revision FROM orders WHERE order_id IN (?) ORDER BY order_id', [['burst', 'lagging']]);
      expect(rows).toEqual([
        { order_id: 'burst', status: 'cancelled', revision: 2 },
        { order_id: 'lagging', status: 'cancelled', revision: 2 },
      ]);
    },
    budget({ seconds: 60 }),
  );

  it(
    'leaves DynamoDB and the read model agreeing exactly after a random mix of creates, duplicates, conflicts and cancels',
    async () => {
      // Prepare: a seeded mix over 12 items and 60 days.
      let seed = 20261207;
      const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const entries: PutEventsRequestEntry[] = [];
      const contents = new Map<string, { itemid: string; quantity: number }[]>();
      for (let index = 0; index < 120; index++) {
        const orderId = `mix-${Math.floor(next() * 60)}`;
        const roll = next();
        if (roll < 0.55 || !contents.has(orderId)) {
          const items = contents.get(orderId) ?? [
            { itemid: `mix-item-${Math.floor(next() * 12)}`, quantity: 1 + Math.floor(next() * 9) },
            { itemid: `mix-item-${Math.floor(next() * 12)}`, quantity: 1 + Math.floor(next() * 9) },
          ];
          contents.set(orderId, items);
          entries.push(create(orderId, items, new Date(Date.UTC(2022, 8, 1) + Math.floor(next() * 60) * 86_400_000).toISOString()));
        } else if (roll < 0.65) {
          entries.push(create(orderId, [{ itemid: 'conflicting', quantity: 1 }]));
        } else {
          entries.push(cancel(orderId));
        }
      }

      // Act
      const results = await answers(entries);
      await localIdle(runtime.endpoint);

      // Assess: every answer is one the contract allows, and the read model is DynamoDB's projection.
      const statuses = results.map((result) => `${String(result?.commandStatus)}${result?.error ? `:${(result.error as { code: string }).code}` : ''}`);
      const counts = Object.fromEntries([...new Set(statuses)].map((status) => [status, statuses.filter((s) => s === status).length]));
      expect(
        Object.keys(counts).every((status) =>
          ['orderCreated', 'orderCancelled', 'orderRejected:OrderConflict', 'orderRejected:OrderNotFound', 'orderRejected:ServiceUnavailable'].includes(status),
        ),
      ).toBe(true);
      const stored = (await storedOrders()).filter((order) => order.orderId.startsWith('mix-'));
      const onlyMix = (rows: unknown[][]) => rows.filter((row) => String(row[0]).startsWith('mix-item-'));
      const actual = await readAggregates(pool);
      const expected = expectedAggregates(stored, statusCounts);
      expect({ items: onlyMix(actual.items), months: onlyMix(actual.months), days: onlyMix(actual.days) }).toEqual(expected);
      const [rows] = await pool.query<({ order_id: string; status: string; revision: number } & import('mysql2').RowDataPacket)[]>(
        "SELECT order_id, status, revision FROM orders WHERE order_id LIKE 'mix-%' ORDER BY order_id",
      );
      expect(rows.map((row) => [row.order_id, row.status, row.revision]).sort()).toEqual(
        stored.map((order) => [order.orderId, order.status, order.revision]).sort(),
      );
      // For the closing note.
      console.log(
        `random mix: ${entries.length} commands → ${JSON.stringify(counts)}; ${stored.length} orders, ${stored.filter((o) => o.status === 'cancelled').length} cancelled; ${expected.items.length} items agree`,
      );
    },
    budget({ seconds: 120 }),
  );

  it(
    'emitted only answers that validate against the published schemas (every answer of this file, each kind included)',
    async () => {
      // A few more kinds of answer: each query, a 404, a 400, a refused command.
      const ask = (detail: Record<string, unknown>): PutEventsRequestEntry => ({
        EventBusName: runtime.busName,
        Source: 'orderPipeline',
        DetailType: 'orderQuery',
        Detail: JSON.stringify(detail),
      });
      await answers([create('schema-order', [{ itemid: 'schema-item', quantity: 1 }])]);
      await localIdle(runtime.endpoint);
      const more = await answers([
        ask({ query: 'itemsSalesReport' }),
        ask({ query: 'monthlySalesByItem', itemid: 'schema-item' }),
        ask({ query: 'orderDetails', orderId: 'schema-order' }),
        ask({ query: 'orderDetails', orderId: 'no-such-order' }),
        ask({ query: 'monthlySalesByItem' }),
        { ...cancel('x'), Detail: JSON.stringify({ command: 'cancelOrder' }) },
      ]);
      expect(more.map((answer) => answer?.queryStatus ?? answer?.commandStatus)).toEqual([200, 200, 200, 404, 400, 'orderRejected']);

      const validate = publishedValidators();
      // What the pipeline emitted: every answer (the requests are the test's own, some invalid on purpose).
      const emitted = (await localEvents(runtime.endpoint)).filter(
        (event) => event.source === 'orderPipeline' && String(event['detail-type']).endsWith('Response'),
      );
      const kinds = new Set(emitted.map((event) => event['detail-type']));
      expect([...kinds].sort()).toEqual(['orderCommandResponse', 'orderQueryResponse']);
      const invalid = emitted.map((event) => ({ event, problem: validate(event) })).filter(({ problem }) => problem !== undefined);
      expect(invalid).toEqual([]);
      console.log(
        `schemas: ${emitted.length} events validated (${[...kinds].map((kind) => `${kind} ${emitted.filter((e) => e['detail-type'] === kind).length}`).join(', ')})`,
      );
    },
    budget({ seconds: 30 }),
  );
});
