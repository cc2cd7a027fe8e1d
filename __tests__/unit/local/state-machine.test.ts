import { describe, expect, it } from '@jest/globals';
import '../../../local/polyfills';
import { DeliveryAbandonedError, TaskError } from '../../../local/errors';
import type { Integration } from '../../../local/service';
import { LocalDynamoDB, workflowTasks } from '../../../local/dynamodb';
import { budget } from '../../helpers/budget';
import { LocalStateMachine } from '../../../local/state-machine';
import { JSON_PROTOCOL } from '../../../local/protocols/json';

/** A machine of one Pass state: no service is called, so none is needed. */
function passMachine(options: { keepExecutionBytes?: number; keepExecutions?: number } = {}) {
  return new LocalStateMachine({
    name: 'm',
    definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
    region: 'us-east-1',
    account: '000000000000',
    integrations: new Map(),
    principal: { kind: 'account' },
    gate: {} as never,
    ...options,
  });
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A machine of one Task whose Resource is `resource`, caught into a Pass state that keeps the error; the integrations given. */
function taskMachine(resource: string, integrations: ReadonlyMap<string, Integration>) {
  return new LocalStateMachine({
    name: 'm',
    definition: JSON.stringify({
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: resource, Catch: [{ ErrorEquals: ['Probe.Refused'], ResultPath: '$.caught', Next: 'Caught' }], End: true },
        Caught: { Type: 'Pass', End: true },
      },
    }),
    region: 'us-east-1',
    account: '000000000000',
    integrations,
    principal: { kind: 'role', arn: 'arn:aws:iam::000000000000:role/workflow' },
    gate: {} as never,
  });
}

