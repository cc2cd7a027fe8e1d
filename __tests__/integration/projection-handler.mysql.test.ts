/**
 * The stream projection with its real collaborators: Powertools idempotency on
 * dynalite, the read model on the MariaDB/MySQL at DB_URL.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import middy from '@middy/core';
import type { RowDataPacket } from 'mysql2/promise';
import { createProjection } from '../../handlers/read-model/projection';
import { logger } from '../../handlers/shared/logger';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { buildOrder, insertRecord, lambdaContext, streamEvent } from '../helpers/factories';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { createTestDatabase, snapshotReadModel, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;
let dynamo: LocalDynamo;
const TABLE = 'idempotency';

beforeAll(async () => {
  [db, dynamo] = await Promise.all([createTestDatabase('projection'), startDynalite(TABLE)]);
});

afterAll(async () => {
  await Promise.all([db.drop(), dynamo.close()]);
});

function store(): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({ tableName: TABLE, awsSdkV3Client: dynamo.client });
}

/** A persistence layer that fails where a crash after the MySQL commit would stop the function. */
class CrashBeforeCompletion extends DynamoDBPersistenceLayer {
  protected override async _updateRecord(_record: IdempotencyRecord): Promise<void> {
    throw new Error('simulated crash after the MySQL commit');
  }
}

const context = (remainingMs = 60_000) => lambdaContext({ remainingMs }) as unknown as Context;
const totalOf = async (itemid: string) => (await itemsSalesReport(db.pool)).find((row) => row.itemid === itemid)?.totalordered;

