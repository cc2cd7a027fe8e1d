import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { validateCommand, type CommandEnvelope, type CommandValidation } from './domain/order';
import { logger } from './shared/logger';

/**
 * Validates an `orderCommand` for the workflow. Returns the orders-table item
 * and the responses to publish, or the refusal to publish; bad input is an
 * answer, never an error.
 */
export const lambdaHandler = async (event: CommandEnvelope): Promise<CommandValidation> => {
  const result = validateCommand(event);
  if (result.valid) {
    logger.info('command accepted', { orderId: result.orderId, commandMessageId: event.id });
  } else {
    logger.info('command refused', {
      orderId: result.response.orderid,
      commandMessageId: event.id,
      error: result.response.error,
    });
  }
  return result;
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger, { clearState: true }));
