/**
 * The whole pipeline on one machine, behind an AWS-compatible endpoint, built
 * from the synthesized Terraform of the `local` environment: every table,
 * function, queue, rule, target, the state machine and the stream mapping are
 * read from `cdk.tf.json` (see `terraform.ts`), and every call they make is
 * checked against their synthesized IAM (see `iam.ts`). Nothing here restates
 * a name, a setting or a pattern the stacks define.
 */
import './polyfills';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createConnection, createPool } from 'mysql2/promise';
import { attachConsole } from './console';
import { clearReadModel } from '../handlers/read-model/maintenance';
import { Authorizer, type ResourceCatalog, type TableResource } from './authorization';
import { AwsError, RawJson, sendAwsError, type JsonService } from './aws-protocol';
import { LocalDynamoDB } from './dynamodb';
import { handleRequest, type Router } from './endpoint';
import { EventBus, type BusEntry } from './event-bus';
import { functionDefinition, LocalFunctions } from './functions';
import { IamGate, type IamMode, type Principal } from './iam';
import { Journal } from './journal';
import { openReadModelServer, type ReadModelServer } from './mysql';
import { clientIdentities, policySet, synthesizedPolicies, type SynthesizedPolicy } from './policies';
import { safeLogLine } from './redact';
import { logsService } from './logs';
import { LocalSecrets } from './secrets';
import { RoleSessions } from './sessions';
import { LocalSqs, type LocalQueue } from './sqs';
import { LocalStateMachine } from './state-machine';
import { checkpointIn, StreamMapping } from './stream-mapping';
import { synthesizeLocal } from './synth';
import { deadLetterDelivery, targetDelivery } from './targets';
import { readSynthesizedStacks, TerraformModel, UnsupportedTerraformError } from './terraform';
import { localRegion } from '../clients/local-client';

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
  /** Where the handler bundles are (the stacks zip them). @default dist/ */
  readonly distDir?: string;
  /** Retry delays (ms) of the bus target, stream mapping and workflow; tests shorten them. */
  readonly retryDelayMs?: number;
  /** `enforce` (default) refuses what the synthesized IAM does not allow; `warn` only logs; `off` checks nothing. */
  readonly iam?: IamMode;
  /** Print every line the functions log (their log groups). @default false */
  readonly functionLogs?: boolean;
  /** The functions' application log level, as Lambda's logging controls set it; implies {@link functionLogs}. */
  readonly functionLogLevel?: string;
  /** Where the runtime's own messages go. @default stderr */
  readonly log?: (message: string) => void;
}

const REGION = localRegion();
const ACCOUNT = '000000000000';
/** Lines kept per log group. */
const LOG_GROUP_LINES = 2_000;

/** A log group's recent lines. */
export interface LocalLogGroup {
  readonly name: string;
  readonly arn: string;
  readonly keyArn?: string;
  readonly lines: string[];
  /** When each line was written (ms), index for index. */
  readonly times: number[];
  /** Everything written since the start (the kept lines are only the latest). */
  readonly written: { lines: number; bytes: number };
}

/** A running local pipeline. */
export class LocalRuntime {
  readonly endpoint: string;
  readonly model: TerraformModel;
  readonly gate: IamGate;
  readonly bus: EventBus;
  readonly dynamodb: LocalDynamoDB;
  readonly stateMachine: LocalStateMachine;
  readonly mapping: StreamMapping;
  readonly functions: LocalFunctions;
  readonly sqs: LocalSqs;
  readonly database: ReadModelServer;
  readonly logGroups: ReadonlyMap<string, LocalLogGroup>;
  /** The synthesized policies, as read at start. */
  readonly policies: readonly SynthesizedPolicy[];
  /** What `npm start` prints about the resources. */
  readonly summary: readonly [string, string][];
  readonly #server: Server;
  readonly #log: (message: string) => void;
  readonly #cleanups: (() => Promise<unknown>)[];
  readonly #creationChecks: (() => Promise<void>)[];
  #stopped = false;

