/**
 * The workflow, run by aws-local-stepfunctions from the same ASL file the
 * stacks deploy. Each Task state is bound by its `Resource`
 * (`arn:aws:states:::<service>:<action>`) to the integration that service
 * registered (`Binding.integrations`, the one map rule targets use too):
 * `lambda:invoke` (local/functions.ts), `dynamodb:<operation>`
 * (local/dynamodb.ts), `events:putEvents` (local/event-bus.ts), each
 * authorized by its service as the execution role. Errors carry the names Step
 * Functions gives them (`DynamoDB.ConditionalCheckFailedException`,
 * `EventBridge.FailedEntry`, ...), so Retry and Catch behave as in the cloud.
 * The machine is also a rule target (`states`): the rule's role starts its
 * executions.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { AWS_LIMITS, enforceBytes, enforceCharacters, enforceLength } from './aws-limits';
import { JSON_PROTOCOL, optionalString, requireString, type JsonService } from './protocols/json';
import { AccessDeniedError, AwsError, DeliveryAbandonedError, UnsupportedTerraformError } from './errors';
import type { IamGate, Principal } from './iam';
import { namedResource, type Binding, type Integration, type LocalService, type TaskHandler } from './service';

declare module './service' {
  interface Parts {
    stateMachine: LocalStateMachine;
  }
}

/**
 * The Step Functions service: the `aws_sfn_state_machine` runs its
 * definition with its role, its tasks bound to the local functions, tables
 * and bus; `StartExecution`, `StartSyncExecution` and `DescribeExecution` are
 * served under the caller's policies.
 */
export const stateMachineService: LocalService = {
  name: 'states',
  serves: {
    aws_sfn_state_machine: {
      becomes: 'the workflow, run by aws-local-stepfunctions',
      attributes: namedResource('states', (name) => `stateMachine:${name}`),
    },
  },
  bind(binding) {
    const {
      model,
      region,
      account,
      gate,
      options,
      integrations,
      integrate,
      provide,
      serve,
      page,
      status,
      summary,
      creationCheck,
      assumeRole,
      onIdle,
      onStop,
      log,
    } = binding;
    const machine = model.only('aws_sfn_state_machine');
    const arn = model.attributes(machine).arn as string;
    const role = model.string(machine, 'role_arn');
    creationCheck(() => assumeRole('states.amazonaws.com', role, { 'aws:SourceArn': arn }));
    const keyArn =
      model.field(machine, 'encryption_configuration', 'type') === 'CUSTOMER_MANAGED_KMS_KEY'
        ? (model.field(machine, 'encryption_configuration', 'kms_key_id') as string | undefined)
        : undefined;
    const stateMachine = new LocalStateMachine({
      name: model.attributes(machine).name as string,
      definition: model.string(machine, 'definition'),
      ...(keyArn ? { encryption: { keyArn } } : {}),
      region,
      account,
      integrations,
      principal: { kind: 'role', arn: role },
      gate,
      ...(options.retryDelayMs !== undefined ? { retryIntervalMs: options.retryDelayMs } : {}),
    });
    serve(JSON_PROTOCOL, stateMachine.service());
    provide('stateMachine', stateMachine);
    integrate('states', ruleTarget(binding, stateMachine));
    page('/_local/executions', () => stateMachine.executions());
    status('stateMachine', () => stateMachine.arn);
    status('executions', () => stateMachine.kept);
    summary('state machine', stateMachine.arn);
    onIdle(async () => {
      await stateMachine.drain();
      return true;
    });
    // Registered after the services its tasks call, so it stops before them: what still runs
    // once the stop's drain is over is abandoned here, never failed by a stopped service.
    onStop(async () => {
      const abandoned = await stateMachine.abandon();
      if (abandoned > 0)
        log(
          `stop: ${abandoned} executions still running were abandoned, unanswered; ${options.dataDir ? 'the next start on this --data runs their commands again' : 'in memory, their commands are lost with the rest'}`,
        );
    });
  },
};

type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer T> ? T : never;

/** A state machine as a rule's target: the rule's role is assumed, may start executions, and the execution runs to its end. */
function ruleTarget({ model, gate, assumeRole }: Binding, stateMachine: LocalStateMachine): Integration {
  return {
    target: ({ resource, arn, ruleArn }) => {
      if (arn !== stateMachine.arn) throw new UnsupportedTerraformError(resource.address, `state machine ${arn} is not defined in the stacks`);
      const roleArn = model.string(resource, 'role_arn');
      return async (event) => {
        await assumeRole('events.amazonaws.com', roleArn, { 'aws:SourceArn': ruleArn });
        await gate.authorize({ principal: { kind: 'role', arn: roleArn }, action: 'states:StartExecution', resource: stateMachine.arn });
        await stateMachine.runExecution(JSON.stringify(event));
      };
    },
  };
}

