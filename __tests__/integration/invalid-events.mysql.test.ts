/**
 * Every malformed command and query in events/invalid/ goes through the local
 * runtime (its own database on the MariaDB/MySQL at DB_URL): the documented
 * refusal arrives, and nothing is written to DynamoDB or MySQL.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Pool } from 'mysql2/promise';
import { localIdle, waitForResponse, type Target } from '../../clients/pipeline-client';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { snapshotReadModel } from '../helpers/mysql';
import { budget } from '../helpers/budget';

interface InvalidCase {
  description: string;
  entry: { Source: string; DetailType: string; Time?: string; Detail: unknown };
  expect: { response: Record<string, unknown> } | { putEventsEntryError: { ErrorCode: string; ErrorMessage: string } } | { putEventsRequestError: string };
}

const directory = new URL('../../events/invalid/', import.meta.url);
const cases = readdirSync(directory)
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file, JSON.parse(readFileSync(new URL(file, directory), 'utf8')) as InvalidCase] as const);

/** Expands `{"$repeat": s, "$times": n}` into the repeated string. */
function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.$repeat === 'string' && typeof record.$times === 'number') return record.$repeat.repeat(record.$times);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, expand(inner)]));
  }
  return value;
}

let runtime: RunningLocalRuntime;
let events: EventBridgeClient;
let pool: Pool;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
    events = new EventBridgeClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    pool = readModelPool(runtime);
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  events?.destroy();
  await pool?.end();
  await runtime?.stop();
});

describe('invalid events', () => {
  it('has at least 30 cases, each naming its expected refusal', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const [file, invalid] of cases) {
      expect({ file, described: invalid.description.length > 0, expects: Object.keys(invalid.expect).length }).toEqual({ file, described: true, expects: 1 });
    }
  });

  it.each(cases)('%s gets its refusal', async (_file, invalid) => {
    // Prepare
    const detail = expand(invalid.entry.Detail);
    const entry = {
      EventBusName: runtime.busName,
      Source: invalid.entry.Source,
      DetailType: invalid.entry.DetailType,
      Detail: typeof detail === 'string' ? detail : JSON.stringify(detail),
      ...(invalid.entry.Time ? { Time: new Date(invalid.entry.Time) } : {}),
    };

    // Act
    const put = events.send(new PutEventsCommand({ Entries: [entry] }));

    // Assess
    if ('putEventsRequestError' in invalid.expect) {
      await expect(put).rejects.toMatchObject({ name: invalid.expect.putEventsRequestError });
      return;
    }
    const result = await put;
    if ('putEventsEntryError' in invalid.expect) {
      expect(result.FailedEntryCount).toBe(1);
      expect(result.Entries?.[0]).toMatchObject(invalid.expect.putEventsEntryError);
      return;
    }
    const id = result.Entries?.[0]?.EventId as string;
    const response = await waitForResponse({ kind: 'local', bus: runtime.busName, endpoint: runtime.endpoint } satisfies Target, id, 15_000);
    expect(response.detail).toMatchObject({
      ...invalid.expect.response,
      ...(invalid.entry.DetailType === 'orderCommand' ? { commandMessageId: id } : { queryMessageId: id }),
    });
  });

  it('wrote nothing to DynamoDB or MySQL', async () => {
    await localIdle(runtime.endpoint);
    const dynamo = new DynamoDBClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    try {
      for (const table of ['order-pipeline-local-orders', 'order-pipeline-local-idempotency']) {
        expect((await dynamo.send(new ScanCommand({ TableName: table }))).Count).toBe(0);
      }
    } finally {
      dynamo.destroy();
    }
    expect(await snapshotReadModel(pool)).toEqual({ orders: [], lines: [], totals: [], months: [], days: [] });
  });
});
