/**
 * `npm run demo`: starts the local pipeline, sends the original sample
 * (`createOrder` 6102, then both queries), then cancels the order and asks
 * again (the report is empty, `orderDetails` says `cancelled`), waits for
 * each response, prints them, and exits 0 only if every answer is the one the
 * contract promises.
 *
 * The demo's read model is a database of its own on the server of `DB_URL`
 * (or `--db-url`; the database named there is never touched), made for the
 * run and dropped with its role users at the end, so it can run beside a
 * runtime of yours, or against a server with data on it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { parseCommandLine } from '../config/command-line';
import { createConnection } from 'mysql2/promise';
import { allRoleUserNames } from '../handlers/read-model/users';
import { redactCredentials } from '../local/redact';
import { LocalRuntime } from '../local/runtime';
import { localIdle, putEntries, waitForResponse, type EntryInput, type Target } from '../clients/pipeline-client';
import { formatTable } from '../clients/table';

const { values } = parseCommandLine('npm run demo', {
  options: { port: { type: 'string', default: '0' }, 'db-url': { type: 'string', default: process.env.DB_URL } },
});

const sample = (name: string) => JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8')) as EntryInput;

/** The server of DB_URL with a database made for this run (`demo_<random>`). */
const server = new URL(values['db-url'] || 'mysql://root@127.0.0.1:3306');
const database = `demo_${randomBytes(6).toString('hex')}`;
server.pathname = `/${database}`;

/** Drops the demo's database and its role users (best effort: the demo's answer is what matters). */
async function dropDemoDatabase(): Promise<void> {
  const connection = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password),
  }).catch(() => undefined);
  if (!connection) return;
  await connection.query('DROP DATABASE IF EXISTS ??', [database]).catch(() => undefined);
  for (const user of allRoleUserNames(database)) await connection.query('DROP USER IF EXISTS ?@?', [user, '%']).catch(() => undefined);
  await connection.end().catch(() => undefined);
}

// Without DB_URL, the default server's address: a private instance is started if nothing answers there.
const starting = LocalRuntime.start({
  port: Number(values.port),
  ...(values['db-url'] ? { dbUrl: server.toString() } : { defaultDbUrl: server.toString() }),
  log: () => undefined,
});
let ending = false;
/** Ends the demo before its end: the runtime stops and the demo's database goes, whatever ended it (a start under way is finished first). */
const endEarly = (code: number) => {
  if (ending) return;
  ending = true;
  void starting
    .then(
      (started) => started.stop(),
      () => undefined,
    )
    .then(dropDemoDatabase)
    .finally(() => process.exit(code));
};
// Ctrl-C, SIGTERM, the terminal closing, or the reader of its output going (`npm run demo | head`):
// left to their defaults, the last two killed the demo with its database still on the server.
// Installed before the runtime starts: a Ctrl-C while it starts also drops what the start created.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => endEarly(128 + constants.signals[signal]));
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => endEarly(1));

let runtime: LocalRuntime;
try {
  runtime = await starting;
} catch (error) {
  console.error(`the demo could not start the local pipeline: ${redactCredentials((error as Error).message)}`);
  await dropDemoDatabase();
  process.exit(1);
}
const target: Target = { kind: 'local', bus: runtime.use('bus').arn, endpoint: runtime.endpoint };
const problems: string[] = [];
const expect = (what: string, actual: unknown, expected: unknown) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) problems.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
};

try {
  console.log(`local pipeline at ${runtime.endpoint}, bus ${runtime.use('bus').arn}`);
  console.log(`read model ${runtime.database.displayUrl}: the demo's own database, dropped at the end\n`);

  const command = sample('create-order-6102');
  const [commandId] = await putEntries(target, [command]);
  const created = await waitForResponse(target, commandId as string);
  console.log(`orderCommand createOrder 6102 → ${created['detail-type']}`);
  console.log(formatTable([created.detail]));
  expect(
    'command response',
    { orderid: created.detail.orderid, commandStatus: created.detail.commandStatus },
    { orderid: '6102', commandStatus: 'orderCreated' },
  );

  // The read model is eventually consistent: wait for the stream to be projected.
  const started = performance.now();
  await localIdle(runtime.endpoint);
  console.log(`\nprojected into the read model in ${Math.round(performance.now() - started)} ms\n`);

  const ask = async (name: string, expected: readonly Record<string, unknown>[], status?: string) => {
    const [queryId] = await putEntries(target, [sample(name)]);
    const response = await waitForResponse(target, queryId as string);
    const detail = response.detail as {
      query: string;
      queryItemId?: string;
      queryOrderId?: string;
      queryOrderStatus?: string;
      queryStatus: number;
      queryResult?: Record<string, unknown>[];
    };
    const about = detail.queryItemId ?? detail.queryOrderId;
    console.log(
      `orderQuery ${detail.query}${about ? ` ${about}` : ''} → queryStatus ${detail.queryStatus}${detail.queryOrderStatus ? `, order ${detail.queryOrderStatus}` : ''}`,
    );
    console.log(`${detail.queryResult?.length ? formatTable(detail.queryResult) : '(no rows)'}\n`);
    expect(`${detail.query} status`, detail.queryStatus, 200);
    expect(`${detail.query} rows`, detail.queryResult, expected);
    if (status) expect(`${detail.query} order status`, detail.queryOrderStatus, status);
  };
  const lines = [
    { itemid: 'z3333', quantity: 6, orderdate: '2022-10-13' },
    { itemid: 'z4444', quantity: 3, orderdate: '2022-10-13' },
  ];
  await ask('query-items-sales-report', [
    { itemid: 'z3333', totalordered: 6, lastorderdate: '2022-10-13' },
    { itemid: 'z4444', totalordered: 3, lastorderdate: '2022-10-13' },
  ]);
  await ask('query-monthly-sales-z3333', [{ monthyear: 'October 2022', monthlyordered: 6 }]);
  await ask('query-order-details-6102', lines, 'created');

  // A change: the cancel is one conditional update; its stream record takes the lines away from every total.
  const [cancelId] = await putEntries(target, [sample('cancel-order-6102')]);
  const cancelledAnswer = await waitForResponse(target, cancelId as string);
  console.log(`orderCommand cancelOrder 6102 → ${cancelledAnswer['detail-type']}`);
  console.log(formatTable([cancelledAnswer.detail]));
  expect(
    'cancel response',
    { orderid: cancelledAnswer.detail.orderid, commandStatus: cancelledAnswer.detail.commandStatus },
    { orderid: '6102', commandStatus: 'orderCancelled' },
  );
  await localIdle(runtime.endpoint);
  console.log('');
  await ask('query-items-sales-report', []);
  await ask('query-order-details-6102', lines, 'cancelled');
} catch (error) {
  problems.push((error as Error).message);
} finally {
  await runtime.stop();
  await dropDemoDatabase();
}

// Ended early (a signal, or its output gone): endEarly exits once the database is dropped.
if (!ending) {
  if (problems.length > 0) {
    console.error(`demo FAILED:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('demo OK: every response matches the contract');
  process.exit(0);
}
