import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvokeError } from '../../../local/errors';
import { ASYNC_THROTTLE_RETRY, LocalFunctions, type LocalFunctionDefinition } from '../../../local/functions';

const codeDir = mkdtempSync(path.join(tmpdir(), 'local-fn-'));
writeFileSync(
  path.join(codeDir, 'index.mjs'),
  `export const handler = async (event) => {
     if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
     if (event.fail) throw Object.assign(new Error('asked to fail'), { name: 'AskedError' });
     if (event.exit) process.exit(3);
     return { env: { ...process.env }, remaining: 0 };
   };`,
);

// Handlers that leave work running: it writes a marker file when it completes, seen from outside the environment.
const middyUrl = pathToFileURL(path.resolve('node_modules/@middy/core/index.js')).href;
writeFileSync(
  path.join(codeDir, 'leaves.mjs'),
  `import { existsSync, writeFileSync } from 'node:fs';
   import middy from ${JSON.stringify(middyUrl)};
   const leave = (event) => setTimeout(() => writeFileSync(event.marker, 'done'), event.afterMs);
   // Answers at once, leaving the work running.
   export const answers = async (event) => {
     if (event.check) return existsSync(event.check);
     leave(event);
     return 'answered';
   };
   // Never answers in time: the platform's timeout ends it.
   export const hangs = async (event) => {
     if (event.check) return existsSync(event.check);
     leave(event);
     await new Promise((resolve) => setTimeout(resolve, 60_000));
   };
   // The same wrapped in middy, which answers TimeoutError before the deadline: 5 ms by default, 500 here so that
   // a busy machine cannot let the platform's timer win the race.
   export const wrapped = middy(hangs, { timeoutEarlyInMillis: 500 });`,
);
const markers = mkdtempSync(path.join(tmpdir(), 'local-fn-markers-'));
// Writes, as it runs, the time it ran.
writeFileSync(
  path.join(codeDir, 'marks.mjs'),
  `import { writeFileSync } from 'node:fs';
   export const handler = async (event) => {
     if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
     if (event.marker) writeFileSync(event.marker, String(Date.now()));
     return 'marked';
   };`,
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const logs: string[] = [];
const functions = new LocalFunctions({
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:1',
  credentials: () => ({ accessKeyId: 'ASIAROLEKEY', secretAccessKey: 'secret', sessionToken: 'token' }),
  onLog: (_fn, line) => logs.push(line),
});

function define(name: string, overrides: Partial<LocalFunctionDefinition> = {}): LocalFunctionDefinition {
  const definition: LocalFunctionDefinition = {
    name,
    arn: `arn:aws:lambda:eu-west-1:000000000000:function:${name}`,
    roleArn: 'arn:aws:iam::000000000000:role/r',
    codeDir,
    handler: 'index.handler',
    timeoutSeconds: 2,
    memoryMb: 128,
    environment: { ONLY_THIS: 'yes' },
    logGroup: `/aws/lambda/${name}`,
    jsonLogs: true,
    ...overrides,
  };
  functions.register(definition);
  return definition;
}

afterAll(() => functions.stop());

describe('LocalFunctions', () => {
  it('runs a function with only its synthesized environment, what Lambda sets, and its role credentials', async () => {
    // Prepare
    process.env.RUNTIME_SECRET = 'must not leak';
    define('env');

    // Act
    const result = await functions.invoke('env', {}).finally(() => delete process.env.RUNTIME_SECRET);

    // Assess
    expect(result.ok).toBe(true);
    const env = (result as { payload: { env: Record<string, string> } }).payload.env;
    expect(env).toEqual(
      expect.objectContaining({
        ONLY_THIS: 'yes',
        AWS_REGION: 'eu-west-1',
        AWS_LAMBDA_FUNCTION_NAME: 'env',
        AWS_ACCESS_KEY_ID: 'ASIAROLEKEY',
        AWS_LAMBDA_LOG_FORMAT: 'JSON',
      }),
    );
    expect(env.RUNTIME_SECRET).toBeUndefined();
    expect(env.DB_URL).toBeUndefined();
    expect(logs).toEqual(expect.arrayContaining([expect.stringMatching(/^START RequestId/), expect.stringMatching(/^REPORT RequestId/)]));
  });

  it('ends the environment at the timeout, and the next invocation starts a new one', async () => {
    // Prepare
    define('slow', { timeoutSeconds: 1 });
    const coldBefore = functions.coldStarts;

    // Act
    const timedOut = await functions.invoke('slow', { sleepMs: 3_000 });
    const next = await functions.invoke('slow', {});

    // Assess
    expect(timedOut).toEqual({
      ok: false,
      error: expect.objectContaining({ errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 1.00 seconds' }),
    });
    expect(next.ok).toBe(true);
    expect(functions.coldStarts - coldBefore).toBe(2);
  });

  it('freezes the environment once the handler answered: work it left running waits for the next invocation', async () => {
    // Prepare
    define('answers', { handler: 'leaves.answers' });
    const marker = path.join(markers, 'answers');

    // Act: the handler answers and leaves work due in 1 s (far longer than the one event-loop
    // turn the environment takes to freeze, even on a loaded machine)...
    const first = await functions.invoke('answers', { marker, afterMs: 1_000 });
    await sleep(1_500);
    const whileFrozen = existsSync(marker);
    // ...which runs when the next invocation thaws the environment, before its handler.
    const next = await functions.invoke('answers', { check: marker });

    // Assess
    expect(first).toEqual({ ok: true, payload: 'answered' });
    expect(whileFrozen).toBe(false);
    expect(next).toEqual({ ok: true, payload: true });
  });

  it('freezes, not resets, an environment whose handler middy ended before the timeout: the abandoned work resumes on the next invocation', async () => {
    // Prepare
    define('wrapped', { handler: 'leaves.wrapped', timeoutSeconds: 1 });
    const marker = path.join(markers, 'wrapped');
    const coldBefore = functions.coldStarts;

    // Act: a warm environment; work due at 1.2 s, past middy's early answer at 0.5 s.
    expect(await functions.invoke('wrapped', { check: marker })).toEqual({ ok: true, payload: false });
    const timedOut = await functions.invoke('wrapped', { marker, afterMs: 1_200 });
    await sleep(1_000);
    const whileFrozen = existsSync(marker);
    const next = await functions.invoke('wrapped', { check: marker });

    // Assess: middy's error, not the platform's; the same environment; the work done only once thawed.
    expect(timedOut).toEqual({ ok: false, error: expect.objectContaining({ errorType: 'TimeoutError' }) });
    expect(whileFrozen).toBe(false);
    expect(next).toEqual({ ok: true, payload: true });
    expect(functions.coldStarts - coldBefore).toBe(1);
  });

  it('resets the environment the platform timed out: the work it left never runs', async () => {
    // Prepare
    define('hangs', { handler: 'leaves.hangs', timeoutSeconds: 1 });
    const marker = path.join(markers, 'hangs');
    const coldBefore = functions.coldStarts;

    // Act
    const timedOut = await functions.invoke('hangs', { marker, afterMs: 1_500 });
    await sleep(1_500);
    const next = await functions.invoke('hangs', { check: marker });

    // Assess
    expect(timedOut).toEqual({ ok: false, error: expect.objectContaining({ errorType: 'Sandbox.Timedout' }) });
    expect(next).toEqual({ ok: true, payload: false });
    expect(existsSync(marker)).toBe(false);
    expect(functions.coldStarts - coldBefore).toBe(2);
  });

  it("throttles invocations past the reserved concurrency, and counts each throttle as Lambda's Throttles metric does", async () => {
    // Prepare
    define('reserved', { reservedConcurrency: 1 });
    const before = functions.throttles().reserved ?? 0;

    // Act
    const first = functions.invoke('reserved', { sleepMs: 300 });
    const second = functions.invoke('reserved', {});
    const third = functions.invoke('reserved', {});

    // Assess
    await expect(second).rejects.toBeInstanceOf(InvokeError);
    await expect(second).rejects.toThrow('reserved concurrency (1)');
    await expect(third).rejects.toThrow('reserved concurrency (1)');
    await expect(first).resolves.toEqual(expect.objectContaining({ ok: true }));
    expect((functions.throttles().reserved ?? 0) - before).toBe(2);
  });

  it('admits invocations up to the reservation even past the environments this machine runs: those wait, the next is throttled', async () => {
    // Prepare: 2 threads at most, a reservation of 3.
    const bounded = new LocalFunctions({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: () => ({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' }),
      maxEnvironments: 2,
    });
    bounded.register({ ...define('wide', { reservedConcurrency: 3 }) });
    try {
      // Act
      const admitted = [0, 1, 2].map(() => bounded.invoke('wide', { sleepMs: 400 }));
      const past = bounded.invoke('wide', {});

      // Assess
      await expect(past).rejects.toThrow('Rate Exceeded. Function wide is at its reserved concurrency (3)');
      expect((await Promise.all(admitted)).map((result) => result.ok)).toEqual([true, true, true]);
      expect(bounded.coldStarts).toBe(2);
      expect((await bounded.invoke('wide', {})).ok).toBe(true);
    } finally {
      await bounded.stop();
    }
  });

  it('retries a throttled asynchronous invocation until the function has room, as Lambda does', async () => {
    // Prepare
    const marker = path.join(markers, 'async-done');
    const retrying = new LocalFunctions({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: () => ({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' }),
      asyncRetryDelayMs: () => 50,
    });
    retrying.register({ ...define('single', { reservedConcurrency: 1, handler: 'marks.handler' }) });
    try {
      // Act: the one slot is taken when the asynchronous invocation arrives.
      const busy = retrying.invoke('single', { sleepMs: 400 });
      retrying.invokeAsync('single', { marker });
      const busyEnded = await busy.then(() => Date.now());
      await retrying.drain();

      // Assess: it was throttled at least once, then ran, after the slot was free.
      expect(retrying.invocations).toBeGreaterThanOrEqual(3);
      expect(existsSync(marker)).toBe(true);
      expect(Number(readFileSync(marker, 'utf8'))).toBeGreaterThanOrEqual(busyEnded - 5);
    } finally {
      await retrying.stop();
    }
  });

  it('drops a throttled asynchronous invocation once Lambda would have given up (6 hours), saying so', async () => {
    // Prepare: the next try would come after the 6 hours.
    const dropped: string[] = [];
    const late = new LocalFunctions({
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:1',
      credentials: () => ({ accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' }),
      asyncRetryDelayMs: () => ASYNC_THROTTLE_RETRY.maximumEventAgeMs + 1,
      onAsyncDropped: (fn, reason) => dropped.push(`${fn.name}: ${reason}`),
    });
    late.register({ ...define('closed', { reservedConcurrency: 0 }) });
    try {
      // Act
      late.invokeAsync('closed', {});
      await late.drain();

      // Assess
      expect(dropped).toEqual(['closed: still throttled after 1 tries in 6 hours']);
      expect(() => late.invokeAsync('nope', {})).toThrow('Function not found: nope');
    } finally {
      await late.stop();
    }
  });

  it('reports a function error and survives an environment that exits', async () => {
    define('faulty');
    expect(await functions.invoke('faulty', { fail: true })).toEqual({
      ok: false,
      error: expect.objectContaining({ errorType: 'AskedError', errorMessage: 'asked to fail' }),
    });
    expect(await functions.invoke('faulty', { exit: true })).toEqual({ ok: false, error: expect.objectContaining({ errorType: 'Runtime.ExitError' }) });
    expect((await functions.invoke('faulty', {})).ok).toBe(true);
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    await expect(functions.invoke('nope', {})).rejects.toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
  });
});