type Json = Parameters<StateMachine['run']>[0];

/** The encryption context key Step Functions sets on the KMS calls for a state machine's data (the stacks condition the execution role's grant on it). */
const STATE_MACHINE_KEY_CONTEXT = 'kms:EncryptionContext:aws:states:stateMachineArn';

/** A finished or running execution. */
interface Execution {
  executionArn: string;
  name: string;
  input: string;
  startDate: number;
  stopDate?: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: string;
  error?: string;
  cause?: string;
  /** The states the execution went through, in order (kept for the latest executions only). */
  history?: StateStep[];
  /** Bytes this execution holds in memory (input, output, path), counted against the cap. */
  bytes?: number;
}

/** One state of an execution's path, as the console shows it. */
interface StateStep {
  readonly state: string;
  readonly type: string;
  readonly enteredAt: number;
  exitedAt?: number;
  readonly input: unknown;
  output?: unknown;
  error?: string;
  retries: number;
  caught?: boolean;
}

/** Executions whose path is kept (the console); older ones keep their summary only. */
const HISTORIES_KEPT = 500;

/** Executions kept in memory, by bytes (inputs of 250 KB × 10,000 executions would be 2.5 GB). @default 64 MiB */
const DEFAULT_KEPT_EXECUTION_BYTES = 64 * 1024 * 1024;

/**
 * Deepest execution input accepted. Step Functions documents no figure; the
 * bus refuses a Detail deeper than 100 levels and wraps it in one more, so
 * anything deeper than this is refused (`InvalidExecutionInput`) rather than
 * run by an interpreter that cannot finish it.
 */
const MAX_INPUT_DEPTH = 128;

/** How long an ended execution's path recording may still take before it is let go (it is diagnostics). */
const RECORDING_GRACE_MS = 1_000;

/** Options of {@link LocalStateMachine}. */
export interface LocalStateMachineOptions {
  readonly name: string;
  readonly definition: string;
  readonly region: string;
  readonly account: string;
  /** The services' integrations, by service: each Task state is bound to the one its Resource names. */
  readonly integrations: ReadonlyMap<string, Integration>;
  /** The execution role's session: every Task calls its service as it. */
  readonly principal: Principal;
  /** Authorizes the API's callers. */
  readonly gate: IamGate;
  /** Overrides Retry intervals (ms) for every state; tests set 0. */
  readonly retryIntervalMs?: number;
  /**
   * The state machine's customer managed key: each execution's data is
   * encrypted with it, by Step Functions with the execution role's
   * permissions, so an execution starts only when that role may use the key.
   */
  readonly encryption?: { readonly keyArn: string };
  /** Executions kept for DescribeExecution. @default 10000 */
  readonly keepExecutions?: number;
  /** Bytes of executions kept (inputs, outputs, paths). @default {@link DEFAULT_KEPT_EXECUTION_BYTES} */
  readonly keepExecutionBytes?: number;
}

/** An Express state machine served as `AWSStepFunctions.*`. */
export class LocalStateMachine {
  readonly arn: string;
  readonly #options: LocalStateMachineOptions;
  readonly #machine: StateMachine;
  readonly #tasks: Record<string, (input: Json) => Promise<Json>>;
  readonly #executions = new Map<string, Execution>();
  readonly #running = new Set<Promise<unknown>>();
  /** How to abort each running execution (see {@link abandon}). */
  readonly #aborts = new Set<() => void>();
  #abandoned = false;
  readonly #retryOverrides: Record<string, number> | undefined;
  readonly #withHistory: Execution[] = [];
  #keptBytes = 0;
  #dropped = 0;

