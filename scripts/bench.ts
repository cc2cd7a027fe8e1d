/**
 * `npm run bench` — measures the pipeline against the original approach and
 * the raw limit, in the same run, prints a table, and writes
 * bench/results/latest.json and bench/results/query-latency.svg.
 *
 *   --sections projection,changes,queries,tls,coldstart,local,synth   (default: all)
 *   --query-sizes 10000,100000,1000000                     order lines per step
 *   --projection-batches 20                                 measured batches of the configured size
 *   --original-orders 2000                                  orders through the original projection
 *   --local-commands 1000                                   commands for the throughput run
 *   --import-runs 25                                        fresh-process imports of each bundle (cold start)
 *   --synth-runs 5                                          rounds of npm run synth, from clean and up to date
 *   --quick                                                 small sizes (smoke run)
 */
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseCommandLine } from '../config/command-line';
import { createPool } from 'mysql2/promise';
import { connectionOptions, useReadCommitted } from '../handlers/shared/db';
import { QUERIES } from '../handlers/queries/registry';
import { ORIGINAL_SAMPLE_QUERIES } from '../analysis/capacity';
import { DEFAULT_STREAM_MAPPING, DetailType } from '../config/pipeline';
import { localEvents } from '../clients/pipeline-client';
import { FUNCTION_ENVIRONMENT, FUNCTION_SETTINGS, FunctionName, type FunctionKey } from '../stacks/catalogue';
import { INITIAL_STATE, orderContentHash, type Order } from '../handlers/domain/order';
import { aggregate, projectOrders } from '../handlers/read-model/read-model-writer';
import { READ_MODEL_TABLES } from '../config/read-model-tables';
import { buildHandlers, DIST, ROOT } from '../stacks/bundling/build';
import { startDynalite } from '../local/dynalite';
import { localClientOptions } from '../clients/local-client';
import { createOriginalSchema, loadOriginal, originalItemsReport, originalMonthly, projectOriginal } from '../bench/original';
import {
  benchServer,
  createBenchDatabase,
  startTlsServer,
  median,
  percentile,
  random,
  round,
  startSecretsEndpoint,
  statementCounter,
  timed,
} from '../bench/support';
import { queryChart } from '../bench/svg';
import { load, profileImport, timeImports, type ImportCase, type ProfileEntry } from '../bench/cold-start';
import { timeSynth, type SynthTiming } from '../bench/synth';
import { argumentSamples, benchItemId, queryBenchPlan } from '../bench/query-plan';

