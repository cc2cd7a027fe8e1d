import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { PipelineMetric } from '../../config/contract';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { RefusalError, UnsupportedQueryError, ValidationError } from '../domain/errors';
import { messageId, queryDetail, queryRefusal, type QueryEnvelope, type QueryFunctionResult } from './envelope';
import type { QueryDefinition } from './query-definition';
import { decodePageToken, encodePageToken } from './page-token';
import { readDbSettings, readModelPool } from '../shared/db';
import { logger } from '../shared/logger';
import { metrics } from '../shared/metrics';
import { dbSecret } from '../shared/secrets';

/** Counts one answer by query and status (embedded metric format). */
function countAnswer(query: string, status: number): void {
  const answered = metrics.singleMetric();
  answered.addDimension('query', query);
  answered.addDimension('queryStatus', String(status));
  answered.addMetric(PipelineMetric.queriesAnswered, MetricUnit.Count, 1);
}

/**
 * Bytes of `queryResult` per response at most. EventBridge takes 256 KB per
 * event; the rest of the detail and the envelope fit in what is left.
 */
const MAX_RESULT_BYTES = 200 * 1024;

/** Rows read per page at most (fewer when they would not fit {@link MAX_RESULT_BYTES}). */
const MAX_PAGE_ROWS = 1_000;

/**
 * Builds a query's function from its declaration: validate the detail (and
 * its `pageToken`), read one page of the answer, and answer with the detail
 * the workflow publishes: 200 with `queryResult` (and `nextPageToken` while
 * rows remain, so every response fits on the bus whatever the rows' sizes),
 * 400 for bad input, or the query's own refusal such as 404. Database
 * failures are thrown, so the workflow's retry, then its 503, applies.
 */
export function createQueryHandler<Params, Row>(definition: QueryDefinition<Params, Row>) {
  const settings = readDbSettings();

  const lambdaHandler = async (event: QueryEnvelope, context: Context): Promise<QueryFunctionResult> => {
    let params: Params;
    let after: string | undefined;
    try {
      const { detail, query } = queryDetail(event);
      if (query !== definition.name) throw new UnsupportedQueryError(query, [definition.name]);
      params = definition.parse(detail);
      const paging = definition.paging;
      if (!paging && detail.pageToken !== undefined) throw new ValidationError([`detail.pageToken is not accepted: ${definition.name} answers in one page`]);
      after = paging ? decodePageToken(definition.name, params, detail.pageToken, (key) => paging.valid(key)) : undefined;
    } catch (error) {
      if (!(error instanceof RefusalError)) throw error;
      logger.info('query refused', { queryMessageId: event.id, error: error.toBody() });
      countAnswer(definition.name, error.status);
      const detail = typeof event.detail === 'object' && event.detail !== null ? (event.detail as Record<string, unknown>) : {};
      return queryRefusal(event, error, definition.echoRefused(detail));
    }
    const pool = await readModelPool(settings, context);
    const outcome = await definition.run(pool, params, { ...(after !== undefined ? { after } : {}), limit: MAX_PAGE_ROWS + 1 });
    const echo = definition.echo(params);
    if ('refusal' in outcome) {
      logger.info('query refused', { query: definition.name, queryMessageId: event.id, error: outcome.refusal.toBody() });
      countAnswer(definition.name, outcome.refusal.status);
      return queryRefusal(event, outcome.refusal, echo);
    }

    // As many rows as fit, in order; the token continues after the last one sent.
    const page: Row[] = [];
    let bytes = 2;
    for (const row of outcome.rows) {
      const size = Buffer.byteLength(JSON.stringify(row)) + 1;
      if (page.length === MAX_PAGE_ROWS || (page.length > 0 && bytes + size > MAX_RESULT_BYTES)) break;
      page.push(row);
      bytes += size;
    }
    const more = page.length < outcome.rows.length;
    if (more && !definition.paging) throw new Error(`${definition.name} has more rows than one page holds, and no paging`);
    logger.info('query answered', { query: definition.name, queryMessageId: event.id, rows: page.length, more });
    countAnswer(definition.name, 200);
    return {
      statusCode: 200,
      body: {
        query: definition.name,
        queryMessageId: messageId(event),
        ...echo,
        queryStatus: 200,
        ...outcome.fields,
        queryResult: page,
        ...(more && definition.paging ? { nextPageToken: encodePageToken(definition.name, params, definition.paging.key(page[page.length - 1] as Row)) } : {}),
      },
    };
  };

  return middy(lambdaHandler)
    .use(injectLambdaContext(logger, { clearState: true }))
    .use(dbSecret());
}
