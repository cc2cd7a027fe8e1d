/**
 * What a query is: one module per query declares everything about it with
 * {@link defineQuery}, and `registry.ts` lists the modules. The workflow's
 * routing, the functions, their IAM, the local runtime and `npm run query`
 * are all derived from that list.
 */
import type { Pool } from 'mysql2/promise';
import type { RefusalError } from '../domain/errors';

/** Settings of a query's Lambda function. */
interface QueryFunctionSettings {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /**
   * Reserved concurrency: the most connections the function can hold on the
   * read model at once is this times the pool size (see the connection budget).
   */
  readonly reservedConcurrency: number;
  /** Connections each execution environment's pool may open: a query runs one statement at a time. */
  readonly databaseConnections: number;
}

/** Where a page starts: after the row with this key (none: the first page). */
export interface PageRequest {
  readonly after?: string;
  /** Rows to read at most. */
  readonly limit: number;
}

/** Fields an answer carries beside its rows (`orderDetails`: the order's status). */
export interface AnswerFields {
  readonly queryOrderStatus?: string;
}

/** A query's answer: its rows (in its own order) and fields, or a refusal such as `OrderNotFound`. */
type QueryOutcome<Row> = { readonly rows: readonly Row[]; readonly fields?: AnswerFields } | { readonly refusal: RefusalError };

/** One query. */
export interface QueryDefinition<Params = unknown, Row = unknown> {
  /** The `detail.query` that asks for it. */
  readonly name: string;
  /** Kebab-case: the function's name suffix, its bundle, this module's file name. */
  readonly functionName: string;
  /** One line for `npm run query` help. */
  readonly summary: string;
  /** Detail fields taken from `npm run query -- <name> <arguments...>`, in order. */
  readonly arguments: readonly string[];
  /** The p50 (ms) the benchmark holds this query's handler to at 1M order lines (`npm run bench`, its targets). */
  readonly benchTargetMs?: number;
  /**
   * Validates the detail (its `query` already checked); throws a
   * `ValidationError` naming every offending field.
   */
  parse(detail: Readonly<Record<string, unknown>>): Params;
  /** Response fields that echo the request, e.g. `queryItemId`. */
  echo(params: Params): Readonly<Record<string, string>>;
  /** The same, from a detail that failed validation (only string fields short enough to echo). */
  echoRefused(detail: Readonly<Record<string, unknown>>): Readonly<Record<string, string>>;
  /** Reads one page of the answer from the read model, in the query's order. */
  run(pool: Pool, params: Params, page: PageRequest): Promise<QueryOutcome<Row>>;
  /**
   * How the answer pages: the key of a row (the next page starts after it)
   * and whether a key from a token has that form. Absent for an answer that
   * always fits one page: a `pageToken` is then refused.
   */
  readonly paging?: QueryPaging<Row>;
  readonly settings: QueryFunctionSettings;
  /**
   * JSON Schemas for the published event schemas: the detail's fields beyond
   * `query` (with which are required), a row of `queryResult`, and the
   * fields the answer adds (echoes, the order's status).
   */
  readonly schema: {
    readonly detail: { readonly required: readonly string[]; readonly properties: Readonly<Record<string, unknown>> };
    readonly row: Readonly<Record<string, unknown>>;
    readonly answer: Readonly<Record<string, unknown>>;
  };
}

/** How a query's answer pages. */
export interface QueryPaging<Row> {
  key(row: Row): string;
  valid(after: string): boolean;
}

/** Declares a query (a typed identity that keeps its name's literal type: the module is the declaration). */
export function defineQuery<const Name extends string, Params, Row>(
  definition: QueryDefinition<Params, Row> & { readonly name: Name },
): QueryDefinition<Params, Row> & { readonly name: Name } {
  return definition;
}

/** Echoes a string field of a refused detail when it is short enough to keep the response small. */
export function echoString(detail: Readonly<Record<string, unknown>>, field: string, as: string): Record<string, string> {
  const value = detail[field];
  return typeof value === 'string' && value.length <= 256 ? { [as]: value } : {};
}

/** mysql2 returns a BIGINT as a string only when it is not exact as a number. */
export function exactNumber(value: number | string, column: string): number {
  if (typeof value === 'number') return value;
  throw new RangeError(`${column} ${value} is beyond the exact range of JSON numbers`);
}
