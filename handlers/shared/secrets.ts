import secretsManager from '@middy/secrets-manager';
import type { Context } from 'aws-lambda';
import { assertCredentials, type DbCredentials } from './db';
import { requireEnv } from './env';

/** How long a fetched secret is trusted before it is read again (rotation). */
export const SECRET_CACHE_MS = 5 * 60 * 1000;

/** The Lambda context after {@link dbSecret} ran: `context.db` holds the credentials. */
export type DbContext = Context & { db: DbCredentials };

/**
 * middy middleware that fetches the read-model credentials from Secrets
 * Manager (`DB_SECRET_ID`) into `context.db`, cached for {@link SECRET_CACHE_MS}.
 * The endpoint follows the SDK's configuration (`AWS_ENDPOINT_URL` locally).
 */
export function dbSecret() {
  return secretsManager({
    fetchData: { db: requireEnv('DB_SECRET_ID') },
    setToContext: true,
    cacheExpiry: SECRET_CACHE_MS,
  });
}

/** Returns the credentials that {@link dbSecret} put on the context, checked. */
export function dbCredentials(context: Context): DbCredentials {
  const credentials = (context as Partial<DbContext>).db;
  assertCredentials(credentials);
  return credentials;
}