const run = promisify(execFile);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const { values } = parseCommandLine('npm run bench', {
  options: {
    sections: { type: 'string', default: 'projection,changes,queries,tls,coldstart,local,synth' },
    'query-sizes': { type: 'string', default: '10000,100000,1000000' },
    'projection-batches': { type: 'string', default: '20' },
    'original-orders': { type: 'string', default: '2000' },
    'local-commands': { type: 'string', default: '1000' },
    'import-runs': { type: 'string', default: '25' },
    'synth-runs': { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const sections = new Set(values.sections.split(','));
const querySizes = (quick ? '2000,10000' : values['query-sizes']).split(',').map(Number);
const projectionBatches = quick ? 3 : Number(values['projection-batches']);
const originalOrders = quick ? 300 : Number(values['original-orders']);
const localCommands = quick ? 200 : Number(values['local-commands']);
const importRuns = quick ? 5 : Number(values['import-runs']);
const synthRuns = quick ? 1 : Number(values['synth-runs']);
const batchSize = DEFAULT_STREAM_MAPPING.batchSize;

const results: Record<string, unknown> = {
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, mysql: '' },
  date: new Date().toISOString(),
  settings: { querySizes, projectionBatches, batchSize, originalOrders, localCommands, importRuns, synthRuns, quick },
};
const log = (message: string) => process.stderr.write(`${message}\n`);

async function serverVersion(): Promise<string> {
  const database = await createBenchDatabase('version', false);
  const [rows] = await database.pool.query('SELECT VERSION() AS version');
  await database.drop();
  return (rows as { version: string }[])[0]?.version ?? '';
}

/** The bundled functions' environment, pointing at bench services. */
async function functionEnvironment(databaseName: string, dynamoEndpoint: string | undefined) {
  const server = benchServer();
  const secrets = await startSecretsEndpoint('bench-read-model', { username: server.user, password: server.password });
  return {
    secrets,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      ...(dynamoEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint } : {}),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      DB_SECRET_ID: secrets.secretArn,
      DB_HOST: server.host,
      DB_PORT: String(server.port),
      DB_NAME: databaseName,
      DB_TLS: 'off',
      DB_CONNECTION_LIMIT: '4',
      IDEMPOTENCY_TABLE: 'bench-idempotency',
      AWS_LAMBDA_FUNCTION_NAME: 'order-pipeline-bench-project-orders',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      // In-process handlers would print one embedded-format metric line per call into the bench's output.
      POWERTOOLS_METRICS_NAMESPACE: 'OrderPipeline/bench',
      POWERTOOLS_METRICS_DISABLED: 'true',
      BENCH_DB_USER: server.user,
      BENCH_DB_PASSWORD: server.password,
    } as NodeJS.ProcessEnv,
  };
}

// ---------------------------------------------------------------- projection
async function benchProjection(): Promise<void> {
  log('projection: bundled handler, idempotency on and off; original approach; raw limit');
  const section: Record<string, unknown> = {};
  for (const idempotency of [true, false]) {
    const database = await createBenchDatabase(idempotency ? 'proj_on' : 'proj_off');
    const dynamo = await startDynalite('bench-idempotency');
    const { env, secrets } = await functionEnvironment(database.name, dynamo.endpoint);
    try {
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          'bench/projection-worker.ts',
          path.join(DIST, 'project-orders', 'index.mjs'),
          String(projectionBatches),
          String(batchSize),
          `p${idempotency ? 1 : 0}`,
        ],
        { cwd: ROOT, env: { ...env, ...(idempotency ? {} : { POWERTOOLS_IDEMPOTENCY_DISABLED: 'true' }) }, maxBuffer: 16 * 1024 * 1024 },
      );
      const measured = JSON.parse(stdout.trim().split('\n').pop() as string) as { orders: number; lines: number; seconds: number; statements: number };
      section[idempotency ? 'idempotencyOn' : 'idempotencyOff'] = {
        orders: measured.orders,
        ordersPerSecond: round(measured.orders / measured.seconds, 0),
        linesPerSecond: round(measured.lines / measured.seconds, 0),
        statementsPer1000Orders: round((measured.statements / measured.orders) * 1000, 1),
      };
    } finally {
      await secrets.close();
      await dynamo.close();
      await database.drop();
    }
  }

  // What bounds the idempotent run here: dynalite's write rate, measured with the
  // same SDK and concurrency (one PutItem and one UpdateItem per record).
  const dynamo = await startDynalite('bench-writes');
  try {
    const { DynamoDBClient, PutItemCommand, UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
    const writes = quick ? 500 : 2000;
    const { ms } = await timed(() =>
      Promise.all(
        Array.from({ length: writes / 2 }, async (_, index) => {
          const key = { id: { S: `w-${index}` } };
          await client.send(
            new PutItemCommand({ TableName: 'bench-writes', Item: { ...key, status: { S: 'INPROGRESS' } }, ConditionExpression: 'attribute_not_exists(id)' }),
          );
          await client.send(
            new UpdateItemCommand({
              TableName: 'bench-writes',
              Key: key,
              UpdateExpression: 'SET #s = :s',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':s': { S: 'COMPLETED' } },
            }),
          );
        }),
      ),
    );
    client.destroy();
    section.idempotencyStoreWritesPerSecond = round(writes / (ms / 1000), 0);
  } finally {
    await dynamo.close();
  }

  // The original: one record per invocation, a CALL per order and per line, autocommit, no idempotency.
  const original = await createBenchDatabase('proj_orig', false);
  try {
    const connection = await original.connect();
    await createOriginalSchema(connection);
    const orders = generateOrders(originalOrders, 'o', 11);
    await connection.end();
    // Its statements counted through a proxy: its own only, whatever else uses the server.
    const server = benchServer();
    const counter = await statementCounter(server.host, server.port);
    const counted = createPool({
      host: '127.0.0.1',
      port: counter.port,
      user: server.user,
      password: server.password,
      database: original.name,
      connectionLimit: 10,
      dateStrings: true,
      timezone: 'Z',
    });
    const { ms } = await timed(async () => {
      for (const order of orders) await projectOriginal(counted, order);
    });
    const statements = counter.statements();
    await counted.end();
    await counter.close();
    section.original = {
      orders: orders.length,
      ordersPerSecond: round(orders.length / (ms / 1000), 0),
      linesPerSecond: round((orders.length * 2) / (ms / 1000), 0),
      statementsPer1000Orders: round((statements / orders.length) * 1000, 1),
    };
  } finally {
    await original.drop();
  }

  // The raw limit: the same rows the projection writes (orders, lines, and the
  // batch's per-item and per-item-month rows), as plain multi-row INSERTs in one
  // transaction per batch: no duplicate checks, no upserts, no read-back, no
  // record parsing. Aggregate rows go to key-less tables so plain INSERTs never collide.
  const raw = await createBenchDatabase('proj_raw');
  try {
    const batches = Array.from({ length: projectionBatches }, (_, index) => generateOrders(batchSize, `r${index}`, 100 + index));
    const aggregates = batches.map((orders) => aggregate(orders));
    const connection = await raw.connect();
    await connection.query(`
      CREATE TABLE raw_item_totals (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, total_ordered BIGINT UNSIGNED NOT NULL, last_order_date DATE NOT NULL);
      CREATE TABLE raw_item_monthly_totals (id BIGINT AUTO_INCREMENT PRIMARY KEY, item_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, month_start DATE NOT NULL, monthly_ordered BIGINT UNSIGNED NOT NULL);`);
    const { ms } = await timed(async () => {
      for (const [index, orders] of batches.entries()) {
        const totals = aggregates[index]!;
        await connection.query('START TRANSACTION');
        await connection.query('INSERT INTO ?? (order_id, ordered_at, content_hash, line_count, projection_id) VALUES ?', [
          READ_MODEL_TABLES.orders,
          orders.map((order) => [order.orderId, order.orderedAt.slice(0, 23).replace('T', ' '), order.contentHash, order.items.length, 'raw']),
        ]);
        await connection.query('INSERT INTO ?? (order_id, line_no, item_id, quantity) VALUES ?', [
          READ_MODEL_TABLES.orderLines,
          orders.flatMap((order) => order.items.map((line, position) => [order.orderId, position + 1, line.itemid, line.quantity])),
        ]);
        await connection.query('INSERT INTO raw_item_totals (item_id, total_ordered, last_order_date) VALUES ?', [totals.items]);
        await connection.query('INSERT INTO raw_item_monthly_totals (item_id, month_start, monthly_ordered) VALUES ?', [totals.months]);
        await connection.query('COMMIT');
      }
    });
    await connection.end();
    const lines = projectionBatches * batchSize * 2;
    section.rawLimit = {
      orders: projectionBatches * batchSize,
      ordersPerSecond: round((projectionBatches * batchSize) / (ms / 1000), 0),
      linesPerSecond: round(lines / (ms / 1000), 0),
    };
  } finally {
    await raw.drop();
  }
  results.projection = section;
}

/**
 * Orders that change: the same writer over the same batches, first as
 * creates, then as cancels of those orders (every batch takes totals away,
 * deletes the ones reaching zero and looks up last order dates). Statements
 * counted through a proxy: the writer's own only.
 */
async function benchChanges(): Promise<void> {
  const database = await createBenchDatabase('proj_changes');
  const server = benchServer();
  const counter = await statementCounter(server.host, server.port);
  const counted = createPool({
    host: '127.0.0.1',
    port: counter.port,
    user: server.user,
    password: server.password,
    database: database.name,
    connectionLimit: 2,
    dateStrings: true,
    timezone: 'Z',
  });
  try {
    const batches = Array.from({ length: projectionBatches }, (_, index) => generateOrders(batchSize, `c${index}`, 300 + index));
    const run = async (kind: 'creates' | 'cancels') => {
      const before = counter.statements();
      const { ms } = await timed(async () => {
        for (const orders of batches)
          await projectOrders(counted, kind === 'creates' ? orders : orders.map((order) => ({ ...order, status: 'cancelled', revision: 2 })));
      });
      const changes = batches.length * batchSize;
      return {
        changes,
        changesPerSecond: round(changes / (ms / 1000), 0),
        statementsPer1000Changes: round(((counter.statements() - before) / changes) * 1000, 1),
        statementsPerBatch: round((counter.statements() - before) / batches.length, 1),
      };
    };
    const creates = await run('creates');
    const cancels = await run('cancels');
    const [left] = await database.pool.query('SELECT COUNT(*) AS n FROM item_totals');
    if (Number((left as { n: number }[])[0]?.n) !== 0) throw new Error('the cancels left totals behind');
    results.changes = { batchSize, creates, cancels };
  } finally {
    await counted.end();
    await counter.close();
    await database.drop();
  }
}

