import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createProjection } from './read-model/projection';
import { readDbSettings, readModelPool } from './shared/db';
import { requireEnv } from './shared/env';
import { logger } from './shared/logger';
import { dbSecret } from './shared/secrets';

const settings = readDbSettings();

/** The deployed projection: DynamoDB idempotency store, one pool per cold start. */
export const lambdaHandler = createProjection({
  pool: (context) => readModelPool(settings, context),
  persistenceStore: new DynamoDBPersistenceLayer({ tableName: requireEnv('IDEMPOTENCY_TABLE') }),
});

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(dbSecret());
