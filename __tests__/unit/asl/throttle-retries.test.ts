/**
 * The workflow's Task states ride out throttles: a burst past a function's
 * reserved concurrency or the orders table's write cap waits its turn
 * instead of being answered "ServiceUnavailable". Each test runs the
 * pipeline's own rendered state, Retry and Catch included, on the local
 * state machine against a service that throttles a given number of times.
 */
import { describe, expect, it } from '@jest/globals';
import '../../../local/polyfills';
import { renderWorkflow } from '../../../asl/render';
import { EXPRESS_MAX_DURATION_SECONDS, checkTimeBudget, retrierWaitSeconds, workflowTimeBudget } from '../../../asl/time-budget';
import { TaskError } from '../../../local/errors';
import type { Integration } from '../../../local/service';
import { LocalStateMachine } from '../../../local/state-machine';
import { QUERIES } from '../../../handlers/queries/registry';
import { CATALOGUE } from '../../../stacks/catalogue';
import { queryStateName } from '../../../asl/render';

type State = Record<string, unknown> & { Type: string; Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] };
const definition = JSON.parse(
  renderWorkflow({
    eventBusName: 'bus',
    ordersTableName: 'orders',
    validateRequestFunctionArn: 'validate',
    queryFunctionArns: Object.fromEntries(QUERIES.map((query) => [query.name, query.name])),
  }),
) as { StartAt: string; States: Record<string, State> };

/** How many throttles in a row the state's Retry takes before its Catch does. */
function throttlesTaken(state: State, error: string): number {
  return state.Retry?.find((retrier) => retrier.ErrorEquals.includes(error))?.MaxAttempts ?? 0;
}

/** Runs `stateName` of the pipeline alone (its Catch goes to a Pass state), against a service that throttles `throttles` times and then answers. */
async function runAgainstThrottles(stateName: string, service: string, error: string, throttles: number): Promise<{ caught: boolean; calls: number }> {
  const state = definition.States[stateName] as State;
  let calls = 0;
  const integration: Integration = {
    task: () => async () => {
      calls++;
      if (calls <= throttles) throw new TaskError(error, 'Rate Exceeded.');
      return { Payload: { body: {} } };
    },
  };
  const { Next: _next, End: _end, Catch: _catch, ResultSelector: _selector, OutputPath: _output, ...rest } = state;
  const machine = new LocalStateMachine({
    name: 'throttled',
    definition: JSON.stringify({
      StartAt: stateName,
      States: {
        [stateName]: { ...rest, Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }], End: true },
        Caught: { Type: 'Pass', End: true },
      },
    }),
    region: 'us-east-1',
    account: '000000000000',
    integrations: new Map([[service, integration]]),
    principal: { kind: 'account' },
    gate: {} as never,
    // The waits are the definition's; here they are skipped so the test counts attempts only.
    retryIntervalMs: 0,
  });
  const execution = await machine.startSyncExecution(JSON.stringify({ id: 'e', detail: { query: 'q' }, orderId: 'o', values: {} }));
  return { caught: 'failure' in (JSON.parse(execution.output ?? '{}') as object), calls };
}

describe('throttled Tasks of the workflow', () => {
  const cases = [
    { state: 'ValidateCommand', service: 'lambda', error: 'Lambda.TooManyRequestsException' },
    { state: queryStateName(QUERIES[0].name), service: 'lambda', error: 'Lambda.TooManyRequestsException' },
    { state: 'RefuseQuery', service: 'lambda', error: 'Lambda.TooManyRequestsException' },
    { state: 'CreateOrder', service: 'dynamodb', error: 'DynamoDB.ThrottlingException' },
    { state: 'CancelOrder', service: 'dynamodb', error: 'DynamoDB.ThrottlingException' },
    { state: 'CreateOrderReadBack', service: 'dynamodb', error: 'DynamoDB.ProvisionedThroughputExceededException' },
  ];

  it.each(cases)('$state answers after 8 throttles of $error in a row, and only a 9th reaches its Catch', async ({ state, service, error }) => {
    expect(throttlesTaken(definition.States[state] as State, error)).toBe(8);

    const ridden = await runAgainstThrottles(state, service, error, 8);
    const exhausted = await runAgainstThrottles(state, service, error, 9);

    expect(ridden).toEqual({ caught: false, calls: 9 });
    expect(exhausted).toEqual({ caught: true, calls: 9 });
  });

  it('waits up to 32 s over those 8 throttles (1, 2, 4, then 5 s each, before full jitter), where the errors of a failed call keep their shorter Retry', () => {
    const validate = definition.States.ValidateCommand as State & { Retry: Parameters<typeof retrierWaitSeconds>[0][] };
    const [throttle, failure] = validate.Retry;
    expect(retrierWaitSeconds(throttle!)).toBe(1 + 2 + 4 + 5 * 5);
    expect(failure!.ErrorEquals).not.toContain('Lambda.TooManyRequestsException');
    expect(retrierWaitSeconds(failure!)).toBe(1 + 2 + 4);
  });
});