describe('stream projection', () => {
  it('projects a batch once, however often it is delivered', async () => {
    // Prepare
    const project = createProjection({ pool: () => db.pool, persistenceStore: store() });
    const event = streamEvent([
      insertRecord(buildOrder({ items: [{ itemid: 'twice-a', quantity: 2 }] })),
      insertRecord(
        buildOrder({
          items: [
            { itemid: 'twice-a', quantity: 3 },
            { itemid: 'twice-b', quantity: 1 },
          ],
        }),
      ),
    ]);

    // Act
    const first = await project(event, context());
    const afterFirst = await snapshotReadModel(db.pool);
    const second = await project(event, context());

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(await snapshotReadModel(db.pool)).toEqual(afterFirst);
    expect(await totalOf('twice-a')).toBe(5);
  });

  it('keeps totals exact when the function crashed after the commit and the batch is replayed', async () => {
    // Prepare: the first delivery commits to MySQL but never completes its idempotency records.
    const order = buildOrder({ items: [{ itemid: 'crash-after-commit', quantity: 7 }] });
    const event = streamEvent([insertRecord(order)]);
    const crashing = createProjection({
      pool: () => db.pool,
      persistenceStore: new CrashBeforeCompletion({ tableName: TABLE, awsSdkV3Client: dynamo.client }),
    });
    await expect(crashing(event, context(200))).rejects.toThrow('All records failed processing');
    expect(await totalOf('crash-after-commit')).toBe(7);
    await new Promise((resolve) => setTimeout(resolve, 250)); // the in-progress record expires

    // Act: the replay finds an expired in-progress record, runs again, and MySQL refuses the second projection.
    const replay = await createProjection({ pool: () => db.pool, persistenceStore: store() })(event, context());

    // Assess
    expect(replay).toEqual({ batchItemFailures: [] });
    expect(await totalOf('crash-after-commit')).toBe(7);
  });

  it('takes a cancel away once when the function crashed after its commit and the MODIFY is replayed', async () => {
    // Prepare: a counted order and another of the same item; the cancel's first delivery commits but never completes its idempotency record.
    const order = buildOrder({ items: [{ itemid: 'crash-cancel', quantity: 7 }] });
    const other = buildOrder({ orderedAt: '2022-09-01T00:00:00.000Z', items: [{ itemid: 'crash-cancel', quantity: 2 }] });
    await createProjection({ pool: () => db.pool, persistenceStore: store() })(streamEvent([insertRecord(order), insertRecord(other)]), context());
    const event = streamEvent([{ ...insertRecord({ ...order, status: 'cancelled', revision: 2 }), eventName: 'MODIFY' as const }]);
    const crashing = createProjection({
      pool: () => db.pool,
      persistenceStore: new CrashBeforeCompletion({ tableName: TABLE, awsSdkV3Client: dynamo.client }),
    });
    await expect(crashing(event, context(200))).rejects.toThrow('All records failed processing');
    expect(await totalOf('crash-cancel')).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 250)); // the in-progress record expires

    // Act: the replay runs again; the read model's stored revision refuses the second subtraction.
    const replay = await createProjection({ pool: () => db.pool, persistenceStore: store() })(event, context());

    // Assess
    expect(replay).toEqual({ batchItemFailures: [] });
    expect((await itemsSalesReport(db.pool)).find((row) => row.itemid === 'crash-cancel')).toEqual({
      itemid: 'crash-cancel',
      totalordered: 2,
      lastorderdate: '2022-09-01',
    });
  });

  it('keeps totals exact when the idempotency record is gone (expired) and the batch is replayed', async () => {
    const order = buildOrder({ items: [{ itemid: 'expired-record', quantity: 4 }] });
    const event = streamEvent([insertRecord(order)]);
    await createProjection({ pool: () => db.pool, persistenceStore: store() })(event, context());
    const forgetful = createProjection({ pool: () => db.pool, persistenceStore: undefined });

    expect(await forgetful(event, context())).toEqual({ batchItemFailures: [] });
    expect(await totalOf('expired-record')).toBe(4);
  });

  it('reports exactly the malformed record, logs it as malformed (matched by its class), and projects the rest', async () => {
    // Prepare
    const good = [buildOrder({ items: [{ itemid: 'partial', quantity: 1 }] }), buildOrder({ items: [{ itemid: 'partial', quantity: 2 }] })];
    const badOrder = buildOrder({ items: [{ itemid: 'partial', quantity: 100 }] });
    const bad = insertRecord(badOrder, '9000000001');
    (bad.dynamodb!.NewImage as Record<string, unknown>).items = { L: [{ M: { itemid: { S: 'partial' }, quantity: { S: 'lots' } } }] };
    const event = streamEvent([insertRecord(good[0]!), bad, insertRecord(good[1]!)]);
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const logged = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
    logger.setLogLevel('ERROR');

    // Act
    let response;
    try {
      response = await createProjection({ pool: () => db.pool, persistenceStore: store() })(event, context());
    } finally {
      logger.setLogLevel('SILENT');
      for (const spy of logged) spy.mockRestore();
    }

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '9000000001' }] });
    expect(await totalOf('partial')).toBe(3);
    const malformed = lines
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('"malformed record"'))
      .map((line) => JSON.parse(line) as { orderId?: string; sequenceNumber?: string });
    expect(malformed).toEqual([expect.objectContaining({ orderId: badOrder.orderId, sequenceNumber: '9000000001' })]);
  });

  it('fails a conflicting order alone and leaves the stored order untouched', async () => {
    // Prepare
    const project = createProjection({ pool: () => db.pool, persistenceStore: store() });
    const original = buildOrder({ orderId: 'handler-conflict', items: [{ itemid: 'hc', quantity: 1 }] });
    await project(streamEvent([insertRecord(original)]), context());
    const before = await snapshotReadModel(db.pool);
    const conflicting = insertRecord(buildOrder({ orderId: 'handler-conflict', items: [{ itemid: 'hc', quantity: 50 }] }), '9000000002');
    const unrelated = buildOrder({ items: [{ itemid: 'hc-other', quantity: 1 }] });

    // Act
    const response = await project(streamEvent([conflicting, insertRecord(unrelated)]), context());

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: '9000000002' }] });
    const after = await snapshotReadModel(db.pool);
    expect(after.totals).toEqual(expect.arrayContaining((before.totals as { item_id: string }[]).filter((row) => row.item_id === 'hc')));
    expect(await totalOf('hc-other')).toBe(1);
  });

  it("projects a cancel's MODIFY through its own idempotency record (orderId and revision), and skips REMOVE", async () => {
    // Prepare: one store for both records, as deployed: the create's completed record must not swallow the cancel.
    const order = buildOrder({ items: [{ itemid: 'changing', quantity: 4 }] });
    const project = createProjection({ pool: () => db.pool, persistenceStore: store() });
    await project(streamEvent([insertRecord(order)]), context());
    expect(await totalOf('changing')).toBe(4);
    const modify = { ...insertRecord({ ...order, status: 'cancelled', revision: 2 }, '9100000001'), eventName: 'MODIFY' as const };
    const remove = { ...insertRecord(order, '9100000002'), eventName: 'REMOVE' as const };

    // Act: the cancel, then its re-delivery.
    const first = await project(streamEvent([modify, remove]), context());
    const again = await project(streamEvent([modify]), context());

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(again).toEqual({ batchItemFailures: [] });
    expect(await totalOf('changing')).toBeUndefined();
  });

  it('fails the whole batch, and leaves no completed idempotency record, when MySQL is unreachable', async () => {
    // Prepare
    const order = buildOrder({ items: [{ itemid: 'db-down', quantity: 1 }] });
    const deadPool = (await import('mysql2/promise')).createPool({ host: '127.0.0.1', port: 1, user: 'x', connectTimeout: 500 });
    const project = createProjection({ pool: () => deadPool, persistenceStore: store() });

    // Act
    const run = project(streamEvent([insertRecord(order)]), context());

    // Assess
    await expect(run).rejects.toThrow('All records failed processing');
    const records = await dynamo.client.send(new ScanCommand({ TableName: TABLE }));
    const statuses = (records.Items ?? []).filter((item) => JSON.stringify(item).includes(order.orderId)).map((item) => item.status?.S);
    expect(statuses).toEqual([]);
    await deadPool.end();

    // and the replay, once MySQL is back, projects it once
    expect(await createProjection({ pool: () => db.pool, persistenceStore: store() })(streamEvent([insertRecord(order)]), context())).toEqual({
      batchItemFailures: [],
    });
    expect(await totalOf('db-down')).toBe(1);
  });

  it('lets the read model decide a record whose idempotency record is stuck in progress (a crashed invocation): projected once, not failed', async () => {
    // Prepare: an invocation that crashed left the order in progress for a minute.
    const order = buildOrder({ items: [{ itemid: 'in-progress', quantity: 1 }] });
    const project = createProjection({ pool: () => db.pool, persistenceStore: store() });
    await project(streamEvent([insertRecord(order)]), context());
    const records = await dynamo.client.send(new ScanCommand({ TableName: TABLE }));
    const id = records.Items!.find((item) => JSON.stringify(item).includes(order.orderId))?.id?.S;
    expect(id).toBeDefined();
    await dynamo.client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { id: { S: id! } },
        UpdateExpression: 'SET #s = :s, in_progress_expiration = :e',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': { S: 'INPROGRESS' }, ':e': { N: String(Date.now() + 60_000) } },
      }),
    );

    // Act
    const run = project(streamEvent([insertRecord(order, '9000000003')]), context());

    // Assess: no failure to retry or dead-letter, and the total is not doubled.
    await expect(run).resolves.toEqual({ batchItemFailures: [] });
    expect(await totalOf('in-progress')).toBe(1);
  });

  it('projects an order stuck in progress that was never written, exactly once', async () => {
    // Prepare: the crash came before the transaction: in progress, nothing in the read model.
    const order = buildOrder({ items: [{ itemid: 'stuck-before-write', quantity: 3 }] });
    const inProgress = async () =>
      ((await dynamo.client.send(new ScanCommand({ TableName: TABLE }))).Items ?? []).filter((item) => item.status?.S === 'INPROGRESS').length;
    const before = await inProgress();
    // A crash cleans nothing up: neither completion nor deletion of the in-progress record happens.
    const stuck = new (class extends DynamoDBPersistenceLayer {
      protected override async _updateRecord(): Promise<void> {
        throw new Error('simulated crash');
      }
      protected override async _deleteRecord(): Promise<void> {
        throw new Error('simulated crash');
      }
    })({ tableName: TABLE, awsSdkV3Client: dynamo.client });
    await createProjection({
      pool: () => ({ getConnection: () => Promise.reject(new Error('crashed before the transaction')) }) as never,
      persistenceStore: stuck,
    })(streamEvent([insertRecord(order)]), context()).catch(() => undefined);

    expect(await inProgress()).toBe(before + 1);
    expect(await totalOf('stuck-before-write')).toBeUndefined();

    // Act
    const replay = await createProjection({ pool: () => db.pool, persistenceStore: store() })(streamEvent([insertRecord(order, '9000000004')]), context());

    // Assess
    expect(replay).toEqual({ batchItemFailures: [] });
    expect(await totalOf('stuck-before-write')).toBe(3);
  });
});

