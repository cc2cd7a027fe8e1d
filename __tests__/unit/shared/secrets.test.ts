import { describe, expect, it } from '@jest/globals';
import { getCache } from '@middy/util';
import type { Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { dbCredentials, dbSecret, refreshDbSecret } from '../../../handlers/shared/secrets';

/**
 * A Secrets Manager client class for middy to instantiate, answering from a
 * script of outcomes (the last one repeats).
 */
function scriptedClient(outcomes: (string | Error)[]) {
  const state = { calls: 0 };
  class ScriptedClient {
    async send() {
      const outcome = outcomes[Math.min(state.calls++, outcomes.length - 1)];
      await new Promise((resolve) => setTimeout(resolve, 1));
      if (outcome instanceof Error) throw outcome;
      return { SecretString: outcome };
    }
  }
  return { AwsClient: ScriptedClient, state };
}

/** A secret id of its own per test: middy's cache is per execution environment. */
const secretId = () => `secret-${randomBytes(4).toString('hex')}`;
const credentials = JSON.stringify({ username: 'app', password: 'pa#ss-3f9' });
const request = () => ({ context: {} as Context, event: {}, response: undefined, error: undefined, internal: {} });
const invoke = async (middleware: ReturnType<typeof dbSecret>, current = request()) => {
  await middleware.before?.(current as never);
  return dbCredentials(current.context);
};
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

/** Records unhandled rejections while `work` runs: each one would end a Lambda execution environment. */
async function unhandledDuring(work: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    await work();
    await settle();
  } finally {
    process.off('unhandledRejection', record);
  }
  return unhandled;
}

describe('dbSecret (@middy/secrets-manager without background refresh)', () => {
  it('prefetches at load and serves the cached credentials to every invocation, scheduling no refresh timer', async () => {
    // Prepare
    const client = scriptedClient([credentials]);
    const id = secretId();

    // Act
    const middleware = dbSecret({ secretId: id, AwsClient: client.AwsClient });
    const first = await invoke(middleware);
    const second = await invoke(middleware);

    // Assess
    expect(first).toEqual({ username: 'app', password: 'pa#ss-3f9' });
    expect(second).toEqual(first);
    expect(client.state.calls).toBe(1);
    expect((getCache(`db-secret:${id}`) as { refresh?: unknown }).refresh).toBeUndefined();
  });

  it('a failed prefetch is no unhandled rejection: it is fetched again by the first invocation', async () => {
    const client = scriptedClient([new Error('Rate exceeded'), credentials]);
    let outcome: unknown;

    const unhandled = await unhandledDuring(async () => {
      const middleware = dbSecret({ secretId: secretId(), AwsClient: client.AwsClient });
      await settle(); // the prefetch has failed before any invocation awaited it
      outcome = await invoke(middleware);
    });

    expect(unhandled).toEqual([]);
    expect(outcome).toEqual({ username: 'app', password: 'pa#ss-3f9' });
    expect(client.state.calls).toBe(2);
  });

  it('a failed fetch fails only the invocation that meets it; the next invocation fetches again and succeeds', async () => {
    const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const client = scriptedClient([throttled(), throttled(), credentials]);
    let outcomes: unknown[] = [];

    const unhandled = await unhandledDuring(async () => {
      const middleware = dbSecret({ secretId: secretId(), AwsClient: client.AwsClient });
      await settle(); // the prefetch has failed before any invocation awaited it
      outcomes = await Promise.allSettled([invoke(middleware)]);
      outcomes.push(...(await Promise.allSettled([invoke(middleware)])));
    });

    expect(unhandled).toEqual([]);
    expect(outcomes[0]).toMatchObject({ status: 'rejected', reason: { message: 'reading the database secret failed: ThrottlingException: Rate exceeded' } });
    expect(outcomes[1]).toMatchObject({ status: 'fulfilled', value: { username: 'app' } });
  });

  it('a fetch that fails inside an invocation (after a refresh) fails that invocation only', async () => {
    const client = scriptedClient([credentials, new Error('socket hang up'), JSON.stringify({ username: 'app', password: 'new' })]);
    const middleware = dbSecret({ secretId: secretId(), AwsClient: client.AwsClient });
    const current = request();
    await invoke(middleware, current);

    const unhandled = await unhandledDuring(async () => {
      await expect(refreshDbSecret(current.context)).rejects.toThrow('socket hang up');
    });

    expect(unhandled).toEqual([]);
    expect((await invoke(middleware)).password).toBe('new');
  });

  it('refreshDbSecret reads the rotated secret inside the same invocation', async () => {
    const client = scriptedClient([credentials, JSON.stringify({ username: 'app', password: 'rotated' })]);
    const middleware = dbSecret({ secretId: secretId(), AwsClient: client.AwsClient });
    const current = request();
    await invoke(middleware, current);

    const refreshed = await refreshDbSecret(current.context);

    expect(refreshed.password).toBe('rotated');
    expect(dbCredentials(current.context).password).toBe('rotated');
    expect(client.state.calls).toBe(2);
    // Later invocations keep the rotated value without fetching again.
    expect((await invoke(middleware)).password).toBe('rotated');
    expect(client.state.calls).toBe(2);
  });

  it.each([
    ['text that is not JSON', 'password=hunter2'],
    ['JSON without a username', JSON.stringify({ password: 'hunter2' })],
    ['a JSON string', JSON.stringify('hunter2')],
  ])('refuses %s without quoting it, and reads the secret again once it is fixed', async (_case, secret) => {
    const client = scriptedClient([secret, credentials]);
    const middleware = dbSecret({ secretId: secretId(), AwsClient: client.AwsClient });

    const refused = await Promise.allSettled([invoke(middleware)]);

    expect(refused[0]).toMatchObject({
      status: 'rejected',
      reason: { message: 'database secret must be a JSON object with string "username" and "password" fields' },
    });
    expect(String(((refused[0] as PromiseRejectedResult).reason as Error).stack)).not.toContain('hunter2');
    expect((await invoke(middleware)).username).toBe('app');
  });
});
