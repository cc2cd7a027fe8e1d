import { QUERIES, type QueryName } from '../handlers/queries/registry';

/**
 * The single source of truth for names and settings shared by the cdktf stacks
 * and the local runtime. Anything both sides must agree on lives here, so the
 * cloud and local pipelines cannot drift apart.
 */

/** Event source used by every command, query and response. */
export const EVENT_SOURCE = 'orderPipeline';

/** Detail types of the events the pipeline accepts and emits. */
export const DetailType = {
  command: 'orderCommand',
  query: 'orderQuery',
  commandResponse: 'orderCommandResponse',
  queryResponse: 'orderQueryResponse',
} as const;

/**
 * The EventBridge rule that starts the workflow: one Express execution per
 * command or query event.
 */
export const WORKFLOW_RULE_PATTERN = {
  source: [EVENT_SOURCE],
  'detail-type': [DetailType.command, DetailType.query],
} as const;

/** The rule that copies every response to the responses log group. */
export const RESPONSES_RULE_PATTERN = {
  source: [EVENT_SOURCE],
  'detail-type': [DetailType.commandResponse, DetailType.queryResponse],
} as const;

/**
 * Retry policy of the workflow rule's target. Failed deliveries past these
 * bounds go to the rule's dead-letter queue.
 */
export const WORKFLOW_TARGET_RETRY = {
  maximumRetryAttempts: 8,
  maximumEventAgeInSeconds: 3600,
} as const;

/** Key schema of the orders table (the command side's store). */
export const ORDERS_TABLE_KEY = 'orderid';

/** The orders table's stream carries new images: the projection needs nothing else. */
export const ORDERS_STREAM_VIEW_TYPE = 'NEW_IMAGE';

/** Key and TTL attributes Powertools idempotency expects. */
export const IDEMPOTENCY_TABLE = { key: 'id', ttlAttribute: 'expiration' } as const;

/**
 * The DynamoDB stream → projection event source mapping.
 *
 * Under load a shard's records accumulate while the previous batch is being
 * projected, so batches fill up without a batching window; a window would only
 * add latency at low load. The projection writes a batch in a constant number
 * of statements, so a large batch size is what keeps SQL cost per order low.
 */
export interface StreamMappingSettings {
  /** Records per invocation at most. @default 1000 */
  readonly batchSize: number;
  /** Seconds to wait to fill a batch. @default 0 */
  readonly maximumBatchingWindowInSeconds: number;
  /** Retries of a failing batch before it goes to the on-failure destination. @default 10 */
  readonly maximumRetryAttempts: number;
  /**
   * Records older than this are sent to the on-failure destination. Well under
   * the stream's 24 h retention, so a dropped record can still be read back and
   * redriven (config validation keeps age + the operator's window below it). @default 21600
   */
  readonly maximumRecordAgeInSeconds: number;
  /** Split a failing batch in two and retry each half. @default true */
  readonly bisectBatchOnFunctionError: boolean;
  /** Only new orders are projected: orders are immutable in this version. */
  readonly eventNames: readonly ('INSERT' | 'MODIFY' | 'REMOVE')[];
}

/** Defaults for {@link StreamMappingSettings}. */
export const DEFAULT_STREAM_MAPPING: StreamMappingSettings = {
  batchSize: 1000,
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: 10,
  maximumRecordAgeInSeconds: 21_600,
  bisectBatchOnFunctionError: true,
  eventNames: ['INSERT'],
};

/** The event-source-mapping filter that keeps only {@link StreamMappingSettings.eventNames}. */
export function streamFilterPattern(settings: StreamMappingSettings): Record<string, unknown> {
  return { eventName: [...settings.eventNames] };
}

/**
 * The functions that are not queries; the stacks prefix their names with the
 * app name. Query functions come from the query registry, one per query.
 */
const CORE_FUNCTIONS = {
  validateRequest: { name: 'validate-request', timeoutSeconds: 5, memoryMb: 256 },
  // Reserved concurrency: the stream's shards × the parallelization factor, from each environment's config.
  projectOrders: { name: 'project-orders', timeoutSeconds: 60, memoryMb: 1024, reservedConcurrency: 2, databaseConnections: 1 },
  initSchema: { name: 'init-schema', timeoutSeconds: 120, memoryMb: 512, reservedConcurrency: 1, databaseConnections: 1 },
  rebuildReadModel: { name: 'rebuild-read-model', timeoutSeconds: 900, memoryMb: 1024, reservedConcurrency: 1, databaseConnections: 1 },
} as const;

/** One of the pipeline's functions: a core one, or a query's (named after the query). */
export type FunctionKey = keyof typeof CORE_FUNCTIONS | QueryName;

/** The keys of the query functions. */
export const QUERY_FUNCTION_KEYS: readonly QueryName[] = QUERIES.map((query) => query.name);

/** Timeout, memory and reserved concurrency of a function. */
export interface FunctionSettings {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Reserved concurrency; unreserved when absent. */
  readonly reservedConcurrency?: number;
  /** Connections each execution environment's pool may open to the read model (functions that use it). */
  readonly databaseConnections?: number;
}