describe('batches within the database limits', () => {
  it("projects a whole batch of maximum-size orders, split below the server's max_allowed_packet", async () => {
    // Prepare: 1,000 orders of 100 lines with 64-character item ids (~28 MB as one INSERT).
    const [[packet]] = (await db.pool.query('SELECT @@max_allowed_packet AS bytes')) as unknown as [[{ bytes: number }]];
    const orders = Array.from({ length: 1_000 }, (_, order) =>
      buildOrder({
        orderId: `max-${order}`,
        items: Array.from({ length: 100 }, (_, line) => ({ itemid: `${String(order * 100 + line).padStart(8, '0')}-${'m'.repeat(55)}`, quantity: 1_000_000 })),
      }),
    );
    const project = createProjection({ pool: () => db.pool, persistenceStore: undefined });

    // Act
    const response = await project(streamEvent(orders.map((order) => insertRecord(order))), context(600_000));

    // Assess
    expect(Number(packet.bytes)).toBeLessThan(28 * 1024 * 1024);
    expect(response).toEqual({ batchItemFailures: [] });
    const [[counts]] = (await db.pool.query(
      "SELECT COUNT(*) AS line_count, SUM(quantity) AS total FROM order_lines WHERE order_id LIKE 'max-%'",
    )) as unknown as [[{ line_count: number; total: string }]];
    expect({ lines: Number(counts.line_count), total: Number(counts.total) }).toEqual({ lines: 100_000, total: 100_000_000_000 });
  }, 180_000);

  it('logs a failed write once per batch with its size and sequence numbers, never the SQL text or parameters', async () => {
    // Prepare: a read model without its lines table refuses the write.
    const logged: string[] = [];
    const streams = [process.stdout, process.stderr] as const;
    const writes = streams.map((stream) => stream.write.bind(stream));
    streams.forEach((stream) => {
      stream.write = (chunk: string | Uint8Array) => {
        logged.push(String(chunk));
        return true;
      };
    });
    logger.setLogLevel('INFO');
    await db.pool.query('RENAME TABLE order_lines TO order_lines_away');
    const secret = 'customer-item-that-must-not-be-logged';
    const event = streamEvent([
      insertRecord(buildOrder({ orderId: 'log-1', items: [{ itemid: secret, quantity: 1 }] })),
      insertRecord(buildOrder({ orderId: 'log-2', items: [{ itemid: secret, quantity: 2 }] })),
    ]);
    const project = createProjection({ pool: () => db.pool, persistenceStore: undefined });

    // Act
    let failure: unknown;
    try {
      await project(event, context());
    } catch (error) {
      failure = error;
    } finally {
      await db.pool.query('RENAME TABLE order_lines_away TO order_lines');
      streams.forEach((stream, index) => (stream.write = writes[index] as typeof stream.write));
      logger.setLogLevel('SILENT');
    }

    // Assess: every record failed, so the whole batch is retried.
    expect(failure).toMatchObject({ name: 'FullBatchFailureError' });
    const failures = logged.filter((line) => line.includes('read model write failed'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain(`"firstSequenceNumber":"${event.Records[0]?.dynamodb?.SequenceNumber}"`);
    expect(failures[0]).toContain('"records":2');
    // The server's error, its code and its text naming the table, kept (a top-level `message` is a key Powertools drops).
    expect(JSON.parse(failures[0] as string)).toMatchObject({ error: { code: 'ER_NO_SUCH_TABLE', message: expect.stringContaining('order_lines') } });
    expect(logged.join('')).not.toContain('is a reserved key');
    expect(logged.join('')).not.toMatch(/INSERT INTO|customer-item-that-must-not-be-logged/);
  }, 30_000);
});

describe('a batch that times out with its transaction open', () => {
  // middy ends the invocation 5 ms before the deadline with TimeoutError, as the deployed handler;
  // the transaction it abandoned goes on (on Lambda, when the frozen environment is next thawed).
  it.each([
    ['the abandoned transaction commits before the retry', 'abandoned-first'],
    ['the retry runs while the abandoned transaction still holds its rows', 'retry-first'],
  ] as const)(
    'projects each order once when %s',
    async (_case, interleaving) => {
      // Prepare: the item's totals table locked by another session, so the batch's transaction waits on it.
      const item = `timeout-${interleaving}`;
      const event = streamEvent([
        insertRecord(buildOrder({ items: [{ itemid: item, quantity: 3 }] })),
        insertRecord(buildOrder({ items: [{ itemid: item, quantity: 4 }] })),
      ]);
      const handler = middy(createProjection({ pool: () => db.pool, persistenceStore: store() }));
      const blocker = await db.connect();
      const ordersOfItem = async () => {
        const [rows] = await db.pool.query<RowDataPacket[]>('SELECT COUNT(DISTINCT order_id) AS n FROM order_lines WHERE item_id = ?', [item]);
        return Number(rows[0]?.n);
      };
      try {
        await blocker.query('LOCK TABLES item_totals WRITE');

        // Act: the first delivery times out; the batch is retried (after the in-progress records expired with that invocation).
        const first = handler(event, context(1_500));
        await expect(first).rejects.toMatchObject({ name: 'TimeoutError' });
        let retry: Promise<unknown>;
        if (interleaving === 'abandoned-first') {
          await blocker.query('UNLOCK TABLES');
          for (const deadline = Date.now() + 20_000; (await ordersOfItem()) < 2 && Date.now() < deadline;)
            await new Promise((resolve) => setTimeout(resolve, 20));
          retry = handler(event, context());
        } else {
          await new Promise((resolve) => setTimeout(resolve, 50));
          retry = handler(event, context());
          await new Promise((resolve) => setTimeout(resolve, 300));
          await blocker.query('UNLOCK TABLES');
        }

        // Assess
        await expect(retry).resolves.toEqual({ batchItemFailures: [] });
        expect(await ordersOfItem()).toBe(2);
        expect(await totalOf(item)).toBe(7);
      } finally {
        await blocker.end();
      }
    },
    60_000,
  );
});

describe('metrics', () => {
  it('emits the batch size, orders projected and duplicates skipped in embedded metric format, with no API call', async () => {
    // Prepare
    const written: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    // The suite turns metrics off (setup-env.ts): a projection of its own, with them on as in Lambda.
    const saved = { ...process.env };
    process.env.POWERTOOLS_METRICS_NAMESPACE = 'OrderPipeline/test';
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    let project!: ReturnType<typeof createProjection>;
    await jest
      .isolateModulesAsync(async () => {
        project = (await import('../../handlers/read-model/projection')).createProjection({ pool: () => db.pool, persistenceStore: undefined });
      })
      .finally(() => {
        for (const name of ['POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_METRICS_DISABLED']) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      });
    const order = buildOrder({ orderId: 'emf-1', items: [{ itemid: 'emf', quantity: 1 }] });

    // Act: the same order twice in one batch: one projected, one skipped.
    try {
      await project(streamEvent([insertRecord(order), insertRecord(order)]), context());
    } finally {
      process.stdout.write = write;
    }

    // Assess
    const emf = written
      .map((line) => line.trim())
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toEqual([expect.objectContaining({ OrdersProjected: 1, DuplicatesSkipped: 1, ProjectionBatchSize: 2, service: 'order-pipeline' })]);
  });
});
