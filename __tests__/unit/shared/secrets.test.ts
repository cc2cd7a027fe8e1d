import { describe, expect, it } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { dbCredentials, dbSecret } from '../../../handlers/shared/secrets';

/** A Secrets Manager client that answers from a script of outcomes. */
function scriptedClient(outcomes: (string | Error)[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    send: async () => {
      const outcome = outcomes[Math.min(calls++, outcomes.length - 1)];
      if (outcome instanceof Error) throw outcome;
      return { SecretString: outcome };
    },
  };
}

const credentials = JSON.stringify({ username: 'app', password: 'pa#ss' });
const invoke = async (middleware: ReturnType<typeof dbSecret>) => {
  const request = { context: {} as Context, event: {}, response: undefined, error: undefined, internal: {} };
  await middleware.before?.(request as never);
  return dbCredentials(request.context);
};

describe('dbSecret', () => {
  it('fetches once at load and serves the cached credentials until they expire', async () => {
    const client = scriptedClient([credentials]);
    const middleware = dbSecret({ secretId: 'secret', client: client as never });
    expect(await invoke(middleware)).toEqual({ username: 'app', password: 'pa#ss' });
    expect(await invoke(middleware)).toEqual({ username: 'app', password: 'pa#ss' });
    expect(client.calls).toBe(1);
  });

  it('fails only the invocation that meets a failed fetch, and fetches again on the next one', async () => {
    // Prepare: a failed prefetch nobody awaits would be an unhandled rejection that ends the environment.
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    const client = scriptedClient([new Error('throttled'), credentials]);
    const middleware = dbSecret({ secretId: 'secret', client: client as never });
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Act and assess
    await expect(invoke(middleware)).rejects.toThrow('throttled');
    expect(await invoke(middleware)).toEqual({ username: 'app', password: 'pa#ss' });
    process.off('unhandledRejection', record);
    expect(unhandled).toEqual([]);
  });

  it('reads the secret again after it expired, inside an invocation', async () => {
    const client = scriptedClient([credentials, JSON.stringify({ username: 'app', password: 'rotated' })]);
    const middleware = dbSecret({ secretId: 'secret', client: client as never, cacheMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await invoke(middleware)).password).toBe('rotated');
  });

  it('never quotes a secret that is not JSON in its error', async () => {
    const middleware = dbSecret({ secretId: 'secret', client: scriptedClient(['password=hunter2']) as never });
    await expect(invoke(middleware)).rejects.toThrow('the database secret is not JSON');
    await expect(invoke(dbSecret({ secretId: 'secret', client: scriptedClient(['password=hunter2']) as never }))).rejects.not.toThrow(/hunter2/);
  });
});
