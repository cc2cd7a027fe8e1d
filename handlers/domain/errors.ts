/**
 * Errors of the order domain. Each carries the `code` that refusal events
 * report in `error.code`, so the contract's codes live in one place.
 */
import { PipelineError } from '../shared/errors';

/**
 * Codes of the `error` object in refusal events: the one list. The workflow's
 * own refusals (`ServiceUnavailable`, written in the ASL) are checked against
 * it when the workflow is rendered.
 */
export const REFUSAL_CODES = ['ValidationError', 'OrderConflict', 'UnsupportedCommand', 'UnsupportedQuery', 'OrderNotFound', 'ServiceUnavailable'] as const;

/** One of {@link REFUSAL_CODES}. */
export type RefusalCode = (typeof REFUSAL_CODES)[number];

/** The `error` object of `orderRejected` and `queryStatus: 400` responses. */
export interface RefusalBody {
  readonly code: RefusalCode;
  readonly message: string;
}

/** Characters of a client's value a refusal quotes at most. */
const MAX_ECHO_CHARACTERS = 64;

/** Characters of a refusal's whole message at most: every answer fits on the bus whatever the input. */
export const MAX_REFUSAL_MESSAGE_CHARACTERS = 4_096;

/**
 * A client's value as a refusal quotes it: JSON, cut to
 * {@link MAX_ECHO_CHARACTERS} with the full length said, so an answer never
 * grows with the input (a 300 KB `command` would not fit on the bus).
 */
function echo(value: string): string {
  const characters = [...value];
  if (characters.length <= MAX_ECHO_CHARACTERS) return JSON.stringify(value);
  return `${JSON.stringify(characters.slice(0, MAX_ECHO_CHARACTERS).join(''))}… (${characters.length} characters)`;
}

/** Base class of every refusal the pipeline answers to a client. */
export abstract class RefusalError extends PipelineError {
  abstract readonly code: RefusalCode;
  /** The `queryStatus` a query refused with this error answers. @default 400 */
  readonly status: number = 400;

  /** The `error` object sent back to the client. */
  toBody(): RefusalBody {
    const characters = [...this.message];
    const message =
      characters.length <= MAX_REFUSAL_MESSAGE_CHARACTERS
        ? this.message
        : `${characters.slice(0, MAX_REFUSAL_MESSAGE_CHARACTERS).join('')}… (message cut at ${MAX_REFUSAL_MESSAGE_CHARACTERS} characters)`;
    return { code: this.code, message };
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
    super(`command ${echo(command)} is not supported; expected one of ${supported.join(', ')}`, options);
    this.name = 'UnsupportedCommandError';
  }
}

/** A query other than the ones this version supports. */
export class UnsupportedQueryError extends RefusalError {
  readonly code = 'UnsupportedQuery';

  constructor(query: string, supported: readonly string[], options?: ErrorOptions) {
    super(`query ${echo(query)} is not supported; expected one of ${supported.join(', ')}`, options);
    this.name = 'UnsupportedQueryError';
  }
}

/** The same order id arrived again with different content. */
export class OrderConflictError extends RefusalError {
  readonly code = 'OrderConflict';

  constructor(orderId: string, options?: ErrorOptions) {
    super(`order ${echo(orderId)} already exists with different content; the stored order was left untouched`, options);
    this.name = 'OrderConflictError';
  }
}

/** The read model does not hold the order: unknown, or not projected yet. Answers `queryStatus: 404`. */
export class OrderNotFoundError extends RefusalError {
  readonly code = 'OrderNotFound';
  override readonly status = 404;

  constructor(orderId: string, options?: ErrorOptions) {
    super(`order ${echo(orderId)} is not in the read model: it is unknown, or not projected yet (ask again shortly)`, options);
    this.name = 'OrderNotFoundError';
  }
}

/** A command names an order the orders table does not hold. */
export class UnknownOrderError extends RefusalError {
  readonly code = 'OrderNotFound';

  constructor(orderId: string, options?: ErrorOptions) {
    super(`order ${echo(orderId)} does not exist; only a created order can be changed`, options);
    this.name = 'UnknownOrderError';
  }
}

/** The stored order changed between a command's conditional write and its read-back: sending the command again settles it. */
export class OrderChangedError extends RefusalError {
  readonly code = 'ServiceUnavailable';

  constructor(orderId: string, options?: ErrorOptions) {
    super(`order ${echo(orderId)} changed while the command ran; sending the command again is safe`, options);
    this.name = 'OrderChangedError';
  }
}

/** A stream record that cannot be projected; the message names every problem. Not a refusal: nobody is waiting for an answer. */
export class MalformedRecordError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MalformedRecordError';
  }
}
