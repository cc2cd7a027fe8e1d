/**
 * Benchmark worker: a fresh process that imports the projection bundle exactly
 * as deployed (dist/project-orders/index.mjs) and feeds it stream batches.
 * Prints one JSON line: orders, lines, seconds, statements (the handler's own, counted by a proxy).
 *
 *   node --import tsx projection-worker.ts <bundle> <batches> <batchSize> <prefix>
 *
 * The environment carries the function's configuration (DB_*, IDEMPOTENCY_TABLE,
 * endpoints, POWERTOOLS_IDEMPOTENCY_DISABLED for the run without idempotency).
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { INITIAL_STATE, orderContentHash, orderToItem } from '../handlers/domain/order';
import { random, statementCounter } from './support';

const [bundle, batchesArg, sizeArg, prefix] = process.argv.slice(2) as [string, string, string, string];
const batches = Number(batchesArg);
const size = Number(sizeArg);
const next = random(7);
let sequence = 0;

function batch(index: number) {
  return {
    Records: Array.from({ length: size }, (_, position) => {
      const orderId = `${prefix}-${index}-${position}`;
      const items = [
        { itemid: `item-${String(Math.floor(next() * 500)).padStart(3, '0')}`, quantity: 1 + Math.floor(next() * 5) },
        { itemid: `item-${String(Math.floor(next() * 500)).padStart(3, '0')}`, quantity: 1 + Math.floor(next() * 5) },
      ];
      const order = {
        orderId,
        orderedAt: new Date(Date.UTC(2021, 0, 1) + Math.floor(next() * 4 * 365) * 86_400_000).toISOString(),
        items,
        contentHash: orderContentHash(orderId, items),
        commandMessageId: randomUUID(),
        ...INITIAL_STATE,
      };
      const image = orderToItem(order);
      return {
        eventID: randomUUID(),
        eventName: 'INSERT',
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'us-east-1',
        dynamodb: {
          ApproximateCreationDateTime: Date.now() / 1000,
          Keys: { orderid: image.orderid },
          NewImage: image,
          SequenceNumber: String(++sequence).padStart(21, '0'),
          SizeBytes: 200,
          StreamViewType: 'NEW_IMAGE',
        },
        eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/bench',
      };
    }),
  };
}

const context = () => {
  const deadline = Date.now() + 60_000;
  return {
    functionName: 'order-pipeline-bench-project-orders',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => deadline - Date.now(),
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
    memoryLimitInMB: '1024',
    functionVersion: '$LATEST',
    logGroupName: 'bench',
    logStreamName: 'bench',
  };
};

// The handler connects through a counting proxy: its own statements only, whatever else uses the server.
const counter = await statementCounter(process.env.DB_HOST as string, Number(process.env.DB_PORT));
process.env.DB_HOST = '127.0.0.1';
process.env.DB_PORT = String(counter.port);
const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }> };
const prepared = Array.from({ length: batches + 1 }, (_, index) => batch(index));
// The first batch warms the pool, the secret and the idempotency client; it is not measured.
const warm = await handler(prepared[0], context());
if (warm.batchItemFailures.length > 0) throw new Error(`warm-up batch failed: ${JSON.stringify(warm)}`);

const before = counter.statements();
const started = performance.now();
for (let index = 1; index <= batches; index++) {
  const response = await handler(prepared[index], context());
  if (response.batchItemFailures.length > 0) throw new Error(`batch ${index} reported failures`);
}
const seconds = (performance.now() - started) / 1000;
const statements = counter.statements() - before;
await counter.close();
console.log(JSON.stringify({ orders: batches * size, lines: batches * size * 2, seconds, statements }));
process.exit(0);