/** The items the generated orders use. */
const BENCH_ITEMS = 500;

/** Orders of two lines over {@link BENCH_ITEMS} items and four years of dates. */
function generateOrders(count: number, prefix: string, seed: number): Order[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, index) => {
    const orderId = `${prefix}-${index}`;
    const first = Math.floor(next() * BENCH_ITEMS);
    const second = (first + 1 + Math.floor(next() * (BENCH_ITEMS - 1))) % BENCH_ITEMS;
    const items = [
      { itemid: benchItemId(first), quantity: 1 + Math.floor(next() * 5) },
      { itemid: benchItemId(second), quantity: 1 + Math.floor(next() * 5) },
    ];
    const orderedAt = new Date(Date.UTC(2021, 0, 1) + Math.floor(next() * 4 * 365 * 86_400_000)).toISOString();
    return { orderId, orderedAt, items, contentHash: orderContentHash(orderId, items), commandMessageId: randomUUID(), ...INITIAL_STATE };
  });
}

// ---------------------------------------------------------------- queries
/**
 * Every registered query's bundled handler, timed in-process at each history
 * size, beside the original's GROUP BY queries. The queries and their
 * arguments come from the registry (bench/query-plan.ts).
 */
async function benchQueries(): Promise<void> {
  log(`queries: ${querySizes.join(', ')} order lines, ${BENCH_ITEMS} items, 4 years`);
  const ours = await createBenchDatabase('query_new');
  const theirs = await createBenchDatabase('query_orig', false);
  const { env, secrets } = await functionEnvironment(ours.name, undefined);
  const savedEnv = { ...process.env };
  Object.assign(process.env, env);
  const steps: Record<string, unknown>[] = [];
  try {
    const connection = await theirs.connect();
    await createOriginalSchema(connection);
    await connection.end();
    const orderIds: string[] = [];
    const plan = queryBenchPlan(QUERIES, argumentSamples({ itemCount: BENCH_ITEMS, orderIds }));
    const handlers = new Map<string, Handler>();
    for (const { query } of plan) handlers.set(query.name, ((await import(path.join(DIST, query.functionName, 'index.mjs'))) as { handler: Handler }).handler);
    let loaded = 0;
    for (const size of querySizes) {
      const orders = generateOrders((size - loaded) / 2, `q${size}`, size);
      for (const order of orders) if (orderIds.length < 100_000 || Math.random() < 0.01) orderIds.push(order.orderId);
      for (let start = 0; start < orders.length; start += 5_000) {
        const chunk = orders.slice(start, start + 5_000);
        await projectOrders(ours.pool, chunk);
        await loadOriginal(theirs.pool, chunk);
      }
      loaded = size;
      await theirs.pool.query('ANALYZE TABLE orders, orderitems');
      const iterations = size >= 1_000_000 ? 15 : size >= 100_000 ? 40 : 100;
      // Both approaches must give the same number of item rows; two lines per generated order:
      // an answer with fewer means the read found the wrong order or none.
      const distinctItems = (await originalItemsReport(theirs.pool)).length;
      const expectedRows: Readonly<Record<string, number>> = { itemsSalesReport: distinctItems, orderDetails: 2 };
      const item = () => benchItemId(Math.floor(Math.random() * BENCH_ITEMS));
      const context = { functionName: 'bench', awsRequestId: 'bench', getRemainingTimeInMillis: () => 10_000 };
      const step: Record<string, unknown> = { orderLines: size };
      for (const { query, detail } of plan) {
        const handler = handlers.get(query.name) as Handler;
        step[query.name] = await latency(200, async () => check(await handler({ id: 'q', detail: detail() }, context), expectedRows[query.name]));
      }
      step.originalItemsReport = await latency(iterations, async () => expectRows(await originalItemsReport(theirs.pool), distinctItems));
      step.originalMonthly = await latency(iterations, async () => expectRows(await originalMonthly(theirs.pool, item())));
      const p50 = (key: string) => (step[key] as { p50: number }).p50;
      log(
        `  ${size} lines: ${plan.map(({ query }) => `${query.name} ${p50(query.name)} ms${ORIGINAL_SAMPLE_QUERIES[query.name] ? ` vs ${p50(ORIGINAL_SAMPLE_QUERIES[query.name] as string)} ms` : ''}`).join('; ')}`,
      );
      steps.push(step);
    }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
    await secrets.close();
    await ours.drop();
    await theirs.drop();
  }
  results.queries = steps;
}

/**
 * What TLS adds to each query: the same query definitions (from the registry)
 * over a plain and a TLS pool, with the handlers' connection options, on a
 * private server with TLS on. The handlers trust only the RDS certificate
 * authorities, so this runs the queries' own `run` rather than the bundles.
 * The answers do not grow with the history (a page of at most 1,000 rows),
 * so 10,000 lines suffice.
 */