/** A machine of one dynamodb:putItem Task on a local table capped at one write request unit a second. */
async function cappedPutMachine(retry: boolean): Promise<{ machine: LocalStateMachine; dynamodb: LocalDynamoDB }> {
  const dynamodb = new LocalDynamoDB({ region: 'us-east-1', account: '000000000000' });
  await dynamodb.start();
  await dynamodb.declareTable(
    { name: 'orders', arn: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders', maxWriteRequestUnits: 1 },
    {
      TableName: 'orders',
      KeySchema: [{ AttributeName: 'orderid', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'orderid', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    },
  );
  const put = {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:putItem',
    Parameters: { TableName: 'orders', Item: { orderid: { 'S.$': '$.id' } } },
    // The retry of the pipeline's CommandWrite state (asl/order-pipeline.asl.json) names the same error.
    ...(retry ? { Retry: [{ ErrorEquals: ['DynamoDB.ThrottlingException'], IntervalSeconds: 1, MaxAttempts: 3 }] } : {}),
    End: true,
  };
  const machine = new LocalStateMachine({
    name: 'capped',
    definition: JSON.stringify({ StartAt: 'Put', States: { Put: put } }),
    region: 'us-east-1',
    account: '000000000000',
    integrations: new Map([['dynamodb', workflowTasks(dynamodb)]]),
    principal: { kind: 'account' },
    gate: {} as never,
    retryIntervalMs: 1_100,
  });
  return { machine, dynamodb };
}

describe('the local state machine', () => {
  it('binds each Task to the integration of the service its Resource names, called as the execution role, and a TaskError reaches Catch by its name', async () => {
    // Prepare: one service's integration, as a service registers it; it records who called which action.
    const calls: string[] = [];
    const probe: Integration = {
      task: (action, principal) =>
        action === 'echo' || action === 'refuse'
          ? async (input) => {
              calls.push(`${action} as ${principal.kind === 'role' ? principal.arn : principal.kind}`);
              if (action === 'refuse') throw new TaskError('Probe.Refused', 'refused on purpose');
              return { echoed: input };
            }
          : undefined,
    };
    const integrations = new Map([['probe', probe]]);

    // Act
    const echoed = await taskMachine('arn:aws:states:::probe:echo', integrations).startSyncExecution('{"n":1}');
    const refused = await taskMachine('arn:aws:states:::probe:refuse', integrations).startSyncExecution('{"n":2}');

    // Assess
    expect(calls).toEqual(['echo as arn:aws:iam::000000000000:role/workflow', 'refuse as arn:aws:iam::000000000000:role/workflow']);
    expect(JSON.parse(echoed.output ?? '{}')).toEqual({ echoed: { n: 1 } });
    expect(JSON.parse(refused.output ?? '{}')).toEqual({ n: 2, caught: { Error: 'Probe.Refused', Cause: 'refused on purpose' } });
  });

  it('abandons what still runs when the runtime stops: no answer, no Catch; the delivery fails as abandoned, and nothing starts afterwards', async () => {
    // Prepare: a Task that never ends (a throttled call waiting out its retries), and one running execution.
    const calls: string[] = [];
    const hanging: Integration = {
      task: (action) => (action === 'hang' ? async () => (calls.push('hang'), new Promise<never>(() => undefined)) : undefined),
    };
    const machine = taskMachine('arn:aws:states:::probe:hang', new Map([['probe', hanging]]));
    const running = machine.runExecution('{"n":1}');
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));

    // Act
    const abandoned = await machine.abandon();

    // Assess: the running execution's delivery fails as abandoned (the bus keeps it owed), its status says so, and a new one is refused before it starts.
    expect(abandoned).toBe(1);
    await expect(running).rejects.toBeInstanceOf(DeliveryAbandonedError);
    expect(machine.executions().map((execution) => execution.status)).toEqual(['ABORTED']);
    await expect(machine.runExecution('{"n":2}')).rejects.toBeInstanceOf(DeliveryAbandonedError);
    expect(calls).toEqual(['hang']);
    expect(machine.executions()).toHaveLength(1);
  });

  it('refuses to build a machine whose Task names a service or action no integration serves', () => {
    const probe: Integration = { task: (action) => (action === 'echo' ? async (input) => input : undefined) };
    expect(() => taskMachine('arn:aws:states:::sns:publish', new Map([['probe', probe]]))).toThrow('state T: integration sns:publish is not supported locally');
    expect(() => taskMachine('arn:aws:states:::probe:other', new Map([['probe', probe]]))).toThrow('state T: integration probe:other is not supported locally');
    expect(() => taskMachine('arn:aws:states:::probe:echo', new Map([['probe', { target: () => async () => undefined }]]))).toThrow(
      'integration probe:echo is not supported locally',
    );
  });

  it('keeps executions within a byte cap, dropping the oldest, and counts what it dropped', async () => {
    const machine = passMachine({ keepExecutionBytes: 1024 * 1024 });
    const input = JSON.stringify({ padding: 'x'.repeat(100 * 1024) });

    for (let index = 0; index < 50; index++) await machine.runExecution(input);

    const kept = machine.kept;
    expect(kept.bytes).toBeLessThanOrEqual(1024 * 1024 + 2 * input.length + 10_000);
    expect(kept.executions).toBeLessThan(50);
    expect(kept.executions + kept.dropped).toBe(50);
    expect(machine.executions()).toHaveLength(kept.executions);
  });

  it(
    'sees a write past the table cap as DynamoDB.ThrottlingException, which its Retry takes: the write lands a second later',
    async () => {
      for (const retry of [true, false]) {
        // Prepare
        const { machine, dynamodb } = await cappedPutMachine(retry);
        try {
          // Act: two writes in the same second on a table capped at one unit a second.
          const first = await machine.startSyncExecution(JSON.stringify({ id: 'a' }));
          const second = await machine.startSyncExecution(JSON.stringify({ id: 'b' }));

          // Assess
          expect(first.status).toBe('SUCCEEDED');
          if (retry) {
            expect(second.status).toBe('SUCCEEDED');
            expect(machine.execution(second.executionArn)?.history?.[0]?.retries).toBeGreaterThanOrEqual(1);
            expect((await dynamodb.call('GetItem', { TableName: 'orders', Key: { orderid: { S: 'b' } } })).body.Item).toEqual({ orderid: { S: 'b' } });
          } else {
            expect(second).toMatchObject({ status: 'FAILED', error: 'DynamoDB.ThrottlingException' });
            expect(second.cause).toContain('maximum OnDemandThroughput');
          }
        } finally {
          await dynamodb.stop();
        }
      }
    },
    budget({ seconds: 5 }),
  );

  it('refuses an input nested 10,000 deep at once, and a deep but allowed one ends: nothing stays running', async () => {
    const machine = passMachine();

    await expect(machine.startSyncExecution(nested(10_000))).rejects.toThrow('the input nests deeper than 128 levels');
    const allowed = await machine.startSyncExecution(nested(100));
    const drained = await Promise.race([machine.drain().then(() => 'drained'), new Promise((resolve) => setTimeout(() => resolve('stuck'), 3_000))]);

    expect(allowed.status).toBe('SUCCEEDED');
    expect(drained).toBe('drained');
  });
});

/** JSON input of exactly `bytes` bytes of UTF-8, padded with 2-byte characters: a limit counted in characters would take far more. */
function inputOf(bytes: number): string {
  const room = bytes - Buffer.byteLength('{"p":""}');
  return JSON.stringify({ p: 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2) });
}