  constructor(options: LocalStateMachineOptions) {
    this.#options = options;
    this.arn = `arn:aws:states:${options.region}:${options.account}:stateMachine:${options.name}`;
    const definition = JSON.parse(options.definition) as StateMachineDefinition;
    this.#machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
    this.#tasks = {};
    for (const [stateName, state] of taskStates(definition)) this.#tasks[stateName] = this.#bind(stateName, state.Resource) as (input: Json) => Promise<Json>;
    this.#retryOverrides =
      options.retryIntervalMs === undefined ? undefined : Object.fromEntries(Object.keys(this.#tasks).map((name) => [name, options.retryIntervalMs as number]));
  }

  /** Resolves when every running execution has finished. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  /**
   * Ends the executions still running when the runtime stops, without an
   * answer: each is aborted (status ABORTED) and its rule delivery fails with
   * {@link DeliveryAbandonedError}, so the delivery stays owed and the next
   * start on the same data runs the command again (commands are idempotent).
   * Left running, their next task met a stopped service, and the Catch
   * answered an accepted command `orderRejected` / `ServiceUnavailable`,
   * which a crash never did. No execution starts after this.
   */
  async abandon(): Promise<number> {
    this.#abandoned = true;
    const running = this.#aborts.size;
    for (const abort of this.#aborts) abort();
    await this.drain();
    return running;
  }

  /**
   * What Step Functions asks of KMS, with the execution role, to keep an
   * execution's data under the state machine's key: a data key, and a decrypt,
   * with the state machine's ARN as encryption context. Refused, the execution
   * does not start: `KmsAccessDeniedException`, as StartExecution answers.
   * https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html (KmsAccessDeniedException)
   */
  async #sealExecution(): Promise<void> {
    const encryption = this.#options.encryption;
    if (!encryption) return;
    const context = {
      [STATE_MACHINE_KEY_CONTEXT]: this.arn,
      'kms:ViaService': `states.${this.#options.region}.amazonaws.com`,
      'kms:CallerAccount': this.#options.account,
    };
    try {
      for (const action of ['kms:GenerateDataKey', 'kms:Decrypt'])
        await this.#options.gate.authorize({ principal: this.#options.principal, action, resource: encryption.keyArn, context });
    } catch (error) {
      if (error instanceof AccessDeniedError)
        throw new AwsError('KmsAccessDeniedException', `Either your KMS key policy or API caller does not have the required permissions: ${error.message}`);
      throw error;
    }
  }

  /** Starts an execution in the background, as `StartExecution` does, once its data can be encrypted. */
  async startExecutionEncrypted(input: string, name?: string): Promise<Execution> {
    await this.#sealExecution();
    return this.startExecution(input, name);
  }

  /** Starts an execution in the background, as `StartExecution` does for the EventBridge target. */
  startExecution(input: string, name: string = randomUUID()): Execution {
    if (this.#abandoned) throw new AwsError('ServiceUnavailable', 'the local runtime is stopping', 503);
    const execution = this.#newExecution(input, name);
    const run = this.#execute(execution);
    this.#running.add(run);
    void run.finally(() => this.#running.delete(run));
    return execution;
  }

  /**
   * Starts an execution and resolves when it has ended, whatever its status:
   * the rule target's delivery counts as done only then, so an execution cut
   * short by a crash is delivered again after a restart (commands are idempotent).
   */
  async runExecution(input: string, name: string = randomUUID()): Promise<Execution> {
    const stopping = () => new DeliveryAbandonedError(`${this.arn}: the runtime is stopping; the execution was not started`);
    if (this.#abandoned) throw stopping();
    await this.#sealExecution();
    if (this.#abandoned) throw stopping();
    const execution = this.#newExecution(input, name);
    const run = this.#execute(execution);
    this.#running.add(run);
    try {
      await run;
    } finally {
      this.#running.delete(run);
    }
    if (execution.status === 'ABORTED') throw new DeliveryAbandonedError(`${execution.executionArn}: abandoned by the runtime's stop`);
    return execution;
  }

  /** Runs an execution to its end, as `StartSyncExecution` does. */
  startSyncExecution(input: string, name: string = randomUUID()): Promise<Execution> {
    return this.runExecution(input, name);
  }

  #newExecution(input: string, name: string): Execution {
    // In AWS's order: the API model's length constraints first, then the name's characters, then the input's JSON.
    enforceLength(AWS_LIMITS.stepFunctionsExecutionNameLength, name);
    enforceBytes(AWS_LIMITS.stepFunctionsExecutionInput, Buffer.byteLength(input, 'utf8'));
    enforceCharacters(AWS_LIMITS.stepFunctionsExecutionNameCharacters, name);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new AwsError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not valid JSON');
    }
    if (nestsDeeperThan(parsed, MAX_INPUT_DEPTH)) {
      throw new AwsError('InvalidExecutionInput', `Invalid State Machine Execution Input: the input nests deeper than ${MAX_INPUT_DEPTH} levels`);
    }
    const execution: Execution = {
      executionArn: `arn:aws:states:${this.#options.region}:${this.#options.account}:express:${this.#options.name}:${name}:${randomUUID()}`,
      name,
      input,
      startDate: Date.now(),
      status: 'RUNNING',
    };
    this.#executions.set(execution.executionArn, execution);
    this.#count(execution, input.length);
    return execution;
  }

  async #execute(execution: Execution): Promise<void> {
    const input = JSON.parse(execution.input) as Json;
    const { result, eventLogs, abort } = this.#machine.run(input, {
      overrides: {
        taskResourceLocalHandlers: this.#tasks,
        ...(this.#retryOverrides ? { retryIntervalOverrides: this.#retryOverrides } : {}),
      },
      context: {
        Execution: { Id: execution.executionArn, Input: input, Name: execution.name, StartTime: new Date(execution.startDate).toISOString() },
        StateMachine: { Id: this.arn, Name: this.#options.name },
      },
    });
    this.#aborts.add(abort);
    const history: StateStep[] = [];
    execution.history = history;
    const recording = this.#record(eventLogs, history);
    this.#withHistory.push(execution);
    if (this.#withHistory.length > HISTORIES_KEPT) delete (this.#withHistory.shift() as Execution).history;
    try {
      execution.output = JSON.stringify(await result);
      execution.status = 'SUCCEEDED';
    } catch (error) {
      if (error instanceof ExecutionAbortedError) {
        execution.status = 'ABORTED';
        return;
      }
      const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : (error as Error);
      execution.status = 'FAILED';
      execution.error = cause?.name ?? 'States.Runtime';
      execution.cause = cause?.message ?? String(error);
    } finally {
      this.#aborts.delete(abort);
      execution.stopDate = Date.now();
      // The path is diagnostics: an interpreter that failed early may never end its event log.
      await Promise.race([recording, new Promise((resolve) => setTimeout(resolve, RECORDING_GRACE_MS).unref())]);
      this.#count(execution, (execution.output?.length ?? 0) + (execution.cause?.length ?? 0) + (execution.history ? jsonLength(execution.history) : 0));
    }
  }

  /** Adds bytes to an execution's share, then drops the oldest executions past the count or byte cap. */
  #count(execution: Execution, bytes: number): void {
    execution.bytes = (execution.bytes ?? 0) + bytes;
    this.#keptBytes += bytes;
    const keep = this.#options.keepExecutions ?? 10_000;
    const keepBytes = this.#options.keepExecutionBytes ?? DEFAULT_KEPT_EXECUTION_BYTES;
    while (this.#executions.size > keep || (this.#keptBytes > keepBytes && this.#executions.size > 1)) {
      const [oldestArn, oldest] = this.#executions.entries().next().value as [string, Execution];
      this.#executions.delete(oldestArn);
      // Its path goes with it (the list of executions with a path still holds the object).
      delete oldest.history;
      this.#keptBytes -= oldest.bytes ?? 0;
      this.#dropped++;
    }
  }

  /** Executions kept, their bytes, and how many were dropped to stay within the caps. */
  get kept(): { executions: number; bytes: number; dropped: number } {
    return { executions: this.#executions.size, bytes: this.#keptBytes, dropped: this.#dropped };
  }

  /** Records the path of an execution from the interpreter's event log (top-level states). */
  async #record(eventLogs: AsyncGenerator<EventLog>, history: StateStep[]): Promise<void> {
    try {
      for await (const event of eventLogs) {
        if (!('state' in event) || 'parentState' in event || event.index !== undefined) continue;
        const current = history[history.length - 1];
        if (event.type === 'StateEntered')
          history.push({ state: event.state.name, type: event.state.type, enteredAt: event.timestamp, input: event.state.input, retries: 0 });
        else if (!current || current.state !== event.state.name) continue;
        else if (event.type === 'StateExited') Object.assign(current, { exitedAt: event.timestamp, output: event.state.output });
        else if (event.type === 'StateFailed')
          Object.assign(current, { exitedAt: event.timestamp, error: `${event.Error}: ${String(event.Cause)}`.slice(0, 2_000) });
        else if (event.type === 'StateRetried') current.retries++;
        else if (event.type === 'StateCaught') Object.assign(current, { exitedAt: event.timestamp, caught: true });
      }
    } catch {
      // The path is diagnostics: the execution's own outcome is what counts.
    }
  }

  /** Binds one Task state to the integration of the service its Resource names, called as the execution role. */
  #bind(stateName: string, resource: string): TaskHandler {
    const match = /^arn:aws:states:::([a-z]+):([A-Za-z]+)$/.exec(resource);
    if (!match) throw new Error(`state ${stateName}: resource ${resource} is not supported locally (only optimized request-response integrations are)`);
    const [, service, action] = match as unknown as [string, string, string];
    const handler = this.#options.integrations.get(service)?.task?.(action, this.#options.principal);
    if (!handler) throw new Error(`state ${stateName}: integration ${service}:${action} is not supported locally`);
    return handler;
  }

  #execution(arn: unknown): Execution {
    const execution = typeof arn === 'string' ? this.#executions.get(arn) : undefined;
    if (!execution) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${String(arn)}'`);
    return execution;
  }

  #checkMachine(arn: unknown): void {
    if (arn !== this.arn) throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(arn)}'`);
  }

  /** The Step Functions API as a JSON service. */
  service(): JsonService {
    const seconds = (millis: number | undefined) => (millis === undefined ? undefined : millis / 1000);
    return {
      targetPrefix: 'AWSStepFunctions',
      jsonVersion: '1.0',
      authorize: (principal, operation, body) =>
        this.#options.gate.authorize({
          principal,
          action: `states:${operation}`,
          resource: optionalString(body, 'stateMachineArn') ?? optionalString(body, 'executionArn') ?? '*',
        }),
      operations: {
        StartExecution: async (body) => {
          this.#checkMachine(requireString(body, 'stateMachineArn'));
          const execution = await this.startExecutionEncrypted(optionalString(body, 'input') ?? '{}', optionalString(body, 'name'));
          return { executionArn: execution.executionArn, startDate: seconds(execution.startDate) };
        },
        StartSyncExecution: async (body) => {
          this.#checkMachine(requireString(body, 'stateMachineArn'));
          const execution = await this.startSyncExecution(optionalString(body, 'input') ?? '{}', optionalString(body, 'name'));
          return {
            executionArn: execution.executionArn,
            stateMachineArn: this.arn,
            name: execution.name,
            startDate: seconds(execution.startDate),
            stopDate: seconds(execution.stopDate),
            status: execution.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED',
            input: execution.input,
            ...(execution.output !== undefined ? { output: execution.output } : {}),
            ...(execution.error !== undefined ? { error: execution.error, cause: execution.cause } : {}),
          };
        },
        DescribeExecution: (body) => {
          const execution = this.#execution(requireString(body, 'executionArn'));
          return {
            executionArn: execution.executionArn,
            stateMachineArn: this.arn,
            name: execution.name,
            status: execution.status,
            startDate: seconds(execution.startDate),
            ...(execution.stopDate !== undefined ? { stopDate: seconds(execution.stopDate) } : {}),
            input: execution.input,
            ...(execution.output !== undefined ? { output: execution.output } : {}),
            ...(execution.error !== undefined ? { error: execution.error, cause: execution.cause } : {}),
          };
        },
      },
    };
  }

  /** Executions so far, newest last (local diagnostics), without their paths. */
  executions(): Omit<Execution, 'history'>[] {
    return [...this.#executions.values()].map(({ history: _, ...summary }) => summary);
  }

  /** One execution with its path, by ARN or name. */
  execution(arnOrName: string): Execution | undefined {
    return this.#executions.get(arnOrName) ?? [...this.#executions.values()].find((execution) => execution.name === arnOrName);
  }

  /** The definition this machine runs (the synthesized one). */
  get definition(): unknown {
    return JSON.parse(this.#options.definition) as unknown;
  }
}

function taskStates(definition: StateMachineDefinition): [string, { Resource: string }][] {
  const found: [string, { Resource: string }][] = [];
  const visit = (states: Record<string, unknown>) => {
    for (const [name, state] of Object.entries(states)) {
      const typed = state as {
        Type: string;
        Resource?: string;
        Branches?: { States: Record<string, unknown> }[];
        ItemProcessor?: { States: Record<string, unknown> };
        Iterator?: { States: Record<string, unknown> };
      };
      if (typed.Type === 'Task' && typed.Resource) found.push([name, { Resource: typed.Resource }]);
      for (const branch of typed.Branches ?? []) visit(branch.States);
      if (typed.ItemProcessor) visit(typed.ItemProcessor.States);
      if (typed.Iterator) visit(typed.Iterator.States);
    }
  };
  visit(definition.States);
  return found;
}

/** Whether a parsed JSON value nests deeper than `limit` (iterative: no recursion to overflow). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(current as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return false;
}

/** The length of a value's JSON, or 0 when it cannot be written (a path is diagnostics). */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}
