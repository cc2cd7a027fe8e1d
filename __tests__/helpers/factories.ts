import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { INITIAL_STATE, orderContentHash, orderToItem, type Order, type OrderLine } from '../../handlers/domain/order';

/** A sample event file from `events/`, in PutEvents entry form. */
export interface SampleEntry {
  Source: string;
  DetailType: string;
  Time?: string;
  Detail: Record<string, unknown>;
}

/** Reads `events/<name>.json`. */
export function sampleEntry(name: string): SampleEntry {
  return JSON.parse(readFileSync(new URL(`../../events/${name}.json`, import.meta.url), 'utf8')) as SampleEntry;
}

/** The EventBridge envelope the workflow receives for a sample entry. */
export function envelopeOf(entry: SampleEntry, id: string = randomUUID()) {
  return {
    version: '0',
    id,
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: '000000000000',
    time: entry.Time ?? '2022-10-13T19:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: entry.Detail,
  };
}

/** The original's sample order: 6102, z3333 × 6 and z4444 × 3 on 2022-10-13. */
const SAMPLE_ORDER_LINES: readonly OrderLine[] = [
  { itemid: 'z3333', quantity: 6 },
  { itemid: 'z4444', quantity: 3 },
];

/** Builds a valid order. */
export function buildOrder(overrides: Partial<Omit<Order, 'contentHash'>> = {}): Order {
  const orderId = overrides.orderId ?? `o-${randomUUID().slice(0, 8)}`;
  const items = overrides.items ?? SAMPLE_ORDER_LINES;
  return {
    orderId,
    orderedAt: overrides.orderedAt ?? '2022-10-13T19:00:00.000Z',
    items,
    contentHash: orderContentHash(orderId, items),
    commandMessageId: overrides.commandMessageId ?? randomUUID(),
    status: overrides.status ?? INITIAL_STATE.status,
    revision: overrides.revision ?? INITIAL_STATE.revision,
  };
}

let sequence = 1_000_000;

/** A DynamoDB stream INSERT record for an order, as Lambda delivers it. */
export function insertRecord(order: Order, sequenceNumber: string = String(++sequence)): DynamoDBRecord {
  const item = orderToItem(order);
  return {
    eventID: randomUUID().replace(/-/g, ''),
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: {
      ApproximateCreationDateTime: Date.parse(order.orderedAt) / 1000,
      Keys: { orderid: { S: order.orderId } },
      NewImage: item as never,
      SequenceNumber: sequenceNumber,
      SizeBytes: JSON.stringify(item).length,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2022-10-13T00:00:00.000',
  };
}

/** Wraps records in a stream event. */
export function streamEvent(records: DynamoDBRecord[]): DynamoDBStreamEvent {
  return { Records: records };
}

/** A Lambda context good enough for handlers under test. */
export function lambdaContext(overrides: { remainingMs?: number; functionName?: string } = {}) {
  const deadline = Date.now() + (overrides.remainingMs ?? 60_000);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: overrides.functionName ?? 'order-pipeline-test-project-orders',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:order-pipeline-test',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/order-pipeline-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
