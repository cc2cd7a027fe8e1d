import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { assertCredentials, type DbCredentials } from './db';
import { requireEnv } from './env';

/** How long a fetched secret is trusted before it is read again (rotation). */
export const SECRET_CACHE_MS = 5 * 60 * 1000;

/** The Lambda context after {@link dbSecret} ran: `context.db` holds the credentials. */
export type DbContext = Context & { db: DbCredentials };

/** Options of {@link dbSecret}. */
export interface DbSecretOptions {
  /** The secret's ARN or name. @default the `DB_SECRET_ID` environment variable */
  readonly secretId?: string;
  /** The client; one per cold start. @default a Secrets Manager client from the SDK's configuration (`AWS_ENDPOINT_URL` locally) */
  readonly client?: Pick<SecretsManagerClient, 'send'>;
  /** @default {@link SECRET_CACHE_MS} */
  readonly cacheMs?: number;
}

/**
 * middy middleware that puts the read-model credentials from Secrets Manager
 * into `context.db`. The fetch starts at load (it overlaps the cold start) and
 * the value is cached for {@link SECRET_CACHE_MS}, then fetched again inside
 * the next invocation. Unlike a background refresh timer, a fetch that fails
 * is always awaited by an invocation: it fails that invocation (which is
 * retried), never the whole execution environment with an unhandled rejection.
 */
export function dbSecret(options: DbSecretOptions = {}): middy.MiddlewareObj<unknown, unknown, Error, Context> {
  const secretId = options.secretId ?? requireEnv('DB_SECRET_ID');
  const cacheMs = options.cacheMs ?? SECRET_CACHE_MS;
  let client = options.client;
  let cached: { value: Promise<DbCredentials>; fetchedAt: number } | undefined;

  const fetchSecret = () => {
    client ??= new SecretsManagerClient({});
    const value = client.send(new GetSecretValueCommand({ SecretId: secretId })).then((response) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(response.SecretString ?? 'null');
      } catch {
        // JSON.parse's own message quotes the text: the password must not reach a log.
        throw new Error('the database secret is not JSON');
      }
      assertCredentials(parsed);
      return parsed;
    });
    // Handled here: the invocation that awaits it sees the failure; nothing else does.
    value.catch(() => undefined);
    cached = { value, fetchedAt: Date.now() };
    return cached;
  };
  fetchSecret();

  return {
    before: async (request) => {
      if (!cached || Date.now() - cached.fetchedAt > cacheMs) fetchSecret();
      const current = cached as { value: Promise<DbCredentials> };
      try {
        (request.context as DbContext).db = await current.value;
      } catch (error) {
        // The next invocation fetches again instead of reusing the failure.
        if (cached === current) cached = undefined;
        throw error;
      }
    },
  };
}

/** Returns the credentials that {@link dbSecret} put on the context, checked. */
export function dbCredentials(context: Context): DbCredentials {
  const credentials = (context as Partial<DbContext>).db;
  assertCredentials(credentials);
  return credentials;
}
