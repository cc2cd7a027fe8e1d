/**
 * The pipeline's contract with its clients and between its parts: event
 * source and detail types, keys, metric names, the service name, the Lambda
 * runtime. A leaf: it imports nothing of the project, so a handler that reads
 * a name carries nothing else into its bundle.
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

/** Key schema of the orders table (the command side's store). */
export const ORDERS_TABLE_KEY = 'orderid';

/** The orders table's stream carries new images: the projection needs nothing else. */
export const ORDERS_STREAM_VIEW_TYPE = 'NEW_IMAGE';

/** Key and TTL attributes Powertools idempotency expects. */
export const IDEMPOTENCY_TABLE = { key: 'id', ttlAttribute: 'expiration' } as const;

/** The Lambda runtime every function uses. */
export const LAMBDA_RUNTIME = 'nodejs24.x';

/** The Node.js major version of {@link LAMBDA_RUNTIME}: the bundles' esbuild target, and the Node the test suite runs on. */
export const LAMBDA_NODE_MAJOR = Number(/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME)?.[1]);

/** Application name: the prefix of every resource name. */
export const APP_NAME = 'order-pipeline';

/** Name of the read-model database. */
export const READ_MODEL_DATABASE = 'orders';

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

/** Powertools service name used in every log line: the app's name, under the name Powertools gives it. @alias */
export const SERVICE_NAME = APP_NAME;
