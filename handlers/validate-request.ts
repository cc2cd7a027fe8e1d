import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DetailType, PipelineMetric } from '../config/contract';
import { validateCommand, type CommandValidation } from './commands/validate-command';
import type { CommandEnvelope } from './domain/order';
import { RefusalError, UnsupportedQueryError } from './domain/errors';
import { queryDetail, queryRefusal, type QueryEnvelope, type QueryFunctionResult, type QueryResponseDetail } from './queries/envelope';
import { requireEnv } from './shared/env';
import { logger } from './shared/logger';
import { metrics } from './shared/metrics';

/**
 * The queries the workflow routes to their functions (from the registry, set
 * by the stacks): named in refusals, without carrying any query's code.
 */
const supportedQueries = requireEnv('SUPPORTED_QUERIES').split(',');

/** The envelope fields this function reads. */
interface RequestEnvelope extends CommandEnvelope {
  readonly 'detail-type'?: unknown;
}

/** What the workflow receives: a command's validation, or a query's refusal. */
type RequestValidation = CommandValidation | { readonly valid: false; readonly response: QueryResponseDetail };

/**
 * Validates a request for the workflow, with no I/O:
 * - `orderCommand`: the orders-table item and the responses to publish, or the refusal;
 * - `orderQuery` the workflow could not route: the `queryStatus: 400` refusal.
 * Bad input is an answer, never an error.
 */
export const lambdaHandler = async (event: RequestEnvelope): Promise<RequestValidation> => {
  if (event['detail-type'] === DetailType.query) {
    const refusal = refuseUnroutedQuery(event, supportedQueries);
    logger.info('query refused', { queryMessageId: event.id, error: refusal.body.error });
    return { valid: false, response: refusal.body };
  }
  const result = validateCommand(event);
  if (result.valid) {
    logger.info('command accepted', { orderId: result.orderId, commandMessageId: event.id });
    metrics.addMetric(PipelineMetric.commandsAccepted, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  } else {
    logger.info('command refused', { orderId: result.response.orderid, commandMessageId: event.id, error: result.response.error });
    // Refusals by code: a rise in one code (ValidationError from one client, say) shows on the dashboard.
    const refused = metrics.singleMetric();
    refused.addDimension('errorCode', result.response.error?.code ?? 'unknown');
    refused.addMetric(PipelineMetric.commandsRefused, MetricUnit.Count, 1);
  }
  return result;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger, { clearState: true }));

/**
 * Answers a query the workflow could not route to a query function: a missing
 * or non-string `query`, or one this version does not support. Always a
 * `queryStatus: 400` refusal; a routable query reaching here is a bug.
 */
export function refuseUnroutedQuery(envelope: QueryEnvelope, supported: readonly string[]): QueryFunctionResult {
  let refusal: RefusalError;
  try {
    const { query } = queryDetail(envelope);
    if (supported.includes(query)) throw new Error(`query ${query} should have been routed to its function`);
    refusal = new UnsupportedQueryError(query, supported);
  } catch (error) {
    if (!(error instanceof RefusalError)) throw error;
    refusal = error;
  }
  return queryRefusal(envelope, refusal);
}