async function benchQueryTls(): Promise<void> {
  log('queries over TLS: a private server with TLS on, plain and TLS pools');
  const server = await startTlsServer();
  try {
    const database = await createBenchDatabase('query_tls', true, { host: server.host, port: server.port, user: server.user, password: server.password });
    try {
      const orders = generateOrders(5_000, 'tls', 7);
      await projectOrders(database.pool, orders);
      const settings = { host: server.host, port: server.port, database: database.name, tls: false, connectionLimit: 1 };
      const credentials = { username: server.user, password: server.password };
      const plain = useReadCommitted(createPool({ ...(await connectionOptions(settings, credentials)), connectionLimit: 1 }));
      const secure = useReadCommitted(
        createPool({
          ...(await connectionOptions(settings, credentials)),
          ssl: { ca: server.ca, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
          connectionLimit: 1,
        }),
      );
      const [[cipher]] = (await secure.query("SHOW SESSION STATUS LIKE 'Ssl_version'")) as unknown as [[{ Value: string }]];
      if (!cipher.Value) throw new Error('the TLS pool is not encrypted');
      // Each argument a registered query takes, with a value the data holds.
      const plan = queryBenchPlan(QUERIES, argumentSamples({ itemCount: BENCH_ITEMS, orderIds: orders.map((order) => order.orderId) }));
      const perQuery: Record<string, { plainP50: number; tlsP50: number; overheadMs: number }> = {};
      try {
        for (const { query, detail } of plan) {
          const run = (pool: typeof plain) => async () => {
            const outcome = await query.run(pool, query.parse(detail()), { limit: 1_001 });
            if (!('rows' in outcome) || outcome.rows.length === 0) throw new Error(`${query.name} answered no rows`);
          };
          // Alternated, sample by sample, so neither pool gains from running second (warm caches, a quieter moment).
          const plainRun = { samples: [] as number[], work: run(plain) };
          const tlsRun = { samples: [] as number[], work: run(secure) };
          for (let index = 0; index < 310; index++) {
            for (const side of index % 2 === 0 ? [plainRun, tlsRun] : [tlsRun, plainRun]) {
              const { ms } = await timed(side.work);
              if (index >= 10) side.samples.push(ms);
            }
          }
          const plainP50 = round(median(plainRun.samples), 3);
          const tlsP50 = round(median(tlsRun.samples), 3);
          perQuery[query.name] = { plainP50, tlsP50, overheadMs: round(Math.max(0, tlsP50 - plainP50), 3) };
          log(`  ${query.name}: ${plainP50} ms plain, ${tlsP50} ms over ${cipher.Value}`);
        }
      } finally {
        await plain.end();
        await secure.end();
      }
      results.queryTls = { server: `${server.version}, ${cipher.Value}`, orderLines: orders.length * 2, perQuery };
    } finally {
      await database.drop();
    }
  } finally {
    await server.stop();
  }
}

type Handler = (event: unknown, context: unknown) => Promise<{ statusCode: number; body: { queryResult?: unknown[] } }>;

function check(result: Awaited<ReturnType<Handler>>, rows?: number): void {
  if (result.statusCode !== 200) throw new Error(`query answered ${result.statusCode}`);
  if (rows !== undefined && result.body.queryResult?.length !== rows) throw new Error(`expected ${rows} rows, got ${result.body.queryResult?.length}`);
}

function expectRows(rows: unknown[], count?: number): void {
  if (count !== undefined && rows.length !== count) throw new Error(`expected ${count} rows, got ${rows.length}`);
}

async function latency(iterations: number, work: () => Promise<void>): Promise<{ p50: number; p99: number; iterations: number }> {
  for (let warm = 0; warm < Math.min(5, iterations); warm++) await work();
  const samples: number[] = [];
  for (let index = 0; index < iterations; index++) samples.push((await timed(work)).ms);
  return { p50: round(median(samples), 3), p99: round(percentile(samples, 99), 3), iterations };
}

// ---------------------------------------------------------------- cold start
/** One row of the cold-start section. */
interface ColdStartRow {
  function: string;
  bytes: number;
  entryBytes: number;
  zipBytes: number;
  importMs: number;
  readyMs: number;
  importCpuMs: number;
  readyCpuMs: number;
  /** Chunks loaded after the import (the SDK clients, mysql2). */
  background: readonly string[];
  naiveBytes: number;
  naiveImportMs: number;
  naiveReadyMs: number;
  /** importMs ÷ naiveImportMs, and the same for readyMs: comparable between machines where the milliseconds are not. */
  importVsNaive: number;
  readyVsNaive: number;
  /** The CPU profile's largest entries: self time over the import and the background loads. */
  profile: ProfileEntry[];
}

async function benchColdStart(): Promise<void> {
  log(`cold start: bundle sizes, ${importRuns} fresh-process imports of each bundle (interleaved with the naive bundles), CPU profiles`);
  const trimmed = await buildHandlers();
  const naiveRoot = path.join(tmpdir(), 'order-pipeline-naive-bundles');
  const naive = await buildHandlers({ naive: true, outRoot: naiveRoot });
  const keys = Object.keys(FunctionName) as FunctionKey[];
  const cases: ImportCase[] = keys.flatMap((key) => [
    { label: key, bundle: path.join(DIST, FunctionName[key], 'index.mjs'), env: importEnvironment(key) },
    { label: `${key}:naive`, bundle: path.join(naiveRoot, FunctionName[key], 'index.mjs'), env: importEnvironment(key) },
  ]);
  const before = load();
  const timings = await timeImports(cases, importRuns);
  const after = load();
  const rows: ColdStartRow[] = [];
  for (const key of keys) {
    const name = FunctionName[key];
    const mine = timings[key]!;
    const theirs = timings[`${key}:naive`]!;
    const report = trimmed.find((entry) => entry.function === name)!;
    const profile = await profileImport(
      cases.find((item) => item.label === key)!,
      mine.background,
      quick ? 1 : 3,
      8,
    );
    rows.push({
      function: name,
      bytes: report.bytes,
      entryBytes: report.entryBytes,
      zipBytes: report.zipBytes,
      importMs: mine.importMs,
      readyMs: mine.readyMs,
      importCpuMs: mine.importCpuMs,
      readyCpuMs: mine.readyCpuMs,
      background: mine.background,
      naiveBytes: naive.find((entry) => entry.function === name)!.bytes,
      naiveImportMs: theirs.importMs,
      naiveReadyMs: theirs.readyMs,
      importVsNaive: round(mine.importMs / theirs.importMs, 2),
      readyVsNaive: round(mine.readyMs / theirs.readyMs, 2),
      profile,
    });
  }
  results.coldStart = rows;
  results.coldStartRun = { runs: importRuns, load: { before, after } };
}

/**
 * The environment a bundle is imported with: every variable its function
 * reads (from the catalogue) with placeholder values, nothing reachable.
 */
function importEnvironment(key: FunctionKey): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...Object.fromEntries(FUNCTION_ENVIRONMENT[key].map((name) => [name, 'bench'])),
    DB_HOST: '127.0.0.1',
    DB_PORT: '3306',
    DB_TLS: 'off',
    // What the stacks give each function (the rebuild refuses fewer than 2).
    DB_CONNECTION_LIMIT: String(FUNCTION_SETTINGS[key].databaseConnections ?? 1),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_METRICS_NAMESPACE: 'OrderPipeline/bench',
  };
}

// ---------------------------------------------------------------- local pipeline
interface LocalPipelineRun {
  readySeconds: number;
  commandToReadModelMs: { p50: number; p99: number; samples: number };
  commands: number;
  commandsPerSecond: number;
  projectedPerSecond: number;
  /** Per-order figures the capacity model reads (`npm run capacity`); IAM-enforced run only. */
  perOrder?: CapacityInputs;
}

/** What one order costs, measured in the local pipeline's throughput run. */
interface CapacityInputs {
  /** Median Express execution of a command sent alone, start to end (ms). */
  readonly commandExecutionMs: number;
  /** Median duration of each function's invocations (ms). */
  readonly functionMs: Record<string, number>;
  /** Bytes each log group received per order, at the configured log level. */
  readonly logBytes: Record<string, number>;
  /** Median bytes of a command execution's states' input and output: what Step Functions logs at ALL with execution data. */
  readonly workflowLogBytesAllWithData: number;
  readonly requestEventBytes: number;
}

