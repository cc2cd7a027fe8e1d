/**
 * Property: orders created and some cancelled, their stream records (INSERT
 * and MODIFY) delivered in any order — a cancel before its create, replays,
 * idempotency records forgotten — leave the read model equal to a fold of the
 * orders' final states: totals, monthly and daily totals, last order dates.
 * fast-check against the real projection, MariaDB/MySQL at DB_URL and dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { statusCounts } from '../../handlers/commands/registry';
import { INITIAL_STATE, orderContentHash, type Order } from '../../handlers/domain/order';
import { createProjection } from '../../handlers/read-model/projection';
import { insertRecord, lambdaContext, streamEvent } from '../helpers/factories';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { createTestDatabase, expectedAggregates, readAggregates, truncateReadModel, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;
let dynamo: LocalDynamo;

beforeAll(async () => {
  [db, dynamo] = await Promise.all([createTestDatabase('property_changes'), startDynalite('unused')]);
});

afterAll(async () => {
  await Promise.all([db.drop(), dynamo.close()]);
});

const ITEMS = ['a', 'b', "c'; --", 'd🍕'];

const orderArbitrary = fc.record({
  lines: fc.array(fc.record({ itemid: fc.constantFrom(...ITEMS), quantity: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 3 }),
  day: fc.integer({ min: 0, max: 90 }),
  cancelled: fc.boolean(),
});

/** Deliveries: batches of indexes into the record list (creates, then the cancels), some without idempotency. */
const scenarioArbitrary = fc.array(orderArbitrary, { minLength: 1, maxLength: 20 }).chain((shapes) => {
  const records = shapes.length + shapes.filter((shape) => shape.cancelled).length;
  return fc.record({
    shapes: fc.constant(shapes),
    batches: fc.array(fc.record({ indexes: fc.array(fc.nat({ max: records - 1 }), { minLength: 1, maxLength: 12 }), forgetIdempotency: fc.boolean() }), {
      minLength: 0,
      maxLength: 6,
    }),
    finalOrder: fc.shuffledSubarray(
      Array.from({ length: records }, (_, index) => index),
      { minLength: records, maxLength: records },
    ),
  });
});

let run = 0;

describe('projection of changes under arbitrary delivery', () => {
  it('always equals the fold of the orders in their final states', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async ({ shapes, batches, finalOrder }) => {
        // Prepare
        run++;
        const connection = await db.connect();
        await truncateReadModel(connection);
        await connection.end();
        const table = `idempotency-changes-${run}`;
        await dynamo.client.send(
          new CreateTableCommand({
            TableName: table,
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        const created: Order[] = shapes.map((shape, index) => ({
          orderId: `pc-${run}-${index}`,
          orderedAt: new Date(Date.UTC(2022, 0, 1) + shape.day * 86_400_000 + 3_600_000).toISOString(),
          items: shape.lines,
          contentHash: orderContentHash(`pc-${run}-${index}`, shape.lines),
          commandMessageId: `m-${index}`,
          ...INITIAL_STATE,
        }));
        const cancels = created.filter((_, index) => shapes[index]!.cancelled).map((order): Order => ({ ...order, status: 'cancelled', revision: 2 }));
        const records = [
          ...created.map((order, index) => insertRecord(order, String(1_000_000 + index))),
          ...cancels.map((order, index) => ({ ...insertRecord(order, String(2_000_000 + index)), eventName: 'MODIFY' as const })),
        ];
        const withIdempotency = createProjection({
          pool: () => db.pool,
          persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: dynamo.client }),
        });
        const forgetful = createProjection({ pool: () => db.pool, persistenceStore: undefined });
        const context = lambdaContext() as unknown as Context;

        // Act: arbitrary batches, then every record at least once in a shuffled batch.
        for (const batch of [...batches, { indexes: finalOrder, forgetIdempotency: false }]) {
          const project = batch.forgetIdempotency ? forgetful : withIdempotency;
          const distinct = [...new Set(batch.indexes)];
          const response = await project(streamEvent(distinct.map((index) => records[index]!)), context);
          expect(response).toEqual({ batchItemFailures: [] });
        }

        // Assess
        const final = created.map((order) => cancels.find((cancel) => cancel.orderId === order.orderId) ?? order);
        expect(await readAggregates(db.pool)).toEqual(expectedAggregates(final, statusCounts));
        const [rows] = await db.pool.query('SELECT order_id, status, revision FROM orders ORDER BY order_id');
        expect(rows).toEqual(
          final
            .map((order) => ({ order_id: order.orderId, status: order.status, revision: order.revision }))
            .sort((a, b) => (a.order_id < b.order_id ? -1 : 1)),
        );
      }),
      { numRuns: 25, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 180_000);
});
