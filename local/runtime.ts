/**
 * The whole pipeline on one machine, in one process, behind an AWS-compatible
 * endpoint: EventBridge, DynamoDB (+ Streams), Step Functions, Secrets Manager
 * and SQS speak the AWS JSON protocol on one port; the workflow, the stream
 * mapping and the functions are wired from the same shared config and ASL file
 * as the stacks.
 */
import './polyfills';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  DEFAULT_STREAM_MAPPING,
  DetailType,
  FUNCTION_ENVIRONMENT,
  FUNCTION_SETTINGS,
  FunctionName,
  IDEMPOTENCY_TABLE,
  ORDERS_STREAM_VIEW_TYPE,
  ORDERS_TABLE_KEY,
  RESPONSES_RULE_PATTERN,
  SERVICE_NAME,
  WORKFLOW_RULE_PATTERN,
  WORKFLOW_TARGET_RETRY,
  resourceNames,
  streamFilterPattern,
  type FunctionKey,
  type ResourceNames,
} from '../config/pipeline';
import { createConnection } from 'mysql2/promise';
import { renderWorkflow } from '../asl/render';
import { clearReadModel } from '../handlers/read-model/maintenance';
import { AwsError, parseJsonBody, readBody, sendAwsError, sendJson, type JsonService } from './aws-protocol';
import { LocalDynamoDB } from './dynamodb';
import { EventBus, type BusEvent } from './event-bus';
import { LocalFunctions } from './functions';
import { openReadModelServer, type ReadModelServer } from './mysql';
import { LocalSecrets } from './secrets';
import { LocalSqs } from './sqs';
import { LocalStateMachine } from './state-machine';
import { StreamMapping } from './stream-mapping';

/** Options of {@link LocalRuntime.start}. */
export interface LocalRuntimeOptions {
  /** TCP port of the endpoint; 0 picks a free one. @default 4566 */
  readonly port?: number;
  /** Interface to listen on. @default 127.0.0.1 */
  readonly host?: string;
  /** `DB_URL`; the default server is used, or a private one started, when omitted. */
  readonly dbUrl?: string;
  /** Folder that keeps DynamoDB tables between runs; in memory when omitted. */
  readonly dataDir?: string;
  /** Environment name in resource names. @default local */
  readonly environment?: string;
  /** Where the handler bundles are. @default dist/ */
  readonly distDir?: string;
  /** Powertools log level of the handlers. @default WARN */
  readonly logLevel?: string;
  /** Retry delays (ms) of the bus target, stream mapping and workflow; tests shorten them. */
  readonly retryDelayMs?: number;
  /** Where the runtime's own messages go. @default stderr */
  readonly log?: (message: string) => void;
}

const REGION = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
const ACCOUNT = '000000000000';

/** A running local pipeline. */
export class LocalRuntime {
  readonly endpoint: string;
  readonly names: ResourceNames;
  readonly bus: EventBus;
  readonly dynamodb: LocalDynamoDB;
  readonly stateMachine: LocalStateMachine;
  readonly mapping: StreamMapping;
  readonly functions: LocalFunctions;
  readonly sqs: LocalSqs;
  readonly database: ReadModelServer;
  readonly #server: Server;
  readonly #log: (message: string) => void;
  #stopped = false;

  private constructor(parts: {
    endpoint: string;
    names: ResourceNames;
    bus: EventBus;
    dynamodb: LocalDynamoDB;
    stateMachine: LocalStateMachine;
    mapping: StreamMapping;
    functions: LocalFunctions;
    sqs: LocalSqs;
    database: ReadModelServer;
    server: Server;
    log: (message: string) => void;
  }) {
    this.endpoint = parts.endpoint;
    this.names = parts.names;
    this.bus = parts.bus;
    this.dynamodb = parts.dynamodb;
    this.stateMachine = parts.stateMachine;
    this.mapping = parts.mapping;
    this.functions = parts.functions;
    this.sqs = parts.sqs;
    this.database = parts.database;
    this.#server = parts.server;
    this.#log = parts.log;
  }

