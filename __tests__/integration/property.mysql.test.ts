/**
 * Property: whatever the delivery — duplicates, re-orderings, replays of
 * earlier batches, idempotency records forgotten — the read model equals a
 * reference fold of the distinct orders. fast-check against the real
 * projection, the MariaDB/MySQL at DB_URL and dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { INITIAL_STATE, orderContentHash, type Order } from '../../handlers/domain/order';
import { monthYear } from '../../handlers/queries/monthly-sales-by-item';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { monthlySalesByItem } from '../../handlers/queries/monthly-sales-by-item';
import { createProjection } from '../../handlers/read-model/projection';
import { insertRecord, lambdaContext, streamEvent } from '../helpers/factories';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { createTestDatabase, truncateReadModel, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;
let dynamo: LocalDynamo;

beforeAll(async () => {
  [db, dynamo] = await Promise.all([createTestDatabase('property'), startDynalite('unused')]);
});

afterAll(async () => {
  await Promise.all([db.drop(), dynamo.close()]);
});

const ITEMS = ['a', 'b', "c'; --", 'd🍕', 'E'];

const orderArbitrary = fc
  .record({
    lines: fc.array(fc.record({ itemid: fc.constantFrom(...ITEMS), quantity: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 3 }),
    day: fc.integer({ min: 0, max: 3 * 365 }),
  })
  .map(({ lines, day }) => ({ lines, orderedAt: new Date(Date.UTC(2022, 0, 1) + day * 86_400_000 + 3_600_000).toISOString() }));

/** Deliveries: batches of indexes into the order list (repeats allowed), some without idempotency. */
const scenarioArbitrary = fc.array(orderArbitrary, { minLength: 1, maxLength: 25 }).chain((shapes) =>
  fc.record({
    shapes: fc.constant(shapes),
    batches: fc.array(fc.record({ indexes: fc.array(fc.nat({ max: shapes.length - 1 }), { minLength: 1, maxLength: 12 }), forgetIdempotency: fc.boolean() }), {
      minLength: 0,
      maxLength: 6,
    }),
    finalOrder: fc.shuffledSubarray(
      shapes.map((_, index) => index),
      { minLength: shapes.length, maxLength: shapes.length },
    ),
  }),
);

let run = 0;

describe('projection under arbitrary delivery', () => {
  it('always equals the fold of the distinct orders', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary, async ({ shapes, batches, finalOrder }) => {
        // Prepare: a clean read model and idempotency table per run.
        run++;
        const connection = await db.connect();
        await truncateReadModel(connection);
        await connection.end();
        const table = `idempotency-${run}`;
        await dynamo.client.send(
          new CreateTableCommand({
            TableName: table,
            KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
            AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
            BillingMode: 'PAY_PER_REQUEST',
          }),
        );
        const orders: Order[] = shapes.map((shape, index) => ({
          orderId: `p-${run}-${index}`,
          orderedAt: shape.orderedAt,
          items: shape.lines,
          contentHash: orderContentHash(`p-${run}-${index}`, shape.lines),
          commandMessageId: `m-${index}`,
          ...INITIAL_STATE,
        }));
        const records = orders.map((order, index) => insertRecord(order, String(1_000_000 + index)));
        const withIdempotency = createProjection({
          pool: () => db.pool,
          persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: dynamo.client }),
        });
        const forgetful = createProjection({ pool: () => db.pool, persistenceStore: undefined });
        const context = lambdaContext() as unknown as Context;

        // Act: arbitrary batches, then every order at least once in a shuffled batch.
        for (const batch of [...batches, { indexes: finalOrder, forgetIdempotency: false }]) {
          const project = batch.forgetIdempotency ? forgetful : withIdempotency;
          // A batch never holds the same stream record twice; repeats arrive as replays.
          const distinct = [...new Set(batch.indexes)];
          const response = await project(streamEvent(distinct.map((index) => records[index]!)), context);
          expect(response).toEqual({ batchItemFailures: [] });
        }

        // Assess
        const totals = new Map<string, { total: number; last: string }>();
        const months = new Map<string, Map<string, number>>();
        for (const order of orders) {
          const date = order.orderedAt.slice(0, 10);
          const month = monthYear(`${order.orderedAt.slice(0, 7)}-01`);
          for (const line of order.items) {
            const item = totals.get(line.itemid) ?? { total: 0, last: '' };
            totals.set(line.itemid, { total: item.total + line.quantity, last: date > item.last ? date : item.last });
            const perMonth = months.get(line.itemid) ?? new Map<string, number>();
            perMonth.set(`${order.orderedAt.slice(0, 7)}|${month}`, (perMonth.get(`${order.orderedAt.slice(0, 7)}|${month}`) ?? 0) + line.quantity);
            months.set(line.itemid, perMonth);
          }
        }
        const expectedReport = [...totals.entries()]
          .sort(([a], [b]) => (Buffer.from(a) < Buffer.from(b) ? -1 : 1))
          .map(([itemid, { total, last }]) => ({ itemid, totalordered: total, lastorderdate: last }));
        expect(await itemsSalesReport(db.pool)).toEqual(expectedReport);
        for (const [itemId, perMonth] of months) {
          const expectedMonths = [...perMonth.entries()]
            .sort(([a], [b]) => (a < b ? 1 : -1))
            .map(([key, total]) => ({ monthyear: key.split('|')[1], monthlyordered: total }));
          expect(await monthlySalesByItem(db.pool, itemId)).toEqual(expectedMonths);
        }
      }),
      { numRuns: 25, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 120_000);
});
