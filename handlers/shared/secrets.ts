import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type middy from '@middy/core';
import secretsManager from '@middy/secrets-manager';
import { clearCache, getCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { requireEnv } from './env';

/** The fields the handlers read from the database secret. */
export interface DbCredentials {
  readonly username: string;
  readonly password: string;
}

/** Checks the secret's shape without ever echoing its values. */
function assertCredentials(value: unknown): asserts value is DbCredentials {
  const secret = value as Partial<DbCredentials> | undefined;
  if (typeof secret?.username !== 'string' || typeof secret.password !== 'string') {
    throw new Error('database secret must be a JSON object with string "username" and "password" fields');
  }
}

/** The Lambda context after {@link dbSecret} ran: `context.db` holds the credentials. */
type DbContext = Context & { db: DbCredentials };

/** Options of {@link dbSecret}. */
export interface DbSecretOptions {
  /** The secret's ARN or name. @default the `DB_SECRET_ID` environment variable */
  readonly secretId?: string;
  /**
   * The Secrets Manager client class middy instantiates (tests script one).
   * @default SecretsManagerClient, configured from the SDK's environment (`AWS_ENDPOINT_URL` locally)
   */
  readonly AwsClient?: new (config: object) => Pick<SecretsManagerClient, 'send'>;
}

const REFRESH = Symbol('refreshDbSecret');
type Refreshable = Context & { [REFRESH]?: () => Promise<DbCredentials> };

/**
 * `@middy/secrets-manager`, configured so that a failed fetch can only ever
 * fail the invocation that awaits it:
 *
 * - `cacheExpiry: -1`: the value is cached for the life of the execution
 *   environment and no background refresh is ever scheduled. With a positive
 *   expiry middy sets a timer whose failed fetch is an unhandled rejection,
 *   which ends the whole environment (middy issue #1030).
 * - The prefetch at load gets a handler, so a prefetch that fails before the
 *   first invocation awaits it is not an unhandled rejection either; middy
 *   marks the failed key and the next invocation fetches it again.
 * - Rotation is explicit: when MySQL refuses the credentials, the caller
 *   clears this secret's cache and reads it again inside the same invocation
 *   ({@link refreshDbSecret}). Aurora's managed master secret rotates every
 *   7 days by default, so this path runs in production.
 *
 * The credentials are set on `context.db`, checked for shape without ever
 * echoing a value.
 */
export function dbSecret(options: DbSecretOptions = {}): middy.MiddlewareObj<unknown, unknown, Error, Context> {
  const secretId = options.secretId ?? requireEnv('DB_SECRET_ID');
  // One cache entry per secret: two middlewares for two secrets never share a value.
  const cacheKey = `db-secret:${secretId}`;
  const middleware = secretsManager({
    fetchData: { db: secretId },
    cacheKey,
    cacheExpiry: -1,
    setToContext: true,
    ...(options.AwsClient ? { AwsClient: options.AwsClient as never } : {}),
  });
  handlePrefetch(cacheKey);

  const load = async (request: middy.Request<unknown, unknown, Error, Context>): Promise<DbCredentials> => {
    try {
      await middleware.before?.(request as never);
    } catch (error) {
      // middy wraps the fetch failures; say which secret, keep the SDK's error as the cause.
      const causes = ((error as { cause?: { data?: unknown[] } }).cause?.data ?? [error]) as Error[];
      // eslint-disable-next-line preserve-caught-error -- the cause is the SDK's error itself, not middy's wrapper around it.
      throw new Error(`reading the database secret failed: ${causes.map((cause) => `${cause.name}: ${cause.message}`).join('; ')}`, { cause: causes[0] });
    }
    const credentials = (request.context as Partial<DbContext>).db;
    try {
      assertCredentials(credentials);
    } catch (error) {
      // A malformed secret is not kept: once an operator fixes it, the next invocation reads it.
      clearCache([cacheKey]);
      throw error;
    }
    return credentials;
  };

  return {
    before: async (request) => {
      await load(request);
      (request.context as Refreshable)[REFRESH] = async () => {
        clearCache([cacheKey]);
        return load(request);
      };
    },
  };
}

/** Gives middy's prefetched promise a handler (its failure is seen by the invocation that awaits it). */
function handlePrefetch(cacheKey: string): void {
  const prefetched = (getCache(cacheKey) as { value?: Record<string, unknown> }).value ?? {};
  for (const value of Object.values(prefetched)) {
    if (value instanceof Promise) value.catch(() => undefined);
  }
}

/** Returns the credentials that {@link dbSecret} put on the context, checked. */
export function dbCredentials(context: Context): DbCredentials {
  const credentials = (context as Partial<DbContext>).db;
  assertCredentials(credentials);
  return credentials;
}

/**
 * Drops the cached secret and reads it again, inside the current invocation
 * (after MySQL refused the credentials: the password rotated).
 */
export async function refreshDbSecret(context: Context): Promise<DbCredentials> {
  const refresh = (context as Refreshable)[REFRESH];
  if (!refresh) throw new Error('refreshDbSecret needs the dbSecret middleware');
  return refresh();
}