/** Every function's settings, for the stacks (and through them, the local runtime). */
export const FUNCTION_SETTINGS: Readonly<Record<FunctionKey, FunctionSettings>> = {
  ...CORE_FUNCTIONS,
  ...(Object.fromEntries(QUERIES.map((query) => [query.name, query.settings])) as Record<QueryName, FunctionSettings>),
};

/** Logical names of the functions (kebab-case): bundle folders and, prefixed, Lambda names. */
export const FunctionName: Readonly<Record<FunctionKey, string>> = {
  ...(Object.fromEntries(Object.entries(CORE_FUNCTIONS).map(([key, value]) => [key, value.name])) as Record<keyof typeof CORE_FUNCTIONS, string>),
  ...(Object.fromEntries(QUERIES.map((query) => [query.name, query.functionName])) as Record<QueryName, string>),
};

/** The Lambda runtime every function uses. */
export const LAMBDA_RUNTIME = 'nodejs24.x';

/** The Node.js major version of {@link LAMBDA_RUNTIME}: the bundles' esbuild target, and the Node the test suite runs on. */
export const LAMBDA_NODE_MAJOR = Number(/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME)?.[1]);

/** Application name: the prefix of every resource name. */
export const APP_NAME = 'order-pipeline';

/** Name of the read-model database. */
export const READ_MODEL_DATABASE = 'orders';

/** Names derived for one environment (`dev`, `prod`, or `local`). */
export interface ResourceNames {
  readonly prefix: string;
  readonly eventBus: string;
  readonly ordersTable: string;
  readonly idempotencyTable: string;
  readonly stateMachine: string;
  readonly workflowRule: string;
  readonly responsesRule: string;
  readonly responsesLogGroup: string;
  readonly projectionFailureQueue: string;
  readonly workflowDeadLetterQueue: string;
  readonly dbSecret: string;
  function(key: FunctionKey): string;
}

/** Derives every resource name of one environment. */
export function resourceNames(environment: string): ResourceNames {
  const prefix = `${APP_NAME}-${environment}`;
  return {
    prefix,
    eventBus: `${prefix}-bus`,
    ordersTable: `${prefix}-orders`,
    idempotencyTable: `${prefix}-idempotency`,
    stateMachine: `${prefix}-workflow`,
    workflowRule: `${prefix}-commands-and-queries`,
    responsesRule: `${prefix}-responses`,
    responsesLogGroup: `/aws/events/${prefix}-responses`,
    projectionFailureQueue: `${prefix}-projection-failures`,
    workflowDeadLetterQueue: `${prefix}-workflow-dlq`,
    dbSecret: `${prefix}-read-model`,
    function: (key) => `${prefix}-${FunctionName[key]}`,
  };
}

/** What every function that reads the read model needs. */
const DATABASE_ENVIRONMENT = ['DB_SECRET_ID', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_TLS', 'DB_CONNECTION_LIMIT'] as const;

/**
 * Environment variables each function reads. The function construct refuses
 * an environment that differs, so a function never reads a variable the
 * stacks forgot.
 */
export const FUNCTION_ENVIRONMENT: Readonly<Record<FunctionKey, readonly string[]>> = {
  validateRequest: [],
  projectOrders: [...DATABASE_ENVIRONMENT, 'IDEMPOTENCY_TABLE'],
  initSchema: [...DATABASE_ENVIRONMENT, 'DB_READER_SECRET_ID', 'DB_WRITER_SECRET_ID'],
  rebuildReadModel: [...DATABASE_ENVIRONMENT, 'ORDERS_TABLE'],
  ...(Object.fromEntries(QUERIES.map((query): [string, readonly string[]] => [query.name, DATABASE_ENVIRONMENT])) as Record<QueryName, readonly string[]>),
};

/** The CloudWatch namespace of the pipeline's own metrics in one environment. */
export function metricsNamespace(environment: string): string {
  return `OrderPipeline/${environment}`;
}

/** The pipeline's own metrics (embedded metric format), for the handlers, the alarms and the dashboard. */
export const PipelineMetric = {
  ordersProjected: 'OrdersProjected',
  duplicatesSkipped: 'DuplicatesSkipped',
  batchSize: 'ProjectionBatchSize',
  commandsAccepted: 'CommandsAccepted',
  commandsRefused: 'CommandsRefused',
  queriesAnswered: 'QueriesAnswered',
} as const;

/** Powertools service name used in every log line. */
export const SERVICE_NAME = APP_NAME;

/**
 * The certificate authority of the Aurora instances. The stacks pin it on the
 * instances and the bundles trust only its regional roots, so TLS verification
 * stays strict without shipping every RDS certificate ever issued.
 */
export const DB_CA = {
  identifier: 'rds-ca-rsa2048-g1',
  rootCommonNamePattern: /^Amazon RDS [a-z0-9-]+ Root CA RSA2048 G1$/,
} as const;