  private constructor(parts: {
    endpoint: string;
    model: TerraformModel;
    gate: IamGate;
    bus: EventBus;
    dynamodb: LocalDynamoDB;
    stateMachine: LocalStateMachine;
    mapping: StreamMapping;
    functions: LocalFunctions;
    sqs: LocalSqs;
    database: ReadModelServer;
    logGroups: Map<string, LocalLogGroup>;
    policies: SynthesizedPolicy[];
    summary: [string, string][];
    server: Server;
    log: (message: string) => void;
    cleanups: (() => Promise<unknown>)[];
    creationChecks: (() => Promise<void>)[];
  }) {
    this.endpoint = parts.endpoint;
    this.model = parts.model;
    this.gate = parts.gate;
    this.bus = parts.bus;
    this.dynamodb = parts.dynamodb;
    this.stateMachine = parts.stateMachine;
    this.mapping = parts.mapping;
    this.functions = parts.functions;
    this.sqs = parts.sqs;
    this.database = parts.database;
    this.logGroups = parts.logGroups;
    this.policies = parts.policies;
    this.summary = parts.summary;
    this.#server = parts.server;
    this.#log = parts.log;
    this.#cleanups = parts.cleanups;
    this.#creationChecks = parts.creationChecks;
  }

  /**
   * Runs again what AWS checks when the functions and the state machine are
   * created (trust policies, a VPC function's ENI permissions), as a deploy
   * of the current policies would.
   */
  async checkCreation(): Promise<void> {
    for (const check of this.#creationChecks) await check();
  }

  /** Starts every part; throws (having cleaned up) if any part cannot start. */
  static async start(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const sink = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
    // Every message, whatever it quotes, is redacted and escaped at the one sink.
    const log = (message: string) => sink(safeLogLine(message));

    // The endpoint comes first: the functions' SDK clients are pointed at it.
    const router: Router = { region: REGION, account: ACCOUNT, streams: new Map(), services: new Map(), extra: new Map(), functions: undefined, authorizer: undefined, principals: new Map() };
    const server = createServer((request, response) => {
      handleRequest(request, response, router).catch((error: unknown) => {
        if (!response.headersSent) sendAwsError(response, new AwsError('InternalFailure', (error as Error).message, 500));
        else response.destroy();
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4566, options.host ?? '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    const endpoint = `http://${address.address}:${address.port}`;

    const cleanups: (() => Promise<unknown>)[] = [() => new Promise((resolve) => server.close(resolve))];
    try {
      const database = await openReadModelServer(options.dbUrl, log);
      cleanups.push(() => database.stop());
      // The runtime's own view of the read model: the console's tables and statement counts.
      const inspector = createPool({ host: database.host, port: database.port, user: database.user, password: database.password, database: database.database, connectionLimit: 2, dateStrings: true });
      cleanups.push(() => inspector.end());

      // The stacks, synthesized for the local environment, resolved to local values.
      const outdir = await synthesizeLocal(options.distDir ? { distDir: options.distDir } : {});
      const model = new TerraformModel(readSynthesizedStacks(outdir), {
        region: REGION,
        account: ACCOUNT,
        endpoint,
        database: { host: database.host, port: database.port, name: database.database },
      });
      const policies = synthesizedPolicies(model);
      const gate = new IamGate({ account: ACCOUNT, mode: options.iam ?? 'enforce', policies: policySet(policies), log });
      const credentials = new RoleSessions();
      for (const [accessKey, arn] of clientIdentities(model)) credentials.byAccessKey.set(accessKey, arn);
      router.principals = credentials.byAccessKey;

      // Tables.
      const dynamodb = new LocalDynamoDB({ region: REGION, account: ACCOUNT, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
      await dynamodb.start();
      cleanups.push(() => dynamodb.stop());
      const tables: TableResource[] = [];
      const freshTables = new Set<string>();
      for (const table of model.resources('aws_dynamodb_table')) {
        const attributes = model.attributes(table);
        const hashKey = model.string(table, 'hash_key');
        const rangeKey = model.field(table, 'range_key') as string | undefined;
        const streamed = model.field(table, 'stream_enabled') === true;
        const created = await dynamodb.ensureTable({
          TableName: attributes.name,
          KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }, ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: 'RANGE' }] : [])],
          AttributeDefinitions: ((model.field(table, 'attribute') as { name: string; type: string }[]) ?? []).map((item) => ({ AttributeName: item.name, AttributeType: item.type })),
          BillingMode: 'PAY_PER_REQUEST',
          ...(streamed ? { StreamSpecification: { StreamEnabled: true, StreamViewType: model.string(table, 'stream_view_type'), StreamLabel: attributes.stream_label } } : {}),
        });
        if (created) freshTables.add(attributes.name as string);
        const keyArn = model.field(table, 'server_side_encryption', 'kms_key_arn') as string | undefined;
        tables.push({ name: attributes.name as string, arn: attributes.arn as string, ...(streamed ? { streamArn: attributes.stream_arn as string } : {}), ...(keyArn ? { keyArn } : {}) });
      }
      const serve = (service: JsonService) => router.services.set(service.targetPrefix, service);
      serve(dynamodb.dynamoService());
      serve(dynamodb.streamsService());

      // The database secret Aurora manages, pointing at DB_URL.
      const secrets = new LocalSecrets(REGION, ACCOUNT);
      const secretKeys = new Map<string, string | undefined>();
      for (const cluster of model.resources('aws_rds_cluster')) {
        if (model.field(cluster, 'manage_master_user_password') !== true) {
          throw new UnsupportedTerraformError(cluster.address, 'only a cluster with manage_master_user_password runs locally (its secret points at DB_URL)');
        }
        const secret = (model.attributes(cluster).master_user_secret as { secret_arn: string; kms_key_id: string }[])[0] as { secret_arn: string; kms_key_id: string };
        secrets.put(secret.secret_arn.split(':').pop() as string, { username: database.user, password: database.password }, secret.secret_arn);
        secretKeys.set(secret.secret_arn, secret.kms_key_id.startsWith('arn:') ? secret.kms_key_id : undefined);
      }
      // The database role secrets: created empty, as Terraform creates them; init-schema fills them.
      for (const secret of model.resources('aws_secretsmanager_secret')) {
        const attributes = model.attributes(secret);
        const keyArn = model.field(secret, 'kms_key_id') as string | undefined;
        secrets.create(attributes.name as string, attributes.arn as string);
        secretKeys.set(attributes.arn as string, keyArn?.startsWith('arn:') ? keyArn : undefined);
      }
      serve(secrets.service());

      // Queues.
      const sqs = new LocalSqs(() => endpoint, REGION, ACCOUNT, options.dataDir);
      serve(sqs.service());
      const queues = new Map<string, { arn: string; keyArn?: string }>();
      const queueByArn = new Map<string, LocalQueue>();
      for (const queue of model.resources('aws_sqs_queue')) {
        const attributes = model.attributes(queue);
        const local = sqs.create(attributes.name as string);
        const keyArn = model.field(queue, 'kms_master_key_id') as string | undefined;
        const entry = { arn: attributes.arn as string, ...(keyArn ? { keyArn } : {}) };
        queues.set(local.url, entry);
        queues.set(local.name, entry);
        queueByArn.set(local.arn, local);
      }

      const catalog: ResourceCatalog = { region: REGION, tables, secretKeys, queues };
      const authorizer = new Authorizer(gate, catalog);
      router.authorizer = authorizer;
      const assumeRole = (service: string, roleArn: string, context: Record<string, string> = {}) =>
        gate.authorize({ principal: { kind: 'service', service }, action: 'sts:AssumeRole', resource: roleArn, context: { 'aws:SourceAccount': ACCOUNT, ...context } });

      // Log groups, and what writing to them takes.
      const logGroups = new Map<string, LocalLogGroup>();
      for (const group of model.resources('aws_cloudwatch_log_group')) {
        const attributes = model.attributes(group);
        const keyArn = model.field(group, 'kms_key_id') as string | undefined;
        logGroups.set(attributes.name as string, { name: attributes.name as string, arn: attributes.arn as string, ...(keyArn ? { keyArn } : {}), lines: [], times: [], written: { lines: 0, bytes: 0 } });
      }
      serve(logsService(logGroups));
      const appendLog = (group: LocalLogGroup, line: string) => {
        group.lines.push(line);
        group.times.push(Date.now());
        group.written.lines++;
        group.written.bytes += Buffer.byteLength(line) + 1;
        if (group.lines.length > LOG_GROUP_LINES) {
          group.lines.shift();
          group.times.shift();
        }
      };
      // CloudWatch Logs' own use of the key (the key policy's statement for the logs
      // service principal) is not checked: it is conditioned on
      // kms:EncryptionContext:aws:logs:arn, a key the IAM evaluator ignores.

      // Functions, from their zips, each with its role.
      const functions = new LocalFunctions({
        region: REGION,
        endpoint,
        credentials: (roleArn) => credentials.for(roleArn),
        ...(options.functionLogLevel ? { applicationLogLevel: options.functionLogLevel } : {}),
        onLog: (fn, line) => {
          const group = logGroups.get(fn.logGroup);
          const principal: Principal = { kind: 'role', arn: fn.roleArn };
          // Lambda writes the function's logs with its execution role; a refused write is dropped.
          void (async () => {
            if (!group) return;
            await gate.authorize({ principal, action: 'logs:CreateLogStream', resource: `${group.arn}:log-stream:local` });
            await gate.authorize({ principal, action: 'logs:PutLogEvents', resource: `${group.arn}:log-stream:local` });
            appendLog(group, line);
            if (options.functionLogs || options.functionLogLevel) log(`${fn.name} | ${line}`);
          })().catch(() => undefined);
        },
      });
      cleanups.push(() => functions.stop());
      router.functions = functions;
      const creationChecks: (() => Promise<void>)[] = [];
      for (const fn of model.resources('aws_lambda_function')) {
        const definition = functionDefinition(model, fn);
        const inVpc = model.field(fn, 'vpc_config') !== undefined;
        // Lambda checks at creation that it may assume the role and, in a VPC, manage ENIs with it.
        creationChecks.push(async () => {
          await assumeRole('lambda.amazonaws.com', definition.roleArn);
          if (inVpc) {
            for (const action of ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface']) {
              await gate.authorize({ principal: { kind: 'role', arn: definition.roleArn }, action, resource: '*' });
            }
          }
        });
        functions.register(definition);
      }

      // The bus, its rules and their targets.
      const busResource = model.only('aws_cloudwatch_event_bus');
      const bus = new EventBus({
        name: model.attributes(busResource).name as string,
        region: REGION,
        account: ACCOUNT,
        ...(options.retryDelayMs !== undefined ? { retryDelayMs: () => options.retryDelayMs as number } : {}),
        onDeliveryError: (rule, event, error) => log(`rule ${rule}: delivery of ${event.id} failed: ${(error as Error).message}`),
        ...(options.dataDir ? { journal: new Journal<BusEntry>(path.join(options.dataDir, 'bus', 'deliveries.jsonl')) } : {}),
      });

      // The state machine, with its role.
      const machine = model.only('aws_sfn_state_machine');
      const machineArn = model.attributes(machine).arn as string;
      const machineRole = model.string(machine, 'role_arn');
      creationChecks.push(() => assumeRole('states.amazonaws.com', machineRole, { 'aws:SourceArn': machineArn }));
      for (const check of creationChecks) await check();
      const stateMachine = new LocalStateMachine({
        name: model.attributes(machine).name as string,
        definition: model.string(machine, 'definition'),
        region: REGION,
        account: ACCOUNT,
        functions,
        dynamodb,
        bus,
        principal: { kind: 'role', arn: machineRole },
        authorizer,
        ...(options.retryDelayMs !== undefined ? { retryIntervalMs: options.retryDelayMs } : {}),
      });

      for (const target of model.resources('aws_cloudwatch_event_target')) {
        const ruleName = model.string(target, 'rule');
        const rule = model.findBy('aws_cloudwatch_event_rule', 'name', ruleName);
        if (!rule) throw new UnsupportedTerraformError(target.address, `rule ${ruleName} is not defined in the stacks`);
        const ruleArn = model.attributes(rule).arn as string;
        const targetArn = model.string(target, 'arn');
        const retries = model.field(target, 'retry_policy', 'maximum_retry_attempts') as number | undefined;
        const deadLetterArn = model.field(target, 'dead_letter_config', 'arn') as string | undefined;
        const deadLetter = deadLetterArn ? queueByArn.get(deadLetterArn) : undefined;
        if (deadLetterArn && !deadLetter) throw new UnsupportedTerraformError(target.address, `dead-letter queue ${deadLetterArn} is not defined in the stacks`);
        const context = { model, target, targetArn, ruleName, ruleArn, account: ACCOUNT, gate, authorizer, assumeRole, stateMachine, logGroups, appendLog, log };
        bus.addRule({
          name: ruleName,
          pattern: JSON.parse(model.string(rule, 'event_pattern')) as unknown,
          target: targetDelivery(context),
          ...(retries !== undefined ? { maximumRetryAttempts: retries } : {}),
          ...(deadLetter ? { deadLetter: deadLetterDelivery(context, deadLetter) } : {}),
        });
      }

      // The stream mapping.
      const mappingResource = model.only('aws_lambda_event_source_mapping');
      const streamArn = model.string(mappingResource, 'event_source_arn');
      const streamTable = tables.find((table) => table.streamArn === streamArn);
      const stream = streamTable ? dynamodb.stream(streamTable.name) : undefined;
      if (!streamTable || !stream) throw new UnsupportedTerraformError(mappingResource.address, `event source ${streamArn} is not a stream of the stacks' tables`);
      const projection = functions.require(model.string(mappingResource, 'function_name'));
      const onFailureArn = model.field(mappingResource, 'destination_config', 'on_failure', 'destination_arn') as string | undefined;
      const destination = onFailureArn ? queueByArn.get(onFailureArn) : undefined;
      if (!destination) throw new UnsupportedTerraformError(mappingResource.address, 'the local runtime needs an SQS on-failure destination');
      const filters = (model.field(mappingResource, 'filter_criteria', 'filter') as { pattern: string }[] | undefined) ?? [];
      if (filters.length > 1) throw new UnsupportedTerraformError(mappingResource.address, 'more than one filter pattern is not supported locally');
      const responseTypes = (model.field(mappingResource, 'function_response_types') as string[] | undefined) ?? [];
      if (!responseTypes.includes('ReportBatchItemFailures')) throw new UnsupportedTerraformError(mappingResource.address, 'the local mapping implements ReportBatchItemFailures only');
      const projectionRole: Principal = { kind: 'role', arn: projection.roleArn };
      const settings = {
        batchSize: (model.field(mappingResource, 'batch_size') as number | undefined) ?? 100,
        maximumBatchingWindowInSeconds: (model.field(mappingResource, 'maximum_batching_window_in_seconds') as number | undefined) ?? 0,
        maximumRetryAttempts: (model.field(mappingResource, 'maximum_retry_attempts') as number | undefined) ?? -1,
        maximumRecordAgeInSeconds: (model.field(mappingResource, 'maximum_record_age_in_seconds') as number | undefined) ?? -1,
        bisectBatchOnFunctionError: model.field(mappingResource, 'bisect_batch_on_function_error') === true,
        eventNames: [],
      };
      const mapping = new StreamMapping({
        stream,
        functions,
        functionName: projection.name,
        settings: { ...settings, maximumRetryAttempts: settings.maximumRetryAttempts < 0 ? Number.MAX_SAFE_INTEGER : settings.maximumRetryAttempts },
        ...(filters[0] ? { filterPattern: JSON.parse(filters[0].pattern) as unknown } : {}),
        destination,
        statementCounter: async () => {
          const [rows] = await inspector.query("SHOW GLOBAL STATUS LIKE 'Questions'");
          return Number((rows as { Value: string }[])[0]?.Value);
        },
        ...(options.dataDir ? { checkpoint: checkpointIn(options.dataDir, streamTable.name, projection.name) } : {}),
        authorizeRead: (operation) => authorizer.stream(projectionRole, operation, streamArn),
        authorizeDestination: () => authorizer.queue(projectionRole, 'SendMessage', destination.url),
        ...(options.retryDelayMs !== undefined ? { retryDelayMs: () => options.retryDelayMs as number } : {}),
        log: (message, fields) => log(`stream mapping: ${message} ${JSON.stringify(fields ?? {})}`),
      });

      serve(bus.service());
      serve(stateMachine.service());
      router.extra.set('/_local/events', (url) => {
        // Paged on request (?since=<sequence>&limit=<n>); the next page starts after X-Next-Since.
        const since = Number(url.searchParams.get('since') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? Number.MAX_SAFE_INTEGER);
        const page = bus.eventsPage(Number.isFinite(since) ? since : 0, Number.isFinite(limit) && limit > 0 ? limit : Number.MAX_SAFE_INTEGER);
        return new RawJson(page.json, { 'x-next-since': String(page.next) });
      });
      router.extra.set('/_local/denials', () => gate.denials());
      router.extra.set('/_local/status', (url) => {
        // ?gc=1 collects garbage first when the runtime runs with --expose-gc (npm run soak): heap figures without the sawtooth.
        if (url.searchParams.get('gc') === '1') (globalThis as { gc?: () => void }).gc?.();
        return {
          endpoint,
          eventBus: { name: bus.name, arn: bus.arn, kept: bus.retained, ...(bus.journal ? { journal: bus.journal } : {}) },
          stateMachine: stateMachine.arn,
          executions: stateMachine.kept,
          streamMapping: { ...mapping.status(), batchSize: settings.batchSize, batchingWindowSeconds: settings.maximumBatchingWindowInSeconds },
          queues: Object.fromEntries([...queueByArn.values()].map((queue) => [queue.name, { url: queue.url, messages: queue.size }])),
          functions: functions.definitions().map((fn) => ({ name: fn.name, role: fn.roleArn, reservedConcurrency: fn.reservedConcurrency ?? null })),
          // The runtime's own heap (the main thread), and the process's resident memory (workers included).
          memory: { heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1024 / 1024), rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024) },
          functionEnvironments: functions.environments(),
          functionInvocations: functions.invocations,
          functionDurations: functions.durations(),
          logGroups: Object.fromEntries([...logGroups.values()].map((group) => [group.name, group.written])),
          coldStarts: functions.coldStarts,
          iam: { mode: gate.mode, evaluations: gate.evaluations, denials: gate.denials().length },
          readModel: database.displayUrl,
          secrets: [...secretKeys.keys()],
        };
      });
      router.extra.set('/_local/failures', () =>
        Object.fromEntries([...queueByArn.values()].map((queue) => [queue.name, queue.peek().map((message) => ({ ...message, body: JSON.parse(message.body) as unknown }))])),
      );
      router.extra.set('/_local/executions', () => stateMachine.executions());
      router.extra.set('/_local/batches', () => mapping.batches());
      router.extra.set('/_local/logs', () => Object.fromEntries([...logGroups.values()].map((group) => [group.name, group.lines.slice(-200)])));

      // The deploy-time schema trigger: the same function and payload as the null_resource's `aws lambda invoke`.
      for (const trigger of model.resources('null_resource')) {
        const functionName = model.field(trigger, 'provisioner', 0, 'local-exec', 'environment', 'FUNCTION_NAME');
        if (typeof functionName !== 'string') throw new UnsupportedTerraformError(trigger.address, 'only the schema trigger (local-exec with FUNCTION_NAME) runs locally');
        const response = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, { method: 'POST', body: '' });
        const body = await response.text();
        if (response.status !== 200 || response.headers.get('x-amz-function-error')) throw new Error(`${trigger.address}: schema initialisation failed: ${body}`);
      }
      const ordersTable = streamTable.name;
      if (freshTables.has(ordersTable)) {
        const connection = await createConnection({ host: database.host, port: database.port, user: database.user, password: database.password, database: database.database });
        await clearReadModel(connection).finally(() => connection.end());
        log(`read model ${database.database} cleared: it is derived from ${ordersTable}, which starts empty${options.dataDir ? '' : ' (use --data <dir> to keep both)'}`);
      }
      if (options.dataDir) {
        for (const recovered of await dynamodb.recoverStreams()) {
          if (recovered.recovered > 0) log(`stream of ${recovered.table}: ${recovered.recovered} stored changes had no stream record (a crash between the two); recorded now`);
        }
        const resumed = bus.resumePending();
        if (resumed > 0) log(`bus: ${resumed} accepted events were not yet delivered when the runtime stopped; delivering them now`);
      }
      mapping.start();
      cleanups.push(() => mapping.stop());

      const summary: [string, string][] = [
        ['endpoint', endpoint],
        ['event bus', bus.name],
        ['event bus ARN', bus.arn],
        ['state machine', stateMachine.arn],
        ...tables.map((table): [string, string] => ['table', `${table.name}${table.streamArn ? ` (stream → ${projection.name}, batch ${settings.batchSize}, window ${settings.maximumBatchingWindowInSeconds} s)` : ''}`]),
        ['functions', functions.definitions().map((fn) => fn.name).join(', ')],
        ['IAM', `${{ enforce: 'enforced', warn: 'warn only', off: 'OFF' }[gate.mode]}: ${policies.length} synthesized policies (GET /_local/denials)`],
        ['read model', `${database.displayUrl} (${database.version})`],
        ['durability', options.dataDir ? `${options.dataDir}: tables, accepted events, stream records and queues survive a crash` : 'in memory: a crash loses in-flight work (use --data <dir> to keep it)'],
        ['events', `${endpoint}/_local/events (the latest ${bus.retained.retention.maxEvents.toLocaleString('en')} events or ${bus.retained.retention.maxBytes / 1024 / 1024} MiB are kept)`],
        ['status', `${endpoint}/_local/status`],
      ];
      attachConsole({ routes: router.extra, streams: router.streams, bus, stateMachine, mapping, gate, queues: [...queueByArn.values()], inspector, endpoint });
      const runtime = new LocalRuntime({ endpoint, model, gate, bus, dynamodb, stateMachine, mapping, functions, sqs, database, logGroups, policies, summary, server, log, cleanups, creationChecks });
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
    // Every wait is bounded by the deadline: a stop must not wait for a backlog.
    const within = (work: Promise<unknown>) => Promise.race([work, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())]);
    for (;;) {
      await within(this.bus.drain());
      await within(this.stateMachine.drain());
      const mappingIdle = await this.mapping.idle(Math.max(0, deadline - Date.now()));
      await within(this.functions.drain());
      const status = this.mapping.status();
      const settled = (status.pending === 0 || status.readDenied) && !status.busy;
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
    this.#server.closeAllConnections();
    await closed;
    for (const cleanup of [...this.#cleanups].reverse()) await cleanup().catch(() => undefined);
    this.#log('local pipeline stopped');
  }
}

export { roleAccessKeyId } from './sessions';
