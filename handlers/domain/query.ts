import { RefusalError, UnsupportedQueryError, ValidationError, type RefusalBody } from './errors';
import { describeType, itemIdProblem } from './limits';

/** The queries this version supports. */
export const SUPPORTED_QUERIES = ['itemsSalesReport', 'monthlySalesByItem'] as const;

/** A supported query's name. */
export type QueryName = (typeof SUPPORTED_QUERIES)[number];

/** A validated query. */
export type SalesQuery =
  | { readonly query: 'itemsSalesReport' }
  | { readonly query: 'monthlySalesByItem'; readonly itemId: string };

/** One row of `itemsSalesReport`. */
export interface ItemSalesRow {
  readonly itemid: string;
  readonly totalordered: number;
  /** `YYYY-MM-DD`, UTC. */
  readonly lastorderdate: string;
}

/** One row of `monthlySalesByItem`. */
export interface MonthlySalesRow {
  /** English month and year, e.g. `October 2022`. */
  readonly monthyear: string;
  readonly monthlyordered: number;
}

/** The EventBridge envelope fields the workflow passes to a query function. */
export interface QueryEnvelope {
  readonly id?: unknown;
  readonly detail?: unknown;
}

/** Detail of an `orderQueryResponse` event. */
export interface QueryResponseDetail {
  readonly query: string | null;
  readonly queryMessageId: string | null;
  readonly queryItemId?: string;
  readonly queryStatus: 200 | 400;
  readonly queryResult?: readonly ItemSalesRow[] | readonly MonthlySalesRow[];
  readonly error?: RefusalBody;
}

/** What a query function returns to the workflow, which publishes `body`. */
export interface QueryFunctionResult {
  readonly statusCode: 200 | 400;
  readonly body: QueryResponseDetail;
}

/**
 * Validates a query's detail. `expected` is the query the calling function
 * serves: a query routed to the wrong function is refused, not answered.
 */
export function parseQuery(detail: unknown, expected: QueryName): SalesQuery {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new ValidationError([`detail must be an object, got ${describeType(detail)}`]);
  }
  const { query, itemid } = detail as Record<string, unknown>;
  if (query === undefined || query === null) throw new ValidationError(['detail.query is required']);
  if (typeof query !== 'string') throw new ValidationError([`detail.query must be a string, got ${describeType(query)}`]);
  if (query !== expected) throw new UnsupportedQueryError(query, [expected]);
  if (query === 'itemsSalesReport') return { query };
  const problem = itemIdProblem(itemid);
  if (problem) throw new ValidationError([`detail.itemid ${problem}`]);
  return { query, itemId: itemid as string };
}

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
] as const;

/** `2022-10-01` → `October 2022`, independent of any server or process locale. */
export function monthYear(monthStart: string): string {
  const month = MONTHS[Number(monthStart.slice(5, 7)) - 1];
  if (month === undefined) throw new Error(`not a month start date: ${monthStart}`);
  return `${month} ${monthStart.slice(0, 4)}`;
}

/** Reads the `id` of the query event, if it is one. */
function messageId(envelope: QueryEnvelope): string | null {
  return typeof envelope.id === 'string' ? envelope.id : null;
}

/** Builds a successful response. */
export function queryAnswer(
  envelope: QueryEnvelope,
  query: SalesQuery,
  rows: readonly ItemSalesRow[] | readonly MonthlySalesRow[],
): QueryFunctionResult {
  return {
    statusCode: 200,
    body: {
      query: query.query,
      queryMessageId: messageId(envelope),
      ...(query.query === 'monthlySalesByItem' ? { queryItemId: query.itemId } : {}),
      queryStatus: 200,
      queryResult: rows,
    },
  };
}

/** Builds the `queryStatus: 400` response for a refused query. */
export function queryRefusal(envelope: QueryEnvelope, error: RefusalError): QueryFunctionResult {
  const detail = envelope.detail as Record<string, unknown> | null | undefined;
  const query = typeof detail === 'object' && detail !== null && typeof detail.query === 'string' ? detail.query : null;
  const itemid = typeof detail === 'object' && detail !== null ? detail.itemid : undefined;
  return {
    statusCode: 400,
    body: {
      query: query !== null && query.length <= 256 ? query : null,
      queryMessageId: messageId(envelope),
      ...(typeof itemid === 'string' && itemid.length <= 256 ? { queryItemId: itemid } : {}),
      queryStatus: 400,
      error: error.toBody(),
    },
  };
}

/**
 * Answers a query the workflow could not route to a query function: a missing
 * or non-string `query`, or one this version does not support. Always a
 * `queryStatus: 400` refusal; a routable query reaching here is a bug.
 */
export function refuseUnroutedQuery(envelope: QueryEnvelope): QueryFunctionResult {
  const detail = envelope.detail;
  let refusal: RefusalError;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    refusal = new ValidationError([`detail must be an object, got ${describeType(detail)}`]);
  } else {
    const { query } = detail as Record<string, unknown>;
    if (query === undefined || query === null) refusal = new ValidationError(['detail.query is required']);
    else if (typeof query !== 'string') refusal = new ValidationError([`detail.query must be a string, got ${describeType(query)}`]);
    else if ((SUPPORTED_QUERIES as readonly string[]).includes(query)) throw new Error(`query ${query} should have been routed to its function`);
    else refusal = new UnsupportedQueryError(query.length > 64 ? `${query.slice(0, 64)}…` : query, SUPPORTED_QUERIES);
  }
  return queryRefusal(envelope, refusal);
}
