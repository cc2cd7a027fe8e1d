/**
 * `npm start`: runs the whole pipeline locally in the foreground until Ctrl-C.
 *
 *   --port <n>         endpoint port (default 4566; 0 picks a free one)
 *   --data <dir>       keep DynamoDB tables in <dir> between runs (default: in memory)
 *   --db-url <url>     read-model server (default DB_URL, else mysql://root@127.0.0.1:3306/orders)
 *   --environment <e>  environment name in resource names (default local)
 *   --log-level <l>    handlers' Powertools log level (default WARN)
 *   --retry-delay-ms   fixed retry delay for the bus, workflow and stream (tests)
 */
import { parseArgs } from 'node:util';
import { DEFAULT_STREAM_MAPPING } from '../config/pipeline';
import { LocalRuntime } from './runtime';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.LOCAL_PORT ?? '4566' },
    data: { type: 'string' },
    'db-url': { type: 'string', default: process.env.DB_URL },
    environment: { type: 'string', default: 'local' },
    'log-level': { type: 'string', default: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
    'retry-delay-ms': { type: 'string' },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a TCP port, got ${values.port}`);
  process.exit(2);
}

let runtime: LocalRuntime;
try {
  runtime = await LocalRuntime.start({
    port,
    environment: values.environment,
    logLevel: values['log-level'],
    ...(values.data ? { dataDir: values.data } : {}),
    ...(values['db-url'] ? { dbUrl: values['db-url'] } : {}),
    ...(values['retry-delay-ms'] ? { retryDelayMs: Number(values['retry-delay-ms']) } : {}),
  });
} catch (error) {
  console.error(`the local pipeline could not start: ${(error as Error).message}`);
  process.exit(1);
}

const { names, endpoint, bus, stateMachine, database } = runtime;
const mapping = DEFAULT_STREAM_MAPPING;
console.log(
  [
    'Order pipeline running locally',
    `  endpoint          ${endpoint}`,
    `  event bus         ${bus.name}`,
    `  event bus ARN     ${bus.arn}`,
    `  state machine     ${stateMachine.arn}`,
    `  orders table      ${names.ordersTable} (stream → ${names.function('projectOrders')}, batch ${mapping.batchSize}, window ${mapping.maximumBatchingWindowInSeconds} s)`,
    `  idempotency table ${names.idempotencyTable}`,
    `  read model        ${database.displayUrl} (${database.version})`,
    `  events            ${endpoint}/_local/events`,
    `  status            ${endpoint}/_local/status`,
    'Press Ctrl-C to stop.',
  ].join('\n'),
);

let stopping = false;
const shutdown = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: stopping`);
  runtime
    .stop()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      console.error(`stopping failed: ${(error as Error).message}`);
      process.exit(1);
    });
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
