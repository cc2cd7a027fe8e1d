/**
 * The local runtime's errors, in one module. Each extends
 * {@link LocalRuntimeError} and takes `ErrorOptions`, so a failure wrapped on
 * its way up keeps its `cause`; callers tell them apart with `instanceof`,
 * never by `name` (the name is what AWS, a log line or Step Functions' Retry
 * and Catch read). A leaf: it imports nothing.
 */

/** Base class of the local runtime's errors. */
export class LocalRuntimeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LocalRuntimeError';
  }
}

/** An error answered to the client in AWS's shape: its code (`type`), HTTP status, and message. */
export class AwsError extends LocalRuntimeError {
  readonly type: string;
  readonly status: number;
  /** `x-amzn-query-error` (`<code>;Sender`), which a query-compatible service (SQS) also sends. */
  readonly queryError: string | undefined;

  constructor(type: string, message: string, status = 400, options: ErrorOptions & { queryError?: string } = {}) {
    super(message, options);
    this.name = type;
    this.type = type;
    this.status = status;
    this.queryError = options.queryError;
  }
}

/** A refused request, as `/_local/denials` lists it. */
export interface Denial {
  readonly time: string;
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | string[]>>;
  /** What would have had to allow it. */
  readonly missing: string;
}

/** The IAM gate refused a request: `AccessDeniedException`, as AWS answers a refused call. */
export class AccessDeniedError extends LocalRuntimeError {
  readonly denial: Denial;

  constructor(denial: Denial, options?: ErrorOptions) {
    super(`User: ${denial.principal} is not authorized to perform: ${denial.action} on resource: ${denial.resource} because ${denial.missing}`, options);
    this.name = 'AccessDeniedException';
    this.denial = denial;
  }
}

/** A construct the runtime cannot run: the start stops with its address. */
export class UnsupportedTerraformError extends LocalRuntimeError {
  readonly address: string;

  constructor(address: string, message: string, options?: ErrorOptions) {
    super(`${address}: ${message}`, options);
    this.name = 'UnsupportedTerraformError';
    this.address = address;
  }
}

/** Lambda refused the invocation: the function does not exist or is throttled. */
export class InvokeError extends LocalRuntimeError {
  readonly status: number;

  constructor(name: 'ResourceNotFoundException' | 'TooManyRequestsException', message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
    this.status = status;
  }
}

/** A pattern that EventBridge would refuse with `InvalidEventPatternException`. */
export class InvalidEventPatternError extends LocalRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidEventPatternError';
  }
}

/** A start refused to protect a database: its message names the database and the way out. */
export class ReadModelRefusedError extends LocalRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReadModelRefusedError';
  }
}

/**
 * A workflow task failed. Its name is the error name Step Functions gives the
 * failure (`Lambda.TooManyRequestsException`, `DynamoDB.ConditionalCheckFailedException`,
 * `EventBridge.FailedEntry`, ...): what the definition's Retry and Catch match.
 */
export class TaskError extends LocalRuntimeError {
  constructor(name: string, cause: string, options?: ErrorOptions) {
    super(cause, options);
    this.name = name;
  }
}

/**
 * The runtime stopped before a delivery ended (an execution still running when
 * the stop's drain ran out). It is not a failure of the target: the delivery
 * is neither retried nor dead-lettered, stays owed in the bus's journal, and
 * the next start on the same `--data` delivers it again, as after a crash.
 */
export class DeliveryAbandonedError extends LocalRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeliveryAbandoned';
  }
}
