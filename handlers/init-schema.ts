import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadMigrations, migrate, type MigrationReport } from './read-model/migrations';
import { connect, readDbSettings, withRotatingCredentials } from './shared/db';
import { logger } from './shared/logger';
import { dbSecret } from './shared/secrets';

const settings = readDbSettings();

/** What the deploy-time trigger receives. */
export interface InitSchemaResult extends MigrationReport {
  readonly database: string;
}

/**
 * Creates the read-model database if missing and applies the pending
 * migrations. Any failure is thrown, so the invocation reports a function
 * error and the deploy stops.
 */
export const lambdaHandler = async (_event: unknown, context: Context): Promise<InitSchemaResult> => {
  const database = settings.database;
  // Connected without a database: the first deploy creates it.
  const connection = await withRotatingCredentials(context, (credentials) => connect(settings, credentials, { database: undefined, multipleStatements: true }));
  try {
    await connection.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [database]);
    await connection.query('USE ??', [database]);
    const report = await migrate(connection, await loadMigrations());
    logger.info('schema ready', { database, ...report });
    return { database, ...report };
  } finally {
    await connection.end().catch((error: unknown) => logger.warn('closing the connection failed', { error }));
  }
};

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(dbSecret());
