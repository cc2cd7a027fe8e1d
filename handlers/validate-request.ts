import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { DetailType } from '../config/pipeline';
import { validateCommand, type CommandValidation } from './domain/command';
import type { CommandEnvelope } from './domain/order';
import { refuseUnroutedQuery, type QueryResponseDetail } from './domain/query';
import { logger } from './shared/logger';

/** The envelope fields this function reads. */
export interface RequestEnvelope extends CommandEnvelope {
  readonly 'detail-type'?: unknown;
}

/** What the workflow receives: a command's validation, or a query's refusal. */
export type RequestValidation = CommandValidation | { readonly valid: false; readonly response: QueryResponseDetail };

/**
 * Validates a request for the workflow, with no I/O:
 * - `orderCommand`: the orders-table item and the responses to publish, or the refusal;
 * - `orderQuery` the workflow could not route: the `queryStatus: 400` refusal.
 * Bad input is an answer, never an error.
 */
export const lambdaHandler = async (event: RequestEnvelope): Promise<RequestValidation> => {
  if (event['detail-type'] === DetailType.query) {
    const refusal = refuseUnroutedQuery(event);
    logger.info('query refused', { queryMessageId: event.id, error: refusal.body.error });
    return { valid: false, response: refusal.body };
  }
  const result = validateCommand(event);
  if (result.valid) {
    logger.info('command accepted', { orderId: result.orderId, commandMessageId: event.id });
  } else {
    logger.info('command refused', { orderId: result.response.orderid, commandMessageId: event.id, error: result.response.error });
  }
  return result;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger, { clearState: true }));
