import { DescribeTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadMigrations } from './read-model/migrations';
import { rebuildReadModel, sourceOf, type RebuildProgress } from './read-model/rebuild';
import { readDbSettings, readModelPool } from './shared/db';
import { requireEnv } from './shared/env';
import { logger } from './shared/logger';
import { dbSecret } from './shared/secrets';

const settings = readDbSettings();
// The swap holds its lock on one connection while its rename waits on another.
if (settings.connectionLimit < 2)
  throw new Error(`DB_CONNECTION_LIMIT environment variable must be at least 2 for the rebuild, got ${settings.connectionLimit}`);
const ordersTable = requireEnv('ORDERS_TABLE');
const dynamodb = new DynamoDBClient({});

/** The operator's request: `restart` discards a rebuild in progress. */
interface RebuildRequest {
  readonly restart?: boolean;
}

/**
 * Rebuilds the read model from the orders table (see `rebuildReadModel`).
 * Works until 30 s of its time are left, then returns its progress; the
 * `npm run rebuild-read-model` CLI invokes it again until `stage` is `done`.
 * A pending through-rebuild migration is applied to the fresh tables and
 * recorded with the swap, and the migrations after it then run.
 */
export const lambdaHandler = async (event: RebuildRequest | null, context: Context): Promise<RebuildProgress> => {
  const { Table: table } = await dynamodb.send(new DescribeTableCommand({ TableName: ordersTable }));
  const progress = await rebuildReadModel({
    pool: await readModelPool(settings, context),
    source: sourceOf(ordersTable, table),
    scan: async (cursor) => {
      const page = await dynamodb.send(new ScanCommand({ TableName: ordersTable, ConsistentRead: true, ...(cursor ? { ExclusiveStartKey: cursor } : {}) }));
      return { items: page.Items ?? [], ...(page.LastEvaluatedKey ? { next: page.LastEvaluatedKey } : {}) };
    },
    keepGoing: () => context.getRemainingTimeInMillis() > 30_000,
    restart: event?.restart === true,
    logger,
    migrations: await loadMigrations(),
  });
  logger.info('read model rebuild', { ...progress });
  return progress;
};

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(dbSecret());
