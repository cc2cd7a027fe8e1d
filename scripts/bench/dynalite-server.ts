import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { IDEMPOTENCY_TABLE } from '../../config/pipeline';

/** dynalite on a free port with a Powertools idempotency table (benchmarks). */
export async function startDynaliteServer(table: string): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  await client.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.key, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.key, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  client.destroy();
  return { endpoint, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
