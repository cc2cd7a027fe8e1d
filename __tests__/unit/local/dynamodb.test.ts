import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalDynamoDB } from '../../../local/dynamodb';

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