/** The error a call fails with (undefined when it succeeds). */
async function failure(call: () => Promise<unknown>): Promise<(Error & { $metadata?: { httpStatusCode?: number } }) | undefined> {
  try {
    await call();
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

describe('Step Functions limits (AWS_LIMITS)', () => {
  it('runs an input of 262,144 bytes of UTF-8 and refuses 262,145 with ValidationException, before any execution exists', async () => {
    // Prepare
    const machine = passMachine();
    const [atLimit, pastLimit] = [inputOf(262_144), inputOf(262_145)];
    expect([Buffer.byteLength(atLimit), Buffer.byteLength(pastLimit), pastLimit.length]).toEqual([262_144, 262_145, 131_077]);

    // Act
    const run = await machine.startSyncExecution(atLimit);
    const refused = await failure(() => machine.startSyncExecution(pastLimit));
    const refusedAsync = await failure(async () => machine.startExecution(pastLimit));

    // Assess
    expect(run.status).toBe('SUCCEEDED');
    expect(refused).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(refused?.message).toBe(
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144 (the input is 262145 bytes of UTF-8)",
    );
    expect(refusedAsync).toMatchObject({ name: 'ValidationException' });
    expect(machine.executions()).toHaveLength(1);
  });

  it('takes a name of 1 to 80 characters and refuses an empty one or one of 81 with ValidationException', async () => {
    const machine = passMachine();

    const accepted = [await failure(() => machine.startSyncExecution('{}', 'n')), await failure(() => machine.startSyncExecution('{}', 'n'.repeat(80)))];
    const tooLong = await failure(() => machine.startSyncExecution('{}', 'n'.repeat(81)));
    const empty = await failure(() => machine.startSyncExecution('{}', ''));

    expect(accepted).toEqual([undefined, undefined]);
    expect(tooLong).toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining("at 'name' failed to satisfy constraint: Member must have length less than or equal to 80 (the name is 81 characters)"),
    });
    expect(empty).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('Member must have length greater than or equal to 1') });
  });

  it.each([
    ['a space', 'a b', 0x20],
    ['a no-break space', 'a\u00a0b', 0xa0],
    ['a line separator', 'a\u2028b', 0x2028],
    ...[...'<>{}[]?*"#%\\^|~`$&,;:/'].map((char) => [`"${char}"`, `a${char}b`, char.codePointAt(0) as number] as const),
    ['U+0000', 'a\u0000b', 0x0],
    ['U+001F', 'a\u001fb', 0x1f],
    ['U+007F', 'a\u007fb', 0x7f],
    ['U+009F', 'a\u009fb', 0x9f],
    ['U+FFFE', 'a\ufffeb', 0xfffe],
    ['U+FFFF', 'a\uffffb', 0xffff],
    ['a lone surrogate', 'a\ud800b', 0xd800],
    ['U+10FFFF', 'a\u{10ffff}b', 0x10ffff],
  ])('refuses a name holding %s with InvalidName, naming the character', async (_label, name, codePoint) => {
    const machine = passMachine();

    const refused = await failure(() => machine.startSyncExecution('{}', name));

    expect(refused).toMatchObject({ name: 'InvalidName', status: 400 });
    expect(refused?.message).toContain(`U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at position 1 is not allowed`);
  });

  it('takes names AWS allows: letters of any script, digits, - _ . and characters outside the lists', async () => {
    const machine = passMachine();
    const names = ['order-6102_retry.1', 'commande-été', '注文', 'emoji-😀', 'zero\u200bwidth', "apostrophe'", 'plus+equals=at@'];

    const results = await Promise.all(names.map((name) => failure(() => machine.startSyncExecution('{}', name))));

    expect(results).toEqual(names.map(() => undefined));
  });

  it('answers over HTTP with the errors the AWS SDK names: InvalidName, ValidationException (400)', async () => {
    // Prepare: the machine's API on a test endpoint, called with the SDK's Step Functions client.
    const { SFNClient, StartExecutionCommand, StartSyncExecutionCommand, InvalidName, ValidationException } = await import('@aws-sdk/client-sfn');
    const { clientOptions, startTestEndpoint } = await import('../../helpers/endpoint');
    const endpoint = await startTestEndpoint();
    const machine = passMachine();
    endpoint.router.serve(JSON_PROTOCOL, machine.service());
    const client = new SFNClient(clientOptions(endpoint));
    try {
      // Act
      const atLimit = await client.send(new StartSyncExecutionCommand({ stateMachineArn: machine.arn, input: inputOf(262_144), name: 'n'.repeat(80) }));
      const bigInput = await failure(() => client.send(new StartSyncExecutionCommand({ stateMachineArn: machine.arn, input: inputOf(262_145) })));
      const badName = await failure(() => client.send(new StartExecutionCommand({ stateMachineArn: machine.arn, input: '{}', name: 'order 6102' })));
      const longName = await failure(() => client.send(new StartExecutionCommand({ stateMachineArn: machine.arn, input: '{}', name: 'n'.repeat(81) })));

      // Assess
      expect(atLimit.status).toBe('SUCCEEDED');
      expect(bigInput).toBeInstanceOf(ValidationException);
      expect(bigInput).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
      expect(badName).toBeInstanceOf(InvalidName);
      expect(badName).toMatchObject({ name: 'InvalidName', $metadata: { httpStatusCode: 400 } });
      expect(longName).toBeInstanceOf(ValidationException);
    } finally {
      client.destroy();
      await endpoint.close();
    }
  }, 30_000);
});
