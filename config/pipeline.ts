import { APP_NAME, DetailType, EVENT_SOURCE } from './contract';

/**
 * Names and settings shared by the cdktf stacks and the local runtime, on top
 * of the contract (`contract.ts`, re-exported here). Imports nothing but the
 * contract: the function catalogue, which needs the query registry, lives on
 * the stacks' side (`stacks/catalogue.ts`).
 */
export * from './contract';

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
}

/** Defaults for {@link StreamMappingSettings}. */
export const DEFAULT_STREAM_MAPPING: StreamMappingSettings = {
  batchSize: 1000,
  maximumBatchingWindowInSeconds: 0,
  maximumRetryAttempts: 10,
  maximumRecordAgeInSeconds: 21_600,
  bisectBatchOnFunctionError: true,
};

/** The event-source-mapping filter that keeps only the stream records of these kinds (the command registry's: `streamEventNames()`). */
export function streamFilterPattern(eventNames: readonly string[]): Record<string, unknown> {
  return { eventName: [...eventNames] };
}

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
  /** The bus's own dead-letter queue: events it could not encrypt or decrypt with its key. */
  readonly busDeadLetterQueue: string;
  readonly dbSecret: string;
  /** A function's name: the app prefix, then the key in kebab case (`projectOrders` → `…-project-orders`). */
  function(key: string): string;
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
    busDeadLetterQueue: `${prefix}-bus-dlq`,
    dbSecret: `${prefix}-read-model`,
    function: (key) => `${prefix}-${kebabCase(key)}`,
  };
}

/** `projectOrders` → `project-orders`: a function's name from its key (the catalogue checks its names follow it). */
export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/**
 * The certificate authority of the Aurora instances. The stacks pin it on the
 * instances and the bundles trust only its regional roots, so TLS verification
 * stays strict without shipping every RDS certificate ever issued.
 */
export const DB_CA = {
  identifier: 'rds-ca-rsa2048-g1',
  rootCommonNamePattern: /^Amazon RDS [a-z0-9-]+ Root CA RSA2048 G1$/,
} as const;
