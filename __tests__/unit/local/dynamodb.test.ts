import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { itemSizeBytes, LocalDynamoDB, tableFromModel } from '../../../local/dynamodb';
import { budget } from '../../helpers/budget';

const table = {
  TableName: 'orders',
  KeySchema: [{ AttributeName: 'orderid', KeyType: 'HASH' }],
  AttributeDefinitions: [{ AttributeName: 'orderid', AttributeType: 'S' }],
  BillingMode: 'PAY_PER_REQUEST',
  StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_IMAGE', StreamLabel: '1970-01-01T00:00:00.000' },
};

async function started(dataDir: string): Promise<LocalDynamoDB> {
  const dynamodb = new LocalDynamoDB({ region: 'us-east-1', account: '000000000000', dataDir });
  await dynamodb.start();
  await dynamodb.ensureTable(table);
  return dynamodb;
}

describe('LocalDynamoDB streams with a data folder', () => {
  it('keeps stream records across a restart, and records a write that reached the table but not the journal', async () => {
    // Prepare: two orders written; then the journal loses its last line, as when the process dies between the table write and the journal append.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'streams-'));
    const first = await started(dataDir);
    await first.call('PutItem', { TableName: 'orders', Item: { orderid: { S: 'kept' } } });
    await first.call('PutItem', { TableName: 'orders', Item: { orderid: { S: 'torn' } } });
    await first.stop();
    const journal = path.join(dataDir, 'streams', 'orders.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    writeFileSync(journal, `${lines.slice(0, -1).join('\n')}\n`);

    // Act
    const second = await started(dataDir);
    const report = await second.recoverStreams();
    const records = second.stream('orders')?.records ?? [];
    await second.stop();

    // Assess
    expect(report).toEqual([{ table: 'orders', reloaded: 1, recovered: 1 }]);
    expect(records.map((record) => [record.eventName, record.dynamodb.Keys])).toEqual([
      ['INSERT', { orderid: { S: 'kept' } }],
      ['INSERT', { orderid: { S: 'torn' } }],
    ]);
    expect(Number(records[1]?.dynamodb.SequenceNumber)).toBeGreaterThan(Number(records[0]?.dynamodb.SequenceNumber));
  });

  it('records nothing twice: a second restart finds the stream and the table in agreement', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'streams-'));
    const first = await started(dataDir);
    await first.call('PutItem', { TableName: 'orders', Item: { orderid: { S: 'once' } } });
    await first.stop();
    const second = await started(dataDir);
    const report = await second.recoverStreams();
    await second.stop();
    expect(report).toEqual([{ table: 'orders', reloaded: 1, recovered: 0 }]);
  });
});

describe('LocalDynamoDB write caps (on-demand maximum throughput)', () => {
  it('throttles the writes that would take a capped table past its write request units in a second, as DynamoDB does', async () => {
    // Prepare: a cap of 4 WRU/s, on a clock the test moves.
    let now = 1_000_000;
    const dynamodb = new LocalDynamoDB({ region: 'us-east-1', account: '000000000000', now: () => now });
    await dynamodb.start();
    try {
      await dynamodb.declareTable({ name: 'orders', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders', maxWriteRequestUnits: 4 }, table);
      await dynamodb.declareTable(
        { name: 'uncapped', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/uncapped' },
        { ...table, TableName: 'uncapped', StreamSpecification: undefined },
      );
      const put = (name: string, id: string, padding = 0) =>
        dynamodb.call('PutItem', { TableName: name, Item: { orderid: { S: id }, ...(padding ? { padding: { S: 'x'.repeat(padding) } } : {}) } });

      // Act
      const first = await Promise.all(['a', 'b', 'c'].map((id) => put('orders', id)));
      const large = await put('orders', 'large', 2_000); // 2 KB: 2 units, past the 1 left
      const fourth = await put('orders', 'd');
      const fifth = await put('orders', 'e');
      const elsewhere = await Promise.all(Array.from({ length: 10 }, (_, index) => put('uncapped', `u${index}`)));
      const read = await dynamodb.call('GetItem', { TableName: 'orders', Key: { orderid: { S: 'a' } } });
      now += 1_001;
      const nextSecond = await put('orders', 'large', 2_000);

      // Assess
      expect(first.map((result) => result.status)).toEqual([200, 200, 200]);
      expect(large).toEqual({
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
          message: 'Throughput exceeds the maximum OnDemandThroughput configured on table orders (4 write request units per second)',
          ThrottlingReasons: [{ reason: 'TableWriteMaxOnDemandThroughputExceeded', resource: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders' }],
        },
      });
      expect([fourth.status, fifth.status]).toEqual([200, 400]);
      expect(elsewhere.every((result) => result.status === 200)).toBe(true);
      expect(read.status).toBe(200);
      expect(nextSecond.status).toBe(200);
      // A throttled write changed nothing and made no stream record.
      expect((await dynamodb.call('GetItem', { TableName: 'orders', Key: { orderid: { S: 'e' } } })).body.Item).toBeUndefined();
      expect(dynamodb.stream('orders')?.records.map((record) => record.dynamodb.Keys.orderid)).toEqual([
        { S: 'a' },
        { S: 'b' },
        { S: 'c' },
        { S: 'd' },
        { S: 'large' },
      ]);
    } finally {
      await dynamodb.stop();
    }
  });

  it('counts an item by its size as DynamoDB does: names and values, one unit per started KB', () => {
    expect(itemSizeBytes({ orderid: { S: '6102' } })).toBe(7 + 4);
    expect(itemSizeBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemSizeBytes({ ok: { BOOL: true }, gone: { NULL: true } })).toBe(2 + 1 + 4 + 1);
    expect(itemSizeBytes({ items: { L: [{ M: { itemid: { S: 'z3333' }, quantity: { N: '6' } } }] } })).toBe(5 + 3 + 1 + (3 + (1 + 6 + 5) + (1 + 8 + 2)));
  });

  it(
    'reads the cap of each table from the synthesized stacks',
    async () => {
      const { synthesizeLocal } = await import('../../../local/synth');
      const { readSynthesizedStacks, TerraformModel } = await import('../../../local/terraform');
      const { LOCAL_TYPES } = await import('../../../local/services');
      const { ENVIRONMENTS } = await import('../../../config/environments');
      const model = new TerraformModel(
        readSynthesizedStacks(await synthesizeLocal()),
        { region: 'us-east-1', account: '000000000000', endpoint: 'http://127.0.0.1:4566', database: { host: '127.0.0.1', port: 3306, name: 'orders' } },
        LOCAL_TYPES,
      );
      const caps = Object.fromEntries(
        model
          .resources('aws_dynamodb_table')
          .map((resource) => tableFromModel(model, resource).resource)
          .map((resource) => [resource.name, resource.maxWriteRequestUnits]),
      );
      expect(caps).toEqual({
        'order-pipeline-local-orders': ENVIRONMENTS.local.intake.ordersMaxWriteRequestUnits,
        'order-pipeline-local-idempotency': undefined,
      });
    },
    budget({ seconds: 20 }),
  );
});