  /** Starts every part; throws (having cleaned up) if any part cannot start. */
  static async start(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
    const names = resourceNames(options.environment ?? 'local');
    const distDir = options.distDir ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../dist');
    for (const key of Object.keys(FunctionName) as FunctionKey[]) {
      const bundle = path.join(distDir, FunctionName[key], 'index.mjs');
      if (!existsSync(bundle)) throw new Error(`handler bundle ${bundle} is missing; run npm run build first`);
    }

    // The endpoint comes first: the handlers' SDK clients are pointed at it.
    const services = new Map<string, JsonService>();
    const router: Router = { events: () => [], extra: new Map(), functions: undefined };
    const server = createServer((request, response) => void handleRequest(request, response, services, router));
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4566, options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    const endpoint = `http://${address.address}:${address.port}`;

    const cleanups: (() => Promise<unknown>)[] = [() => new Promise((resolve) => server.close(resolve))];
    try {
      const dynamodb = new LocalDynamoDB({ region: REGION, account: ACCOUNT, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
      await dynamodb.start();
      cleanups.push(() => dynamodb.stop());
      const serve = (service: JsonService) => services.set(service.targetPrefix, service);
      serve(dynamodb.dynamoService());
      serve(dynamodb.streamsService());
      const freshOrdersTable = await dynamodb.ensureTable({
        TableName: names.ordersTable,
        KeySchema: [{ AttributeName: ORDERS_TABLE_KEY, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: ORDERS_TABLE_KEY, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: ORDERS_STREAM_VIEW_TYPE },
      });
      await dynamodb.ensureTable({
        TableName: names.idempotencyTable,
        KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.key, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.key, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      });

      const database = await openReadModelServer(options.dbUrl, log);
      cleanups.push(() => database.stop());

      const secrets = new LocalSecrets(REGION, ACCOUNT);
      const secretArn = secrets.put(names.dbSecret, { username: database.user, password: database.password });
      serve(secrets.service());
      const sqs = new LocalSqs(() => endpoint, REGION, ACCOUNT);
      serve(sqs.service());
      const failureQueue = sqs.create(names.projectionFailureQueue);
      const workflowDlq = sqs.create(names.workflowDeadLetterQueue);

      // One process, one environment: the union of what the functions read.
      const environment: Record<string, string> = {
        AWS_ENDPOINT_URL: endpoint,
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
        AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
        DB_SECRET_ID: secretArn,
        DB_HOST: database.host,
        DB_PORT: String(database.port),
        DB_NAME: database.database,
        DB_TLS: 'off',
        IDEMPOTENCY_TABLE: names.idempotencyTable,
        ORDERS_TABLE: names.ordersTable,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'WARN',
        AWS_LAMBDA_FUNCTION_NAME: names.function('projectOrders'),
        AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      const required = new Set(Object.values(FUNCTION_ENVIRONMENT).flat());
      for (const name of required) if (!(name in environment)) throw new Error(`the local runtime does not provide ${name}`);
      Object.assign(process.env, environment);

      const functions = new LocalFunctions({ region: REGION, account: ACCOUNT });
      router.functions = functions;
      for (const key of Object.keys(FunctionName) as FunctionKey[]) {
        functions.register({ name: names.function(key), bundle: path.join(distDir, FunctionName[key], 'index.mjs'), ...FUNCTION_SETTINGS[key] });
      }
      // The deploy-time schema trigger, run the same way.
      const init = await functions.invoke(names.function('initSchema'), {});
      if (!init.ok) throw new Error(`schema initialisation failed: ${init.error.errorMessage}`);
      if (freshOrdersTable) {
        const connection = await createConnection({ host: database.host, port: database.port, user: database.user, password: database.password, database: database.database });
        await clearReadModel(connection).finally(() => connection.end());
        log(`read model ${database.database} cleared: it is derived from the orders table, which starts empty${options.dataDir ? '' : ' (use --data <dir> to keep both)'}`);
      }

      const bus = new EventBus({
        name: names.eventBus,
        region: REGION,
        account: ACCOUNT,
        ...(options.retryDelayMs !== undefined ? { retryDelayMs: () => options.retryDelayMs as number } : {}),
        onDeliveryError: (rule, event, error) => log(`rule ${rule}: delivery of ${event.id} failed: ${(error as Error).message}`),
      });
      const stateMachine = new LocalStateMachine({
        name: names.stateMachine,
        definition: renderWorkflow({
          eventBusName: names.eventBus,
          ordersTableName: names.ordersTable,
          validateRequestFunctionArn: functions.arnOf(names.function('validateRequest')),
          itemsSalesReportFunctionArn: functions.arnOf(names.function('itemsSalesReport')),
          monthlySalesByItemFunctionArn: functions.arnOf(names.function('monthlySalesByItem')),
        }),
        region: REGION,
        account: ACCOUNT,
        functions,
        dynamodb,
        bus,
        ...(options.retryDelayMs !== undefined ? { retryIntervalMs: options.retryDelayMs } : {}),
      });
      bus.addRule({
        name: names.workflowRule,
        pattern: WORKFLOW_RULE_PATTERN,
        maximumRetryAttempts: WORKFLOW_TARGET_RETRY.maximumRetryAttempts,
        target: async (event) => {
          stateMachine.startExecution(JSON.stringify(event));
        },
        deadLetter: async (event, error) => {
          workflowDlq.send(JSON.stringify(event));
          log(`rule ${names.workflowRule}: event ${event.id} sent to ${names.workflowDeadLetterQueue}: ${(error as Error).message}`);
        },
      });
      bus.addRule({
        name: names.responsesRule,
        pattern: RESPONSES_RULE_PATTERN,
        target: async (event) => log(describeResponse(event)),
      });

      const ordersStream = dynamodb.stream(names.ordersTable);
      if (!ordersStream) throw new Error(`table ${names.ordersTable} has no stream`);
      const mapping = new StreamMapping({
        stream: ordersStream,
        functions,
        functionName: names.function('projectOrders'),
        settings: DEFAULT_STREAM_MAPPING,
        filterPattern: streamFilterPattern(DEFAULT_STREAM_MAPPING),
        destination: failureQueue,
        ...(options.retryDelayMs !== undefined ? { retryDelayMs: () => options.retryDelayMs as number } : {}),
        log: (message, fields) => log(`stream mapping: ${message} ${JSON.stringify(fields ?? {})}`),
      });
      mapping.start();

      serve(bus.service());
      serve(stateMachine.service());
      router.events = () => bus.events();
      router.extra.set('/_local/status', () => ({
        endpoint,
        eventBus: { name: bus.name, arn: bus.arn, events: bus.events().length },
        stateMachine: stateMachine.arn,
        streamMapping: mapping.status(),
        onFailureDestination: { queue: failureQueue.url, messages: failureQueue.size },
        workflowDeadLetterQueue: { queue: workflowDlq.url, messages: workflowDlq.size },
        functionInvocations: functions.invocations,
        readModel: database.displayUrl,
      }));
      router.extra.set('/_local/failures', () => ({
        [names.projectionFailureQueue]: failureQueue.peek().map((message) => ({ ...message, body: JSON.parse(message.body) as unknown })),
        [names.workflowDeadLetterQueue]: workflowDlq.peek().map((message) => ({ ...message, body: JSON.parse(message.body) as unknown })),
      }));
      router.extra.set('/_local/executions', () => stateMachine.executions());

      const runtime = new LocalRuntime({ endpoint, names, bus, dynamodb, stateMachine, mapping, functions, sqs, database, server, log });
      router.extra.set('/_local/idle', () => runtime.idle());
      return runtime;
    } catch (error) {
      for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      throw error;
    }
  }

  /** Waits until nothing is in flight: bus deliveries, executions, stream batches. */
  async idle(timeoutMs = 60_000): Promise<{ idle: boolean }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.bus.drain();
      await this.stateMachine.drain();
      const mappingIdle = await this.mapping.idle(Math.max(0, deadline - Date.now()));
      await this.functions.drain();
      const settled = this.mapping.status().pending === 0 && !this.mapping.status().busy;
      if (settled && mappingIdle) return { idle: true };
      if (Date.now() > deadline) return { idle: false };
    }
  }

  /** Stops accepting requests, finishes what is in flight, and releases everything. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    const closed = new Promise((resolve) => this.#server.close(resolve));
    this.#server.closeIdleConnections();
    await this.idle(10_000);
    await this.mapping.stop();
    this.#server.closeAllConnections();
    await closed;
    await this.dynamodb.stop();
    await this.database.stop();
    this.#log('local pipeline stopped');
  }
}

function describeResponse(event: BusEvent): string {
  const detail = event.detail as Record<string, unknown>;
  if (event['detail-type'] === DetailType.commandResponse) {
    const error = detail.error as { code?: string } | undefined;
    return `← ${event['detail-type']} ${String(detail.orderid)} ${String(detail.commandStatus)}${error ? ` (${String(error.code)})` : ''}`;
  }
  const rows = Array.isArray(detail.queryResult) ? `${detail.queryResult.length} rows` : JSON.stringify(detail.error);
  return `← ${event['detail-type']} ${String(detail.query)} ${String(detail.queryStatus)} ${rows}`;
}

interface Router {
  events: () => readonly BusEvent[];
  extra: Map<string, () => unknown>;
  functions: LocalFunctions | undefined;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** Lambda's `Invoke` (REST): what the CLIs and the schema trigger use. */
async function invokeFunction(request: IncomingMessage, response: ServerResponse, functions: LocalFunctions, name: string): Promise<void> {
  const raw = await readBody(request, 6 * 1024 * 1024);
  let payload: unknown = {};
  try {
    payload = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    sendJson(response, 400, { Type: 'User', message: 'Could not parse request body into json' });
    return;
  }
  const type = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  let result;
  try {
    if (type === 'Event') {
      void functions.invoke(name, payload);
      response.writeHead(202).end();
      return;
    }
    result = await functions.invoke(name, payload);
  } catch (error) {
    response.setHeader('x-amzn-errortype', 'ResourceNotFoundException');
    sendJson(response, 404, { Type: 'User', message: (error as Error).message });
    return;
  }
  response.setHeader('x-amz-executed-version', '$LATEST');
  if (!result.ok) response.setHeader('x-amz-function-error', 'Unhandled');
  sendJson(response, 200, result.ok ? result.payload : result.error);
}

async function handleRequest(request: IncomingMessage, response: ServerResponse, services: Map<string, JsonService>, router: Router): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://local');
  try {
    const invoke = INVOKE_PATH.exec(url.pathname);
    if (request.method === 'POST' && invoke && router.functions) {
      await invokeFunction(request, response, router.functions, decodeURIComponent(invoke[1] as string));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/_local/events') {
      sendJson(response, 200, router.events());
      return;
    }
    if (request.method === 'GET' && router.extra.has(url.pathname)) {
      sendJson(response, 200, await (router.extra.get(url.pathname) as () => unknown)());
      return;
    }
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string') {
      sendJson(response, 404, { message: `not found: ${request.method} ${url.pathname}; AWS API calls are POST with an X-Amz-Target header` });
      return;
    }
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const service = services.get(prefix);
    if (!service) {
      sendAwsError(response, new AwsError('UnknownOperationException', `${target} is not served by the local runtime`));
      return;
    }
    const body = parseJsonBody(await readBody(request));
    const handler = service.operations[operation];
    if (handler) {
      sendJson(response, 200, await handler(body), `application/x-amz-json-${service.jsonVersion}`);
    } else if (service.dispatch) {
      const result = await service.dispatch(operation, body);
      sendJson(response, result.status, result.body, `application/x-amz-json-${service.jsonVersion}`);
    } else {
      sendAwsError(response, new AwsError('UnknownOperationException', `${operation} is not supported by the local ${prefix}`), service.jsonVersion);
    }
  } catch (error) {
    const awsError = error instanceof AwsError ? error : new AwsError('InternalFailure', (error as Error).message, 500);
    if (!response.headersSent) sendAwsError(response, awsError);
  }
}
