import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Pool } from 'mysql2/promise';
import { RefusalError } from '../domain/errors';
import {
  parseQuery,
  queryAnswer,
  queryRefusal,
  type ItemSalesRow,
  type MonthlySalesRow,
  type QueryEnvelope,
  type QueryFunctionResult,
  type QueryName,
  type SalesQuery,
} from '../domain/query';
import { getPool, readDbSettings } from './db';
import { logger } from './logger';
import { dbCredentials, dbSecret } from './secrets';

/** Reads the rows of one query from the read model. */
export type QueryRunner<Q extends QueryName> = (
  pool: Pool,
  query: Extract<SalesQuery, { query: Q }>,
) => Promise<readonly ItemSalesRow[] | readonly MonthlySalesRow[]>;

/**
 * Builds a query function: validate the detail, read the maintained
 * aggregates, answer `statusCode` 200 or 400 with the detail the workflow
 * publishes. Database failures are thrown, so the workflow's retry applies.
 */
export function createQueryHandler<Q extends QueryName>(name: Q, run: QueryRunner<Q>) {
  const settings = readDbSettings();

  const lambdaHandler = async (event: QueryEnvelope, context: Context): Promise<QueryFunctionResult> => {
    let query: Extract<SalesQuery, { query: Q }>;
    try {
      // parseQuery refuses any query other than `name`.
      query = parseQuery(event.detail, name) as Extract<SalesQuery, { query: Q }>;
    } catch (error) {
      if (!(error instanceof RefusalError)) throw error;
      logger.info('query refused', { queryMessageId: event.id, error: error.toBody() });
      return queryRefusal(event, error);
    }
    const rows = await run(await getPool(settings, dbCredentials(context)), query);
    logger.info('query answered', { query: name, queryMessageId: event.id, rows: rows.length });
    return queryAnswer(event, query, rows);
  };

  return middy(lambdaHandler)
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(dbSecret());
}