describe('the Lambda service errors the workflow retries', () => {
  // https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
  const SERVICE_EXCEPTIONS = ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'];
  const invokes = Object.entries(definition.States).filter(([, state]) => state.Resource === 'arn:aws:states:::lambda:invoke');

  it.each(invokes.map(([name]) => name))("%s retries each transient Lambda service error AWS's best practice names", (name) => {
    const retried = (definition.States[name]!.Retry ?? []).flatMap((retrier) => retrier.ErrorEquals);

    expect(SERVICE_EXCEPTIONS.filter((error) => !retried.includes(error) && !retried.includes('States.TaskFailed') && !retried.includes('States.ALL'))).toEqual(
      [],
    );
  });
});

describe('the workflow time budget', () => {
  const timeouts = (name: string) =>
    name === 'validate' ? CATALOGUE.settings.validateRequest.timeoutSeconds : QUERIES.find((query) => query.name === name)?.settings.timeoutSeconds;

  it(`keeps every path of the pipeline's workflow within the ${EXPRESS_MAX_DURATION_SECONDS} s of an Express execution, retries at their ceilings`, () => {
    const budget = checkTimeBudget(definition, timeouts);

    expect(budget.seconds).toBeLessThanOrEqual(EXPRESS_MAX_DURATION_SECONDS);
    expect(budget.path[0]).toBe(definition.StartAt);
    // A query's function may run 1 + 3 + 1 times, each after a cold start's Init and at its timeout (a throttle runs nothing), plus every wait.
    const query = budget.tasks[queryStateName(QUERIES[0].name)]!;
    expect(query).toEqual({ waitSeconds: 32 + 7 + 1, runningAttempts: 5, attemptSeconds: 10 + QUERIES[0].settings.timeoutSeconds });
  });

  it("counts a Lambda attempt at its timeout plus the 10 s an on-demand function's Init phase may take first (a cold start is not in the timeout)", () => {
    // https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html: "The Init phase is limited to 10 seconds."
    const single = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'validate' }, Retry: [], End: true } },
    };

    const budget = workflowTimeBudget(single, timeouts);

    expect(budget.seconds).toBe(10 + CATALOGUE.settings.validateRequest.timeoutSeconds);
  });

  it('refuses a workflow that can outlast an Express execution, naming the path, and one that loops', () => {
    const patient = structuredClone(definition);
    (patient.States.ValidateCommand as State).Retry = [
      { ErrorEquals: ['Lambda.TooManyRequestsException'], IntervalSeconds: 1, MaxAttempts: 20, BackoffRate: 2 } as never,
    ];
    expect(() => checkTimeBudget(patient, timeouts)).toThrow(/past the 300 s an Express execution may last/);
    expect(() => checkTimeBudget(patient, timeouts)).toThrow(/ValidateCommand/);

    const looping = { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', Next: 'A' } } };
    expect(() => workflowTimeBudget(looping, timeouts)).toThrow('the workflow loops through state A');
    const unknownFunction = {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'elsewhere' }, End: true } },
    };
    expect(() => workflowTimeBudget(unknownFunction, timeouts)).toThrow('the timeout of function elsewhere is not known');
  });
});

describe('a command the validation function could not answer', () => {
  /** Runs the whole workflow on `detail` with the validation function throttled on every attempt; returns the answer it published. */
  async function answerWhenThrottled(detail: unknown): Promise<Record<string, unknown>> {
    const published: unknown[] = [];
    const integrations = new Map<string, Integration>([
      ['lambda', { task: () => async () => Promise.reject(new TaskError('Lambda.TooManyRequestsException', 'Rate Exceeded.')) }],
      ['events', { task: () => async (input) => (published.push(input), { FailedEntryCount: 0, Entries: [{ EventId: 'answer' }] }) }],
      ['dynamodb', { task: () => async () => ({}) }],
    ]);
    const machine = new LocalStateMachine({
      name: 'workflow',
      definition: JSON.stringify(definition),
      region: 'us-east-1',
      account: '000000000000',
      integrations,
      principal: { kind: 'account' },
      gate: {} as never,
      retryIntervalMs: 0,
    });
    const execution = await machine.startSyncExecution(JSON.stringify({ id: 'event-1', 'detail-type': 'orderCommand', detail }));
    expect(execution.status).toBe('SUCCEEDED');
    const [put] = published as { Entries: { Detail: Record<string, unknown> }[] }[];
    return put?.Entries[0]?.Detail as Record<string, unknown>;
  }

  it('answers ServiceUnavailable naming the order when the command gave its id as a string, and null otherwise', async () => {
    const named = await answerWhenThrottled({ command: 'createOrder', orderId: 'o-1', items: [] });
    const numbered = await answerWhenThrottled({ command: 'createOrder', orderId: 42 });
    const unnamed = await answerWhenThrottled({ command: 'createOrder' });

    expect(named).toEqual({
      orderid: 'o-1',
      commandStatus: 'orderRejected',
      commandMessageId: 'event-1',
      error: { code: 'ServiceUnavailable', message: 'the command could not be validated; sending it again is safe' },
    });
    expect(numbered).toMatchObject({ orderid: null, commandMessageId: 'event-1', error: { code: 'ServiceUnavailable' } });
    expect(unnamed).toMatchObject({ orderid: null, commandMessageId: 'event-1', error: { code: 'ServiceUnavailable' } });
  });
});
