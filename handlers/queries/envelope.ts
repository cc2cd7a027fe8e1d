/**
 * The query side's envelope and responses: what a query function receives
 * from the workflow, and the `orderQueryResponse` detail it answers with.
 * Each query itself is declared in its own module beside this one.
 */
import { RefusalError, ValidationError, type RefusalBody } from '../domain/errors';
import { describeType } from '../domain/limits';

/** The EventBridge envelope fields the workflow passes to a query function. */
export interface QueryEnvelope {
  readonly id?: unknown;
  readonly detail?: unknown;
}

/** HTTP-like status of a query response. */
type QueryStatus = 200 | 400 | 404 | 503;

/** Detail of an `orderQueryResponse` event. */
export interface QueryResponseDetail {
  readonly query: string | null;
  readonly queryMessageId: string | null;
  /** Fields echoing the request (`queryItemId`, `queryOrderId`). */
  readonly [echo: `query${string}Id`]: string | null | undefined;
  readonly queryStatus: QueryStatus;
  /** `orderDetails`: `created`, or the status a command left the order in (`cancelled`). */
  readonly queryOrderStatus?: string;
  readonly queryResult?: readonly unknown[];
  /** Present when more rows remain: ask again with `pageToken` set to it. */
  readonly nextPageToken?: string;
  readonly error?: RefusalBody;
}

/** What a query function returns to the workflow, which publishes `body`. */
export interface QueryFunctionResult {
  readonly statusCode: QueryStatus;
  readonly body: QueryResponseDetail;
}

/** The `id` of the query event, if it is one. */
export function messageId(envelope: QueryEnvelope): string | null {
  return typeof envelope.id === 'string' ? envelope.id : null;
}

/** The detail's `query`, when it is a string short enough to echo. */
function echoedQuery(detail: unknown): string | null {
  const query = typeof detail === 'object' && detail !== null ? (detail as Record<string, unknown>).query : undefined;
  return typeof query === 'string' && query.length <= 256 ? query : null;
}

/** Builds a refusal (`400`, or the refusal's own status such as `404`). */
export function queryRefusal(envelope: QueryEnvelope, error: RefusalError, echo: Readonly<Record<string, string>> = {}): QueryFunctionResult {
  const status = (error.status ?? 400) as QueryStatus;
  return {
    statusCode: status,
    body: { query: echoedQuery(envelope.detail), queryMessageId: messageId(envelope), ...echo, queryStatus: status, error: error.toBody() },
  };
}

/** Checks the envelope's detail is an object with a string `query`; returns both. */
export function queryDetail(envelope: QueryEnvelope): { detail: Record<string, unknown>; query: string } {
  const { detail } = envelope;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    throw new ValidationError([`detail must be an object, got ${describeType(detail)}`]);
  const { query } = detail as Record<string, unknown>;
  if (query === undefined || query === null) throw new ValidationError(['detail.query is required']);
  if (typeof query !== 'string') throw new ValidationError([`detail.query must be a string, got ${describeType(query)}`]);
  return { detail: detail as Record<string, unknown>, query };
}