async function benchLocal(): Promise<void> {
  log('local pipeline: command-to-read-model latency and sustained commands/s, IAM enforced and off');
  const enforced = await benchLocalRun('enforce');
  const off = await benchLocalRun('off');
  results.localPipeline = { enforced, off, enforcedShareOfOff: round(enforced.commandsPerSecond / off.commandsPerSecond, 3) };
}

async function benchLocalRun(iam: 'enforce' | 'off'): Promise<LocalPipelineRun> {
  log(`  IAM ${iam}`);
  const database = await createBenchDatabase(`local_${iam}`, false);
  const server = benchServer();
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'local/main.ts',
      '--port',
      '0',
      '--iam',
      iam,
      '--db-url',
      `mysql://${server.user}${server.password ? `:${encodeURIComponent(server.password)}` : ''}@${server.host}:${server.port}/${database.name}`,
    ],
    // Its endpoint file in the temp folder: the checkout's belongs to the developer's own npm start.
    {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', ORDER_PIPELINE_ENDPOINT_FILE: path.join(tmpdir(), `order-pipeline-endpoint-${process.pid}.json`) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // A bench that dies must not leave its runtime running.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    while (!output.includes('Press Ctrl-C to stop.')) {
      if (child.exitCode !== null) throw new Error(`local runtime did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const readySeconds = round((performance.now() - spawnedAt) / 1000, 2);
    const endpoint = /endpoint\s+(\S+)/.exec(output)?.[1] as string;
    const bus = /event bus\s+(\S+)/.exec(output)?.[1] as string;
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const events = new EventBridgeClient(localClientOptions(endpoint));
    const entry = (orderId: string) => ({
      EventBusName: bus,
      Source: 'orderPipeline',
      DetailType: 'orderCommand',
      Detail: JSON.stringify({
        command: 'createOrder',
        orderId,
        items: [
          { itemid: 'item-001', quantity: 1 },
          { itemid: 'item-002', quantity: 2 },
        ],
      }),
    });
    const projected = async (orderId: string) => {
      const [rows] = await database.pool.query('SELECT 1 FROM orders WHERE order_id = ?', [orderId]);
      return (rows as unknown[]).length > 0;
    };
    // Latency: one command at a time, PutEvents to the order's row in MySQL.
    const samples: number[] = [];
    for (let index = 0; index < (quick ? 30 : 100); index++) {
      const orderId = `lat-${index}`;
      const started = performance.now();
      await events.send(new PutEventsCommand({ Entries: [entry(orderId)] }));
      const deadline = Date.now() + 30_000;
      while (!(await projected(orderId))) {
        if (Date.now() > deadline) throw new Error(`order ${orderId} was not projected within 30 s:\n${output.slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      samples.push(performance.now() - started);
    }
    // Throughput: 8 concurrent senders, 10 entries per PutEvents, until every order is in the read model.
    const status = async () => (await (await fetch(`${endpoint}/_local/status`)).json()) as { eventBus: { kept: { total: number } } };
    const baseline = (await status()).eventBus.kept.total;
    const started = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < localCommands) {
          const first = sent;
          sent += 10;
          await events.send(
            new PutEventsCommand({ Entries: Array.from({ length: Math.min(10, localCommands - first) }, (_, index) => entry(`tp-${first + index}`)) }),
          );
        }
      }),
    );
    // A command unanswered or an order never projected is a defect the bench names, not a wait without end.
    const waitFor = async (what: string, done: () => Promise<boolean>) => {
      const deadline = Date.now() + 120_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`local pipeline (IAM ${iam}): ${what} within 120 s:\n${output.slice(-2_000)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    await waitFor(`not every one of ${localCommands} commands was answered`, async () => (await status()).eventBus.kept.total - baseline >= localCommands * 2);
    const answered = performance.now() - started;
    // An answer that refuses the command (throttled past the workflow's retries, say) is a defect the bench names too.
    const refused = (await localEvents(endpoint)).filter(
      (event) =>
        event['detail-type'] === DetailType.commandResponse &&
        typeof event.detail.orderid === 'string' &&
        event.detail.orderid.startsWith('tp-') &&
        event.detail.commandStatus !== 'orderCreated',
    );
    if (refused.length > 0)
      throw new Error(
        `local pipeline (IAM ${iam}): ${refused.length} of ${localCommands} commands were refused: ${JSON.stringify(refused.slice(0, 3).map((event) => event.detail))}`,
      );
    const projectedCount = async () => {
      const [rows] = await database.pool.query("SELECT COUNT(*) AS n FROM orders WHERE order_id LIKE 'tp-%'");
      return Number((rows as { n: number }[])[0]?.n);
    };
    await waitFor(`not every one of ${localCommands} orders reached the read model`, async () => (await projectedCount()) >= localCommands);
    const projectedMs = performance.now() - started;
    events.destroy();
    const perOrder = iam === 'enforce' ? await capacityInputs(endpoint, localCommands) : undefined;
    return {
      readySeconds,
      commandToReadModelMs: { p50: round(median(samples), 1), p99: round(percentile(samples, 99), 1), samples: samples.length },
      commands: localCommands,
      commandsPerSecond: round(localCommands / (answered / 1000), 0),
      projectedPerSecond: round(localCommands / (projectedMs / 1000), 0),
      ...(perOrder ? { perOrder } : {}),
    };
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    await database.drop();
  }
}

/** Reads the per-order figures from the runtime after the throughput run (every order of it answered and projected). */
async function capacityInputs(endpoint: string, orders: number): Promise<CapacityInputs> {
  const get = async <T>(route: string) => (await (await fetch(`${endpoint}${route}`)).json()) as T;
  const status = await get<{ functionDurations: Record<string, { p50Ms: number }>; logGroups: Record<string, { bytes: number }> }>('/_local/status');
  // The latency phase's commands, sent one at a time: their executions wait for nothing but their own work.
  const executions = (await get<{ executionArn: string; input: string; startDate: number; stopDate?: number; status: string }[]>('/_local/executions')).filter(
    (execution) =>
      execution.status === 'SUCCEEDED' && execution.input.includes('"orderCommand"') && execution.input.includes('lat-') && execution.stopDate !== undefined,
  );
  // The log volume from the latest commands, whose paths are still kept (the latency phase's are older than the latest 500).
  const recent = (await get<{ executionArn: string; input: string; status: string }[]>('/_local/executions')).filter(
    (execution) => execution.status === 'SUCCEEDED' && execution.input.includes('"orderCommand"'),
  );
  const sampled = recent.slice(-100);
  const historyBytes: number[] = [];
  for (const execution of sampled) {
    const detail = await get<{ history?: { input?: unknown; output?: unknown }[] }>(`/_local/execution?id=${encodeURIComponent(execution.executionArn)}`);
    if (detail.history) historyBytes.push(Buffer.byteLength(JSON.stringify(detail.history.map((step) => [step.input, step.output]))));
  }
  const short = (name: string) => name.replace(/^.*order-pipeline-local-/, '').replace(/^\/aws\/(lambda|events)\//, '');
  return {
    commandExecutionMs: round(median(executions.map((execution) => (execution.stopDate as number) - execution.startDate)), 1),
    functionMs: Object.fromEntries(Object.entries(status.functionDurations).map(([name, figures]) => [short(name), figures.p50Ms])),
    // The whole run's bytes over its orders (the latency orders included: they are orders too).
    logBytes: Object.fromEntries(
      Object.entries(status.logGroups).map(([name, written]) => [short(name), round(written.bytes / (orders + (quick ? 30 : 100)), 0)]),
    ),
    workflowLogBytesAllWithData: round(median(historyBytes), 0),
    // The rule hands the execution the whole event, as the bus delivers and archives it.
    requestEventBytes: round(median(executions.map((execution) => Buffer.byteLength(execution.input))), 0),
  };
}

// ---------------------------------------------------------------- synth
/** What the synth section records. */
interface SynthResults {
  /** `npm run synth` with the bundles and the compiled app up to date (cdktf.out removed). */
  npmRunSynth: SynthTiming;
  /** `npm run synth` from clean: no dist/, no cdktf.out. */
  npmRunSynthClean: SynthTiming;
  /** bench/minimal-cdktf-app.ts run as npm run synth runs main.ts, in the same rounds. */
  minimalApp: SynthTiming;
  /** npmRunSynth ÷ minimalApp, npmRunSynthClean ÷ minimalApp. */
  vsMinimalApp: number;
  cleanVsMinimalApp: number;
  cdktfSynth?: { seconds: number; peakMB: number };
  stacks: number;
}

async function benchSynth(): Promise<void> {
  log(`synth: ${synthRuns} rounds of npm run synth from clean and up to date, and of a minimal cdktf app; wall time and peak memory`);
  const { upToDate, clean, minimalApp } = await timeSynth(synthRuns);
  // The CLI's own start included; it runs on the Node on PATH (its terminal library has no build for every Node).
  let cdktfSynth: SynthResults['cdktfSynth'];
  try {
    const samples: number[] = [];
    let peakMB = 0;
    for (let index = 0; index < (quick ? 1 : 3); index++) {
      await run('rm', ['-rf', path.join(ROOT, 'cdktf.out')]);
      const { stderr } = await run('/usr/bin/time', ['-f', '%e %M', 'bash', '-c', 'TF_LOCAL_STATE=1 node_modules/.bin/cdktf synth >/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const [seconds, kb] = stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number];
      samples.push(seconds);
      peakMB = Math.max(peakMB, kb / 1024);
    }
    cdktfSynth = { seconds: round(median(samples), 2), peakMB: round(peakMB, 0) };
  } catch (error) {
    log(`  npx cdktf synth failed, not measured: ${(error as Error).message.split('\n')[0]}`);
  }
  // The last run may have been the CLI's: leave what npm run synth writes.
  await run('bash', ['-c', 'npm run --silent synth >/dev/null'], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
  const synth: SynthResults = {
    npmRunSynth: upToDate,
    npmRunSynthClean: clean,
    minimalApp,
    vsMinimalApp: round(upToDate.seconds / minimalApp.seconds, 2),
    cleanVsMinimalApp: round(clean.seconds / minimalApp.seconds, 2),
    ...(cdktfSynth ? { cdktfSynth } : {}),
    // What was synthesized, counted rather than restated.
    stacks: readdirSync(path.join(ROOT, 'cdktf.out', 'stacks')).length,
  };
  results.synth = synth;
}

// ---------------------------------------------------------------- report
function targets(): { target: string; measured: string; met: boolean }[] {
  const lines: { target: string; measured: string; met: boolean }[] = [];
  const projection = results.projection as Record<string, { linesPerSecond: number; statementsPer1000Orders: number }> | undefined;
  if (projection) {
    const off = projection.idempotencyOff!;
    const raw = projection.rawLimit!;
    lines.push({
      target: 'SQL statements per 1,000 projected orders ≤ 10',
      measured: `${off.statementsPer1000Orders} (original: ${projection.original!.statementsPer1000Orders})`,
      met: off.statementsPer1000Orders <= 10,
    });
    lines.push({
      target: 'projection, idempotency off ≥ 50% of the raw limit (lines/s)',
      measured: `${off.linesPerSecond} vs ${raw.linesPerSecond} (${round((off.linesPerSecond / raw.linesPerSecond) * 100, 0)}%)`,
      met: off.linesPerSecond >= raw.linesPerSecond / 2,
    });
  }
  const queries = results.queries as ({ orderLines: number } & Record<string, { p50: number } | undefined>)[] | undefined;
  const largest = queries?.find((step) => step.orderLines >= 1_000_000);
  if (largest) {
    // Each query's own target (its module's benchTargetMs); a query the bench did not time fails its target.
    for (const query of QUERIES) {
      if (query.benchTargetMs === undefined) continue;
      const p50 = largest[query.name]?.p50;
      lines.push({
        target: `${query.name} p50 ≤ ${query.benchTargetMs} ms at 1M lines`,
        measured: p50 === undefined ? 'not timed' : `${p50} ms`,
        met: p50 !== undefined && p50 <= query.benchTargetMs,
      });
    }
    const speedups = Object.entries(ORIGINAL_SAMPLE_QUERIES).map(([query, original]) => {
      const [ours, theirs] = [largest[query]?.p50, largest[original]?.p50];
      return ours !== undefined && theirs !== undefined ? theirs / ours : 0;
    });
    lines.push({
      target: `${Object.keys(ORIGINAL_SAMPLE_QUERIES).join(' and ')} each ≥ 100× faster than the original's at 1M lines`,
      measured: speedups.map((speedup) => `${round(speedup, 0)}×`).join(' and '),
      met: speedups.every((speedup) => speedup >= 100),
    });
  }
  const cold = results.coldStart as ColdStartRow[] | undefined;
  if (cold && cold.length > 0) {
    const biggest = Math.max(...cold.map((row) => row.bytes));
    const slowest = cold.reduce((worst, row) => (row.importMs > worst.importMs ? row : worst));
    const coldLoad = (results.coldStartRun as { load?: { before: { loadAverage: number }; after: { loadAverage: number } } } | undefined)?.load;
    lines.push({ target: 'each bundle ≤ 600 KB', measured: `largest ${round(biggest / 1000, 1)} KB`, met: biggest <= 600_000 });
    lines.push({
      target: 'each bundle imports in ≤ 60 ms (median)',
      measured: `slowest ${slowest.importMs} ms (${slowest.function}), ${slowest.importVsNaive}× its naive bundle's${coldLoad ? `; load ${coldLoad.before.loadAverage}–${coldLoad.after.loadAverage}` : ''}`,
      met: slowest.importMs <= 60,
    });
  }
  const local = results.localPipeline as { enforced: LocalPipelineRun; off: LocalPipelineRun; enforcedShareOfOff: number } | undefined;
  if (local) {
    lines.push({
      target: 'local pipeline with IAM enforced ≥ 90% of the commands/s with IAM off',
      measured: `${local.enforced.commandsPerSecond} vs ${local.off.commandsPerSecond} (${round(local.enforcedShareOfOff * 100, 0)}%)`,
      met: local.enforcedShareOfOff >= 0.9,
    });
    lines.push({ target: 'npm start ready in ≤ 8 s (after the build)', measured: `${local.enforced.readySeconds} s`, met: local.enforced.readySeconds <= 8 });
  }
  const synth = results.synth as Partial<SynthResults> | undefined;
  if (synth?.npmRunSynth) {
    const loadOf = (timing: SynthTiming) => (timing.load ? `; load ${timing.load.median}` : '');
    const { npmRunSynth, npmRunSynthClean, minimalApp } = synth;
    lines.push({
      target: 'npm run synth ≤ 3 s and ≤ 300 MB (bundles up to date)',
      measured: `${npmRunSynth.seconds} s${minimalApp ? ` (${synth.vsMinimalApp}× a minimal cdktf app's ${minimalApp.seconds} s)` : ''}, ${npmRunSynth.peakMB} MB${loadOf(npmRunSynth)}`,
      met: npmRunSynth.seconds <= 3 && npmRunSynth.peakMB <= 300,
    });
    if (npmRunSynthClean) {
      lines.push({
        target: 'npm run synth from clean ≤ 5 s',
        measured: `${npmRunSynthClean.seconds} s${minimalApp ? ` (${synth.cleanVsMinimalApp}× the minimal app's)` : ''}, ${npmRunSynthClean.peakMB} MB${loadOf(npmRunSynthClean)}`,
        met: npmRunSynthClean.seconds <= 5,
      });
    }
  }
  return lines;
}

/** One run of {@link benchChanges}. */
interface ChangeRun {
  changes: number;
  changesPerSecond: number;
  statementsPerBatch: number;
  statementsPer1000Changes: number;
}

function markdown(): string {
  const out: string[] = [];
  const projection = results.projection as
    Record<string, { orders: number; ordersPerSecond: number; linesPerSecond: number; statementsPer1000Orders?: number }> | undefined;
  if (projection) {
    out.push('| projection (batches of ' + batchSize + ') | orders/s | lines/s | SQL statements / 1,000 orders |', '|---|---:|---:|---:|');
    for (const [label, key] of [
      ['this project, idempotency on', 'idempotencyOn'],
      ['this project, idempotency off', 'idempotencyOff'],
      ['original (1 record/invocation, CALL per row)', 'original'],
      ['raw limit (same rows, plain multi-row INSERTs, 1 transaction)', 'rawLimit'],
    ] as const) {
      const row = projection[key];
      if (row) out.push(`| ${label} | ${row.ordersPerSecond} | ${row.linesPerSecond} | ${row.statementsPer1000Orders ?? '6 (by construction)'} |`);
    }
    const writes = (results.projection as { idempotencyStoreWritesPerSecond?: number }).idempotencyStoreWritesPerSecond;
    if (writes) out.push('', `Idempotency store (dynalite) write rate, same SDK and concurrency: ${writes} writes/s; the projection makes 2 per record.`);
    out.push('');
  }
  const changes = results.changes as { batchSize: number; creates: ChangeRun; cancels: ChangeRun } | undefined;
  if (changes) {
    out.push(`| orders that change (batches of ${changes.batchSize}) | changes/s | SQL statements / batch | / 1,000 changes |`, '|---|---:|---:|---:|');
    for (const [label, row] of [
      ['creates', changes.creates],
      ['cancels of those orders', changes.cancels],
    ] as const)
      out.push(`| ${label} | ${row.changesPerSecond} | ${row.statementsPerBatch} | ${row.statementsPer1000Changes} |`);
    out.push('');
  }
  const queries = results.queries as Record<string, { p50: number; p99: number }>[] | undefined;
  if (queries) {
    // A column per registered query, the original's beside the queries it had.
    const columns = QUERIES.flatMap((query): [string, string][] => {
      const original = ORIGINAL_SAMPLE_QUERIES[query.name];
      return original
        ? [
            [query.name, `${query.name} p50 / p99 (ms)`],
            [original, 'original p50 / p99'],
          ]
        : [[query.name, `${query.name} p50 / p99 (no original)`]];
    });
    out.push(`| order lines | ${columns.map(([, title]) => title).join(' | ')} |`, `|---:|${columns.map(() => '---:').join('|')}|`);
    for (const step of queries) {
      const cell = (key: string) => (step[key] ? `${step[key].p50} / ${step[key].p99}` : 'not run');
      out.push(`| ${(step as unknown as { orderLines: number }).orderLines.toLocaleString('en-US')} | ${columns.map(([key]) => cell(key)).join(' | ')} |`);
    }
    out.push('');
  }
  const tls = results.queryTls as
    { server: string; orderLines: number; perQuery: Record<string, { plainP50: number; tlsP50: number; overheadMs: number }> } | undefined;
  if (tls) {
    out.push(
      `Queries over TLS (a private server, ${tls.server}; ${tls.orderLines.toLocaleString('en-US')} lines; the queries' own code, plain and TLS pools alternated):`,
      '',
    );
    out.push('| query | plain p50 (ms) | TLS p50 (ms) | TLS adds (ms) |', '|---|---:|---:|---:|');
    for (const [query, figures] of Object.entries(tls.perQuery)) out.push(`| ${query} | ${figures.plainP50} | ${figures.tlsP50} | ${figures.overheadMs} |`);
    out.push('');
  }
  const cold = results.coldStart as ColdStartRow[] | undefined;
  if (cold) {
    const coldRun = results.coldStartRun as
      { runs: number; load: { before: { loadAverage: number; cpus: number }; after: { loadAverage: number } } } | undefined;
    out.push(
      '| function | bundle, minified (entry) | zip | import, median | ready (+ background loads) | CPU: import / ready | naive bundle | naive import / ready | ÷ naive: import / ready |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of cold) {
      out.push(
        `| ${row.function} | ${round(row.bytes / 1000, 1)} KB (${round(row.entryBytes / 1000, 1)} KB) | ${round(row.zipBytes / 1000, 1)} KB | ${row.importMs} ms | ${row.readyMs} ms | ${row.importCpuMs ?? '–'} / ${row.readyCpuMs ?? '–'} ms | ${round(row.naiveBytes / 1000, 1)} KB | ${row.naiveImportMs} / ${row.naiveReadyMs ?? '–'} ms | ${row.importVsNaive ?? '–'} / ${row.readyVsNaive ?? '–'} |`,
      );
    }
    if (coldRun)
      out.push(
        '',
        `Medians of ${coldRun.runs} fresh processes per bundle, all bundles interleaved; load average ${coldRun.load.before.loadAverage} before, ${coldRun.load.after.loadAverage} after (${coldRun.load.before.cpus} cores).`,
      );
    if (cold.some((row) => row.profile?.length)) {
      out.push('', '| function | where import and background loads spend their time (CPU profile, self time per run) |', '|---|---|');
      for (const row of cold)
        out.push(`| ${row.function} | ${(row.profile ?? []).map((entry) => `${entry.what} ${entry.ms} ms (${round(entry.share * 100, 0)}%)`).join(' · ')} |`);
    }
    out.push('');
  }
  const local = results.localPipeline as { enforced: LocalPipelineRun; off: LocalPipelineRun; enforcedShareOfOff: number } | undefined;
  if (local) {
    out.push(
      '| local pipeline | IAM enforced | IAM off |',
      '|---|---:|---:|',
      `| ready after start (npm start without the build) | ${local.enforced.readySeconds} s | ${local.off.readySeconds} s |`,
      `| command → read model, p50 / p99 | ${local.enforced.commandToReadModelMs.p50} / ${local.enforced.commandToReadModelMs.p99} ms | ${local.off.commandToReadModelMs.p50} / ${local.off.commandToReadModelMs.p99} ms |`,
      `| sustained commands/s (answered) | ${local.enforced.commandsPerSecond} | ${local.off.commandsPerSecond} |`,
      `| sustained commands/s (projected) | ${local.enforced.projectedPerSecond} | ${local.off.projectedPerSecond} |`,
      '',
    );
  }
  const synth = results.synth as Partial<SynthResults> | undefined;
  if (synth?.npmRunSynth) {
    const loadOf = (timing?: SynthTiming) => (timing?.load ? `${timing.load.median} (${timing.load.min}–${timing.load.max})` : '–');
    out.push(
      `| synth (${synth.stacks ?? '?'} stacks), median of ${synth.npmRunSynth.runs ?? 3} | wall time | ÷ minimal cdktf app | peak memory | load average |`,
      '|---|---:|---:|---:|---:|',
    );
    out.push(
      `| npm run synth, bundles up to date | ${synth.npmRunSynth.seconds} s | ${synth.vsMinimalApp ?? '–'} | ${synth.npmRunSynth.peakMB} MB | ${loadOf(synth.npmRunSynth)} |`,
    );
    if (synth.npmRunSynthClean)
      out.push(
        `| npm run synth from clean (no dist/, no cdktf.out) | ${synth.npmRunSynthClean.seconds} s | ${synth.cleanVsMinimalApp ?? '–'} | ${synth.npmRunSynthClean.peakMB} MB | ${loadOf(synth.npmRunSynthClean)} |`,
      );
    if (synth.minimalApp)
      out.push(
        `| a minimal cdktf app (one stack, one resource), run the same way | ${synth.minimalApp.seconds} s | 1 | ${synth.minimalApp.peakMB} MB | ${loadOf(synth.minimalApp)} |`,
      );
    if (synth.cdktfSynth) out.push(`| npx cdktf synth (CLI included) | ${synth.cdktfSynth.seconds} s | | ${synth.cdktfSynth.peakMB} MB | |`);
    out.push('');
  }
  out.push(
    '| target | measured | met |',
    '|---|---|:---:|',
    ...targets().map((line) => `| ${line.target} | ${line.measured} | ${line.met ? 'yes' : '**no**'} |`),
  );
  return out.join('\n');
}

const outDir = path.join(ROOT, 'bench', 'results');
if (values.render) {
  // Re-renders latest.md and the chart from latest.json, measuring nothing.
  Object.assign(results, JSON.parse(readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as Record<string, unknown>);
} else {
  // A partial run (--sections) updates its sections of latest.json and keeps the others.
  const allSections = ['projection', 'changes', 'queries', 'tls', 'coldstart', 'local', 'synth'];
  if (!quick && allSections.some((section) => !sections.has(section)) && existsSync(path.join(outDir, 'latest.json'))) {
    const previous = JSON.parse(readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as Record<string, unknown>;
    for (const [key, value] of Object.entries(previous)) if (!(key in results)) results[key] = value;
  }
  (results.machine as Record<string, unknown>).mysql = await serverVersion();
  await buildHandlers();
  const started = performance.now();
  if (sections.has('projection')) await benchProjection();
  if (sections.has('changes')) await benchChanges();
  if (sections.has('queries')) await benchQueries();
  if (sections.has('tls')) await benchQueryTls();
  if (sections.has('coldstart')) await benchColdStart();
  if (sections.has('local')) await benchLocal();
  if (sections.has('synth')) await benchSynth();
  results.targets = targets();
  results.durationSeconds = round((performance.now() - started) / 1000, 0);
}

mkdirSync(outDir, { recursive: true });
if (!values.render) writeFileSync(path.join(outDir, quick ? 'quick.json' : 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
if (results.queries) writeFileSync(path.join(outDir, quick ? 'quick-query-latency.svg' : 'query-latency.svg'), queryChart(results.queries as never));
const machine = results.machine as { cpus: number; cpuModel: string; memoryGiB: number; node: string; mysql: string };
const report = `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.mysql}; ${results.durationSeconds as number} s\n\n${markdown()}\n`;
writeFileSync(path.join(outDir, quick ? 'quick.md' : 'latest.md'), report);
console.log(`\n${report}`);
process.exit(0);
