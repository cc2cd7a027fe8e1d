/**
 * The longest an execution of the workflow can run, read from its rendered
 * definition: every path through its states, with each Task's Retry waits
 * at their ceilings and each attempt that runs a function at its timeout,
 * after a cold start's Init phase.
 * An Express execution that passes five minutes is stopped with no answer
 * published, so the workflow must end, answered, before that on every path.
 */

/**
 * "Maximum duration: 5 minutes" for Express workflows.
 * https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html
 */
export const EXPRESS_MAX_DURATION_SECONDS = 300;

/**
 * What a Lambda attempt may take before its handler's timeout starts: an
 * on-demand function's Init phase (a cold start), limited to 10 seconds and
 * not counted in the function's timeout.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
const LAMBDA_INIT_SECONDS = 10;

/**
 * Errors that mean the call was refused before it ran: a throttled attempt
 * takes no function time, only the wait before the next one.
 */
const THROTTLES = new Set([
  'Lambda.TooManyRequestsException',
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.ThrottlingException',
  'EventBridge.ThrottlingException',
]);

/**
 * A retrier's fields and their defaults (IntervalSeconds 1, MaxAttempts 3,
 * BackoffRate 2.0, MaxDelaySeconds none).
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
}

interface State {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: unknown };
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly { readonly Next: string }[];
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Default?: string;
  readonly Next?: string;
  readonly TimeoutSeconds?: number;
}

/** The longest path's seconds and its states, and each Task's own worst case. */
export interface TimeBudget {
  readonly seconds: number;
  readonly path: readonly string[];
  readonly tasks: Readonly<Record<string, { readonly waitSeconds: number; readonly runningAttempts: number; readonly attemptSeconds: number }>>;
}

/** The sum of a retrier's waits when every attempt it allows is used (before any jitter, which only shortens them). */
export function retrierWaitSeconds(retrier: Retrier): number {
  const { IntervalSeconds: interval = 1, MaxAttempts: attempts = 3, BackoffRate: rate = 2, MaxDelaySeconds: ceiling = Number.POSITIVE_INFINITY } = retrier;
  let total = 0;
  for (let attempt = 0; attempt < attempts; attempt++) total += Math.min(interval * rate ** attempt, ceiling);
  return total;
}

/** A Task's worst case: its retriers' waits, and every attempt that may run at its timeout. */
function taskSeconds(name: string, state: State, functionTimeoutSeconds: (functionName: string) => number | undefined): TimeBudget['tasks'][string] {
  const retriers = state.Retry ?? [];
  const waitSeconds = retriers.reduce((total, retrier) => total + retrierWaitSeconds(retrier), 0);
  // A throttled attempt did not run; any other retried error may come after a whole attempt.
  const runningAttempts =
    1 +
    retriers.filter((retrier) => !retrier.ErrorEquals.every((error) => THROTTLES.has(error))).reduce((total, retrier) => total + (retrier.MaxAttempts ?? 3), 0);
  let attemptSeconds = state.TimeoutSeconds ?? 0;
  if (state.Resource === 'arn:aws:states:::lambda:invoke') {
    const timeout = typeof state.Parameters?.FunctionName === 'string' ? functionTimeoutSeconds(state.Parameters.FunctionName) : undefined;
    if (timeout === undefined) throw new Error(`state ${name}: the timeout of function ${String(state.Parameters?.FunctionName)} is not known`);
    attemptSeconds = Math.min(attemptSeconds || timeout + LAMBDA_INIT_SECONDS, timeout + LAMBDA_INIT_SECONDS);
  }
  // Calls to DynamoDB and EventBridge (optimized integrations) are counted by their waits only: each
  // attempt is one request that answers in milliseconds, unless the state sets TimeoutSeconds.
  return { waitSeconds, runningAttempts, attemptSeconds };
}

/**
 * The worst-case duration of the workflow `definition` (rendered ASL), with
 * `functionTimeoutSeconds` giving each invoked function's timeout. Throws on
 * a cycle (no bound exists) or an unknown function.
 */
export function workflowTimeBudget(
  definition: { readonly StartAt: string; readonly States: Readonly<Record<string, State>> },
  functionTimeoutSeconds: (functionName: string) => number | undefined,
): TimeBudget {
  const tasks: Record<string, TimeBudget['tasks'][string]> = {};
  const longest = new Map<string, { seconds: number; path: string[] }>();
  const visiting = new Set<string>();
  const walk = (name: string): { seconds: number; path: string[] } => {
    const known = longest.get(name);
    if (known) return known;
    if (visiting.has(name)) throw new Error(`the workflow loops through state ${name}: its duration has no bound`);
    const state = definition.States[name];
    if (!state) throw new Error(`the workflow names a state it does not define: ${name}`);
    visiting.add(name);
    let own = 0;
    if (state.Type === 'Task') {
      const task = taskSeconds(name, state, functionTimeoutSeconds);
      tasks[name] = task;
      own = task.waitSeconds + task.runningAttempts * task.attemptSeconds;
    }
    const next = [state.Next, state.Default, ...(state.Choices ?? []).map((choice) => choice.Next), ...(state.Catch ?? []).map((caught) => caught.Next)].filter(
      (value): value is string => value !== undefined,
    );
    const after = next
      .map(walk)
      .reduce<{ seconds: number; path: string[] }>((best, candidate) => (candidate.seconds > best.seconds ? candidate : best), { seconds: 0, path: [] });
    visiting.delete(name);
    const result = { seconds: own + after.seconds, path: [name, ...after.path] };
    longest.set(name, result);
    return result;
  };
  const { seconds, path } = walk(definition.StartAt);
  return { seconds, path, tasks };
}

/** Throws, naming the path, when the workflow can outlast an Express execution. */
export function checkTimeBudget(
  definition: Parameters<typeof workflowTimeBudget>[0],
  functionTimeoutSeconds: (functionName: string) => number | undefined,
): TimeBudget {
  const budget = workflowTimeBudget(definition, functionTimeoutSeconds);
  if (budget.seconds > EXPRESS_MAX_DURATION_SECONDS) {
    throw new Error(
      `the workflow can run ${budget.seconds} s (retry waits at their ceilings, every running attempt at its timeout) through ${budget.path.join(' → ')}, ` +
        `past the ${EXPRESS_MAX_DURATION_SECONDS} s an Express execution may last: shorten its retries or its functions' timeouts`,
    );
  }
  return budget;
}
