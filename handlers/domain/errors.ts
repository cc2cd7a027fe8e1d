/**
 * Errors of the order domain. Each carries the `code` that refusal events
 * report in `error.code`, so the contract's codes live in one place.
 */

/** Codes of the `error` object in refusal events. */
export type RefusalCode =
  | 'ValidationError'
  | 'OrderConflict'
  | 'UnsupportedCommand'
  | 'UnsupportedQuery'
  | 'OrderNotFound';

/** The `error` object of `orderRejected` and `queryStatus: 400` responses. */
export interface RefusalBody {
  readonly code: RefusalCode;
  readonly message: string;
}

/** Base class of every refusal the pipeline answers to a client. */
export abstract class RefusalError extends Error {
  abstract readonly code: RefusalCode;
  /** The `queryStatus` a query refused with this error answers. @default 400 */
  readonly status: number = 400;

  /** The `error` object sent back to the client. */
  toBody(): RefusalBody {
    return { code: this.code, message: this.message };
  }
}

/** The input broke one or more documented limits; `problems` names every field. */
export class ValidationError extends RefusalError {
  readonly code = 'ValidationError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(problems.join('; '), options);
    this.name = 'ValidationError';
    this.problems = problems;
  }
}

/** A command other than the ones this version supports. */
export class UnsupportedCommandError extends RefusalError {
  readonly code = 'UnsupportedCommand';

  constructor(command: string, supported: readonly string[], options?: ErrorOptions) {
    super(`command ${JSON.stringify(command)} is not supported; expected one of ${supported.join(', ')}`, options);
    this.name = 'UnsupportedCommandError';
  }
}

/** A query other than the ones this version supports. */
export class UnsupportedQueryError extends RefusalError {
  readonly code = 'UnsupportedQuery';

  constructor(query: string, supported: readonly string[], options?: ErrorOptions) {
    super(`query ${JSON.stringify(query)} is not supported; expected one of ${supported.join(', ')}`, options);
    this.name = 'UnsupportedQueryError';
  }
}

/** The same order id arrived again with different content. */
export class OrderConflictError extends RefusalError {
  readonly code = 'OrderConflict';

  constructor(orderId: string, options?: ErrorOptions) {
    super(`order ${JSON.stringify(orderId)} already exists with different content; the stored order was left untouched`, options);
    this.name = 'OrderConflictError';
  }
}

/** The read model does not hold the order: unknown, or not projected yet. Answers `queryStatus: 404`. */
export class OrderNotFoundError extends RefusalError {
  readonly code = 'OrderNotFound';
  override readonly status = 404;

  constructor(orderId: string, options?: ErrorOptions) {
    super(`order ${JSON.stringify(orderId)} is not in the read model: it is unknown, or not projected yet (ask again shortly)`, options);
    this.name = 'OrderNotFoundError';
  }
}

/** A stream record that cannot be projected; the message names every problem. Not a refusal: nobody is waiting for an answer. */
export class MalformedRecordError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedRecordError';
  }
}
