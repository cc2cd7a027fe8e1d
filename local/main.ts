/**
 * `npm start`: runs the whole pipeline locally in the foreground until Ctrl-C.
 *
 *   --port <n>         endpoint port (default 4566; 0 picks a free one)
 *   --data <dir>       keep DynamoDB tables in <dir> between runs (default: in memory)
 *   --db-url <url>     read-model server (default DB_URL, else mysql://root@127.0.0.1:3306/orders)
 *   --iam <mode>       enforce (default): calls the synthesized IAM does not allow fail; warn: only logged;
 *                      off: not evaluated (the benchmark's baseline)
 *   --function-logs    print what the functions log (otherwise kept in their log groups: /_local/logs)
 *   --log-level <l>    the functions' log level, as Lambda's logging controls set it (AWS_LAMBDA_LOG_LEVEL); prints their logs
 *   --retry-delay-ms   fixed retry delay for the bus, workflow and stream (tests)
 *
 * The pipeline is the `local` environment's synthesized stacks (see local/runtime.ts).
 */
import { parseArgs } from 'node:util';
import { redactCredentials } from './redact';
import { LocalRuntime } from './runtime';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.LOCAL_PORT ?? '4566' },
    data: { type: 'string' },
    'db-url': { type: 'string', default: process.env.DB_URL },
    iam: { type: 'string', default: 'enforce' },
    'function-logs': { type: 'boolean', default: false },
    'log-level': { type: 'string' },
    'retry-delay-ms': { type: 'string' },
  },
  strict: true,
});

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`--port must be a TCP port, got ${values.port}`);
  process.exit(2);
}

if (values.iam !== 'enforce' && values.iam !== 'warn' && values.iam !== 'off') {
  console.error(`--iam must be enforce, warn or off, got ${values.iam}`);
  process.exit(2);
}

let runtime: LocalRuntime;
try {
  runtime = await LocalRuntime.start({
    port,
    iam: values.iam,
    functionLogs: values['function-logs'],
    ...(values['log-level'] ? { functionLogLevel: values['log-level'] } : {}),
    ...(values.data ? { dataDir: values.data } : {}),
    ...(values['db-url'] ? { dbUrl: values['db-url'] } : {}),
    ...(values['retry-delay-ms'] ? { retryDelayMs: Number(values['retry-delay-ms']) } : {}),
  });
} catch (error) {
  console.error(`the local pipeline could not start: ${redactCredentials((error as Error).message)}`);
  process.exit(1);
}

const width = Math.max(...runtime.summary.map(([label]) => label.length));
console.log(['Order pipeline running locally', ...runtime.summary.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), 'Press Ctrl-C to stop.'].join('\n'));

// No request and no event may take the process down: anything that escapes a
// handler is logged, and the runtime keeps serving.
process.on('uncaughtException', (error) => console.error(`unexpected error (the runtime keeps running): ${redactCredentials(error.stack ?? error.message)}`));
process.on('unhandledRejection', (reason) => console.error(`unexpected rejection (the runtime keeps running): ${redactCredentials(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))}`));

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
