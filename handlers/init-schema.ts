import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { loadMigrations, migrate, type MigrationReport } from './read-model/migrations';
import { rotateRoleUser, type DatabaseRole } from './read-model/users';
import { connect, readDbSettings, withRotatingCredentials } from './shared/db';
import { requireEnv } from './shared/env';
import { logger } from './shared/logger';
import { dbSecret } from './shared/secrets';

const settings = readDbSettings();
/** Where each role's credentials go: the secrets Terraform created empty. */
const roleSecrets: Readonly<Record<DatabaseRole, string>> = {
  reader: requireEnv('DB_READER_SECRET_ID'),
  writer: requireEnv('DB_WRITER_SECRET_ID'),
};
const secretsManager = new SecretsManagerClient({});
/** Time a migration step may need at least: its lock waits and pauses, and a short DDL. */
const STEP_RESERVE_MS = 120_000;

/**
 * The user a role's secret names now, or undefined when the secret has no
 * value yet (the first deploy: Terraform creates it empty) or holds none.
 * Only the user name is read out of it; the password is never kept.
 */
async function currentUser(secretId: string): Promise<string | undefined> {
  let text: string | undefined;
  try {
    text = (await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw new Error(`reading the role secret ${secretId} failed: ${(error as Error).name}`, { cause: error });
  }
  try {
    const username = (JSON.parse(text ?? '') as { username?: unknown }).username;
    return typeof username === 'string' ? username : undefined;
  } catch {
    return undefined;
  }
}

/** What the deploy-time trigger receives. */
interface InitSchemaResult extends MigrationReport {
  readonly database: string;
  /** The role users now in service, with new passwords in their secrets (each role's other user was left as it was). */
  readonly users: readonly string[];
}

/**
 * Creates the read-model database if missing, applies the pending
 * migrations, then rotates each role: its other user (`users.ts`, alternating
 * users) gets a new random password and the role's privileges, and the role's
 * secret is written to name it. The user the secret named before keeps working
 * untouched, so no function's connection or cached secret is refused by a
 * rotation. Any failure is thrown, so the invocation reports a function error
 * and the deploy stops. Invoking the function rotates (docs/operations.md).
 */
export const lambdaHandler = async (_event: unknown, context: Context): Promise<InitSchemaResult> => {
  const database = settings.database;
  // Connected without a database: the first deploy creates it.
  const connection = await withRotatingCredentials(context, (credentials) => connect(settings, credentials, { database: undefined, multipleStatements: true }));
  try {
    await connection.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [database]);
    await connection.query('USE ??', [database]);
    const report = await migrate(connection, await loadMigrations(), {
      // No step starts with less than this left: a DDL step on a large table builds for minutes.
      keepGoing: () => context.getRemainingTimeInMillis() > STEP_RESERVE_MS,
      onStep: (step) => logger.info('migration step', { ...step }),
      logger,
    });
    if (report.awaitingRebuild.length > 0)
      logger.warn('migrations wait for the rebuild (npm run rebuild-read-model)', { awaitingRebuild: report.awaitingRebuild });
    const users: string[] = [];
    for (const role of Object.keys(roleSecrets) as DatabaseRole[]) {
      // The other user ready first (password, privileges), then the secret names it: whoever
      // reads the new secret can connect, and whoever holds the old one still can.
      const credentials = await rotateRoleUser(connection, role, database, await currentUser(roleSecrets[role]));
      await secretsManager.send(new PutSecretValueCommand({ SecretId: roleSecrets[role], SecretString: JSON.stringify(credentials) }));
      users.push(credentials.username);
    }
    logger.info('schema ready', { database, ...report, users });
    return { database, ...report, users };
  } finally {
    await connection.end().catch((error: unknown) => logger.warn('closing the connection failed', { error }));
  }
};

export const handler = middy(lambdaHandler)
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(dbSecret());
