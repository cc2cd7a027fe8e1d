/**
 * `npm start`: runs the whole pipeline locally in the foreground until
 * Ctrl-C. Its options and how it treats the read model's database are in
 * {@link USAGE}, which `npm start -- --help` prints.
 */
import { constants } from 'node:os';
import path from 'node:path';
import { parseCommandLine } from '../config/command-line';
import { claimEndpointFile, endpointFilePath, removeEndpointFile } from '../config/local-endpoint';
import { redactCredentials } from './redact';
import { LocalRuntime } from './runtime';

/** What `npm start -- --help` prints. */
const USAGE = `Usage: npm start -- [options]

Runs the whole pipeline locally in the foreground until Ctrl-C (a second
Ctrl-C while it stops exits at once): the local environment's synthesized
stacks (local/runtime.ts), behind an AWS-compatible endpoint.

  --port <n>         endpoint port (default 4566; 0 picks a free one). The runtime writes its endpoint to
                     .local/endpoint.json (ORDER_PIPELINE_ENDPOINT_FILE) while it runs: npm run send, query,
                     rebuild-read-model and redrive find it there, so they need no --endpoint
  --data <dir>       keep DynamoDB tables in <dir> between runs (default: in memory)
  --db-url <url>     read-model server (default DB_URL, else mysql://root@127.0.0.1:3306/orders)
  --take-over        own a database this runtime did not make (see "The read model's database" below)
  --iam <mode>       enforce (default): calls the synthesized IAM does not allow fail; warn: only logged;
                     off: not evaluated (the benchmark's baseline)
  --function-logs    print what the functions log (otherwise kept in their log groups: /_local/logs)
  --log-level <l>    the functions' log level, as Lambda's logging controls set it (AWS_LAMBDA_LOG_LEVEL); prints their logs
  --retry-delay-ms   fixed retry delay for the bus, workflow and stream (tests)
  --stop-drain-ms    how long a stop waits for work under way before abandoning it (default 10000; tests)
  -h, --help         this text

The read model's database: the runtime uses only a database it made. It
records that in the database (the marker table local_runtime_owner,
naming the pipeline table the read model is derived from and the state:
the --data folder, or in memory), and holds a lock on it while it runs, so
a second runtime on the same database is refused. A database holding other
tables, or another state's read model, is refused with nothing touched;
--take-over lets the runtime own it (it drops and makes again the read
model's tables there, and leaves the others alone). The lock is the
server's (a named lock on the runtime's connection): it is released when
the runtime ends, however it ends (Ctrl-C, a crash, kill -9).`;

const { values } = parseCommandLine('npm start', {
  options: {
    port: { type: 'string', default: process.env.LOCAL_PORT ?? '4566' },
    data: { type: 'string' },
    'db-url': { type: 'string', default: process.env.DB_URL },
    'take-over': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
    iam: { type: 'string', default: 'enforce' },
    'function-logs': { type: 'boolean', default: false },
    'log-level': { type: 'string' },
    'retry-delay-ms': { type: 'string' },
    'stop-drain-ms': { type: 'string' },
  },
  strict: true,
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

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
    takeOver: values['take-over'],
    ...(values['log-level'] ? { functionLogLevel: values['log-level'] } : {}),
    ...(values.data ? { dataDir: values.data } : {}),
    ...(values['db-url'] ? { dbUrl: values['db-url'] } : {}),
    ...(values['retry-delay-ms'] ? { retryDelayMs: Number(values['retry-delay-ms']) } : {}),
    ...(values['stop-drain-ms'] ? { stopDrainMs: Number(values['stop-drain-ms']) } : {}),
  });
} catch (error) {
  console.error(`the local pipeline could not start: ${redactCredentials((error as Error).message)}`);
  process.exit(1);
}

// No request and no event may take the process down: anything that escapes a
// handler is logged, and the runtime keeps serving.
process.on('uncaughtException', (error) => report(`unexpected error (the runtime keeps running): ${redactCredentials(error.stack ?? error.message)}`));
process.on('unhandledRejection', (reason) =>
  report(`unexpected rejection (the runtime keeps running): ${redactCredentials(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason))}`),
);

// Output that goes away (the reader of a pipe exits, as in `npm start | head`, or
// the terminal closes) ends the run: the runtime stops cleanly, as on Ctrl-C.
// Left unhandled, each failed write raised an error whose report was one more
// failed write: a loop that held a core and never saw Ctrl-C. What is still
// said goes to the stream that still works (stdout to a full disk: stderr says why).
const closedStreams = new Set<NodeJS.WriteStream>();
function report(message: string): void {
  if (!closedStreams.has(process.stderr)) console.error(message);
  else if (!closedStreams.has(process.stdout)) console.log(message);
}
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (closedStreams.has(stream)) return;
    closedStreams.add(stream);
    shutdown(`output closed (${stream === process.stdout ? 'stdout' : 'stderr'}: ${error.code ?? error.message})`);
  });
}

let stopping = false;
const shutdown = (reason: string) => {
  if (stopping) return;
  stopping = true;
  report(`${reason}: stopping`);
  runtime
    .stop()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      report(`stopping failed: ${(error as Error).message}`);
      process.exit(1);
    });
};
// SIGHUP is the terminal closing: the same clean stop (left to its default, the process died
// at once, with no stop and its endpoint file left behind). A second signal while stopping ends
// the process at once: a stop that cannot finish (a read-model server that stopped answering)
// must not leave kill -9 as the only way out. The server releases the lock when the connection ends.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (!stopping) return shutdown(signal);
    report(`${signal} again: exiting without waiting for the stop to finish`);
    process.exit(128 + constants.signals[signal]);
  });
}

// Ready is said last (the endpoint file, then the summary), once every handler above is in place:
// a caller that acts on it (a CLI, a test, a script sending Ctrl-C) must never meet a signal's
// default action, which kills at once. The CLIs (send, query, rebuild-read-model, redrive) find
// this runtime through the file, whatever its port.
const endpointFile = endpointFilePath();
let found = 'the CLIs find it with --endpoint or AWS_ENDPOINT_URL';
const shownFile = path.relative(process.cwd(), endpointFile) || endpointFile;
try {
  const holder = claimEndpointFile(
    { endpoint: runtime.endpoint, pid: process.pid, bus: runtime.use('bus').arn, startedAt: new Date().toISOString() },
    endpointFile,
  );
  if (holder) {
    found = `${shownFile} names the runtime at ${holder.endpoint} (pid ${holder.pid}), which keeps it; the CLIs find this one with --endpoint ${runtime.endpoint}`;
  } else {
    process.once('exit', () => removeEndpointFile(process.pid, endpointFile));
    found = `${shownFile} (the CLIs find this runtime there)`;
  }
} catch (error) {
  console.error(`the endpoint file ${endpointFile} could not be written (${(error as Error).message}); ${found}`);
}

const summary: [string, string][] = [...runtime.summary, ['endpoint file', found]];
const width = Math.max(...summary.map(([label]) => label.length));
console.log(['Order pipeline running locally', ...summary.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`), 'Press Ctrl-C to stop.'].join('\n'));
