/**
 * Lambda functions as Lambda runs them: each execution environment is a
 * worker thread of its own that imports the handler from the function's
 * deployment zip, sees only the function's synthesized environment plus what
 * Lambda sets (region, function name, memory, the role's credentials, and the
 * endpoint the SDKs call), and runs one invocation at a time. An invocation
 * past the function's reserved concurrency is throttled
 * (`TooManyRequestsException`; an asynchronous one is retried for up to 6
 * hours, as Lambda does); the environments a function runs at once are also
 * bounded on this machine (`maxEnvironments`), and invocations within the
 * reservation wait for one.
 *
 * Timeouts, as Lambda has them (developer guide, "Understanding the Lambda
 * execution environment lifecycle",
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html):
 * - the handler has not answered at the function's timeout: the invocation
 *   fails with `Sandbox.Timedout` and the environment is reset (its thread
 *   ends, with whatever it was doing; a transaction it held open is rolled
 *   back by the server when its connection closes);
 * - the handler answered first, an error included (middy ends an invocation
 *   5 ms before the deadline with `TimeoutError`): the invocation ends there
 *   and the environment is frozen, as Lambda freezes it, with any work the
 *   handler left running; that work resumes when the environment is thawed
 *   by its next invocation, or never, if the environment is retired first.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AWS_LIMITS, exceeded } from './aws-limits';
import { AccessDeniedError, AwsError, InvokeError, TaskError, UnsupportedTerraformError } from './errors';
import { readBody, sendJson, utf8Text } from './http';
import type { IamGate, Principal } from './iam';
import { REST_JSON_PROTOCOL } from './protocols/rest-json';
import type { Binding, Call, LocalService } from './service';
import type { RoleCredentials } from './sessions';
import type { TerraformModel, TerraformResource } from './terraform';
import { extractOnce } from './unzip';

declare module './service' {
  interface Parts {
    functions: LocalFunctions;
  }
}

/** Lambda's `Invoke` path. */
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/**
 * The Lambda service: each `aws_lambda_function` runs from its zip with its
 * role's session; its log lines go to its log group as the role writes
 * them; `Invoke` is served on the endpoint, and to the workflow's
 * `lambda:invoke` Tasks, under the caller's policies: the one place
 * `lambda:InvokeFunction` is checked.
 */
export const lambdaService: LocalService = {
  name: 'lambda',
  serves: {
    aws_lambda_function: {
      becomes: 'a function run from its zip in worker threads',
      attributes: (model, resource) => {
        const { region, account } = model.context;
        const name = model.string(resource, 'function_name');
        const arn = `arn:aws:lambda:${region}:${account}:function:${name}`;
        return {
          id: name,
          function_name: name,
          arn,
          qualified_arn: `${arn}:$LATEST`,
          invoke_arn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
          version: '$LATEST',
        };
      },
    },
  },
  bind(binding) {
    const { model, gate, provide, serve, integrate, onStop, onIdle, creationCheck, assumeRole } = binding;
    const functions = new LocalFunctions(functionsOptions(binding));
    onStop(() => functions.stop());
    for (const fn of model.resources('aws_lambda_function')) {
      const definition = functionDefinition(model, fn);
      const inVpc = model.field(fn, 'vpc_config') !== undefined;
      // Lambda checks at creation that it may assume the role and, in a VPC, manage ENIs with it.
      creationCheck(async () => {
        await assumeRole('lambda.amazonaws.com', definition.roleArn);
        if (!inVpc) return;
        for (const action of ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface']) {
          await gate.authorize({ principal: { kind: 'role', arn: definition.roleArn }, action, resource: '*' });
        }
      });
      functions.register(definition);
    }
    serve(REST_JSON_PROTOCOL, { method: 'POST', path: INVOKE_PATH, handle: (call, match) => invokeFunction(call, functions, gate, match[1] as string) });
    provide('functions', functions);
    integrate('lambda', { task: (action, principal) => (action === 'invoke' ? (input) => invokeTask(functions, gate, principal, input) : undefined) });
    onIdle(async () => {
      await functions.drain();
      return true;
    });
    describeFunctions(binding, functions);
  },
};

/** The functions' options: each role's session, and log lines written to the function's log group with its role. */
function functionsOptions({ region, endpoint, sessions, options, use, log }: Binding): LocalFunctionsOptions {
  const logs = use('logs');
  return {
    region,
    endpoint,
    credentials: (roleArn) => sessions.for(roleArn),
    ...(options.retryDelayMs !== undefined ? { asyncRetryDelayMs: () => options.retryDelayMs as number } : {}),
    onAsyncDropped: (fn, reason) => log(`${fn.name}: an asynchronous invocation was dropped: ${reason}`),
    ...(options.functionLogLevel ? { applicationLogLevel: options.functionLogLevel } : {}),
    // Lambda writes the function's logs with its execution role; a refused write is dropped.
    onLog: (fn, line) => {
      const group = logs.groups.get(fn.logGroup);
      if (!group) return;
      logs
        .write({ kind: 'role', arn: fn.roleArn }, group, 'local', line)
        .then(() => {
          if (options.functionLogs || options.functionLogLevel) log(`${fn.name} | ${line}`);
        })
        .catch(() => undefined);
    },
  };
}

/** The functions' entries in the status and the summary. */
function describeFunctions({ status, summary }: Binding, functions: LocalFunctions): void {
  status('functions', () => functions.definitions().map((fn) => ({ name: fn.name, role: fn.roleArn, reservedConcurrency: fn.reservedConcurrency ?? null })));
  status('functionEnvironments', () => functions.environments());
  status('functionInvocations', () => functions.invocations);
  status('functionDurations', () => functions.durations());
  status('functionThrottles', () => functions.throttles());
  status('coldStarts', () => functions.coldStarts);
  summary(
    'functions',
    functions
      .definitions()
      .map((fn) => fn.name)
      .join(', '),
  );
}

/**
 * Lambda's `Invoke` (REST-JSON): what the CLIs and the schema trigger use.
 * Refusals (a bad name, a payload past Lambda's limits, a missing or throttled
 * function, a denial) are thrown and answered by the protocol.
 */
async function invokeFunction({ request, response, principal }: Call, functions: LocalFunctions, gate: IamGate, encodedName: string): Promise<void> {
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch (error) {
    throw new AwsError('ValidationException', 'the function name in the path is not valid percent-encoding', 400, { cause: error });
  }
  const raw = await readBody(request);
  const tooLarge = exceeded(request.headers['x-amz-invocation-type'] === 'Event' ? AWS_LIMITS.lambdaAsyncPayload : AWS_LIMITS.lambdaSyncPayload, raw.length);
  if (tooLarge) throw tooLarge;
  const text = utf8Text(raw);
  if (text === undefined) throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json: it is not valid UTF-8');
  let payload: unknown;
  try {
    payload = text.length > 0 ? JSON.parse(text) : {};
  } catch (error) {
    throw new AwsError('InvalidRequestContentException', 'Could not parse request body into json', 400, { cause: error });
  }
  try {
    const definition = functions.require(name);
    if (principal.kind !== 'account') await gate.authorize({ principal, action: 'lambda:InvokeFunction', resource: definition.arn });
    if (request.headers['x-amz-invocation-type'] === 'Event') {
      // Queued, as Lambda queues it: a throttled invocation is retried, not lost.
      functions.invokeAsync(name, payload);
      response.writeHead(202).end();
      return;
    }
    const result = await functions.invoke(name, payload);
    response.setHeader('x-amz-executed-version', '$LATEST');
    if (!result.ok) response.setHeader('x-amz-function-error', 'Unhandled');
    sendJson(response, 200, result.ok ? result.payload : result.error);
  } catch (error) {
    if (error instanceof InvokeError) throw new AwsError(error.name, error.message, error.status, { cause: error });
    throw error;
  }
}

/** The workflow's `lambda:invoke` Task: `InvokeFunction` as the execution role, failures named as Step Functions names Lambda's. */
async function invokeTask(functions: LocalFunctions, gate: IamGate, principal: Principal, input: unknown): Promise<unknown> {
  const { FunctionName, Payload } = input as { FunctionName: string; Payload?: unknown };
  let result;
  try {
    await gate.authorize({ principal, action: 'lambda:InvokeFunction', resource: functions.find(FunctionName)?.arn ?? FunctionName });
    result = await functions.invoke(FunctionName, Payload ?? {});
  } catch (error) {
    if (error instanceof AccessDeniedError)
      throw new TaskError('Lambda.AWSLambdaException', `${error.message} (Service: Lambda, Status Code: 403, Error Code: AccessDeniedException)`, {
        cause: error,
      });
    if (error instanceof InvokeError) throw new TaskError(`Lambda.${error.name}`, error.message, { cause: error });
    throw error;
  }
  if (!result.ok) throw new TaskError(result.error.errorType, JSON.stringify(result.error));
  return { ExecutedVersion: '$LATEST', Payload: result.payload, StatusCode: 200 };
}

/** One local function, from its synthesized `aws_lambda_function`. */
export interface LocalFunctionDefinition {
  readonly name: string;
  readonly arn: string;
  readonly roleArn: string;
  /** Folder of the extracted deployment zip. */
  readonly codeDir: string;
  /** `file.export`, as in the function's `handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Reserved concurrency; unreserved functions get {@link LocalFunctionsOptions.maxEnvironments}. */
  readonly reservedConcurrency?: number;
  /** The environment variables exactly as synthesized. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logGroup: string;
  /** Whether Lambda logs as JSON (`logging_config.log_format`). */
  readonly jsonLogs: boolean;
}

/** An invocation's outcome, as Lambda's Invoke API reports it. */
type InvocationResult = { readonly ok: true; readonly payload: unknown } | { readonly ok: false; readonly error: FunctionErrorPayload };

/** The payload of a function error (`X-Amz-Function-Error: Unhandled`). */
interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
  /** Messages of the records a batch function failed on (local diagnostics). */
  readonly recordErrors?: readonly string[];
}

/** Options of {@link LocalFunctions}. */
export interface LocalFunctionsOptions {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: (roleArn: string) => RoleCredentials;
  /** Receives each line a function writes (its log group's content). */
  readonly onLog?: (fn: LocalFunctionDefinition, line: string) => void;
  /**
   * Lambda's advanced logging control (`logging_config.application_log_level`):
   * set as `AWS_LAMBDA_LOG_LEVEL`, which Powertools honours.
   */
  readonly applicationLogLevel?: string;
  /**
   * Execution environments (worker threads) per function at most; further
   * invocations wait for one. A function with reserved concurrency is still
   * throttled only past its reservation, counting those that wait. @default 8
   */
  readonly maxEnvironments?: number;
  /** Delay before retry `n` (1-based) of a throttled asynchronous invocation. @default {@link ASYNC_THROTTLE_RETRY} */
  readonly asyncRetryDelayMs?: (attempt: number) => number;
  /** Told when a throttled asynchronous invocation is given up (past Lambda's 6 hours) or the runtime stops first. */
  readonly onAsyncDropped?: (fn: LocalFunctionDefinition, reason: string) => void;
}

/** The value of an environment's gate that lets its thread run (the sandbox sets 0, frozen, after each result). */
const THAWED = 1;

interface Environment {
  readonly worker: Worker;
  /** Shared with the sandbox: THAWED lets its thread run, FROZEN (its own, after each result) blocks it. */
  readonly gate: Int32Array;
  generation: number;
  readonly pending: Map<string, (message: { ok: boolean; payload?: unknown; error?: FunctionErrorPayload }) => void>;
  exited: boolean;
}

interface Pool {
  readonly idle: Environment[];
  /** Invocations running in an environment. */
  busy: number;
  /** Invocations taken (running, or waiting for an environment): what counts against reserved concurrency. */
  admitted: number;
  readonly waiting: (() => void)[];
}

/**
 * How long Lambda keeps retrying an asynchronous invocation it throttled, and
 * the backoff between tries (1 second, doubling, at most 5 minutes): "For
 * throttling errors (429) and system errors (500-series), Lambda returns the
 * event to the queue and attempts to run the function again for up to 6 hours",
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
export const ASYNC_THROTTLE_RETRY = { maximumEventAgeMs: 6 * 3600 * 1000, firstDelayMs: 1_000, maximumDelayMs: 5 * 60 * 1000 } as const;

/** The local Lambda service. */
export class LocalFunctions {
  readonly #options: LocalFunctionsOptions;
  readonly #definitions = new Map<string, LocalFunctionDefinition>();
  readonly #pools = new Map<string, Pool>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** The latest invocation durations per function (ms), for the capacity model's inputs. */
  readonly #durations = new Map<string, number[]>();
  /** Invocations refused past each function's reserved concurrency: Lambda's `Throttles` metric. */
  readonly #throttles = new Map<string, number>();
  readonly #all = new Set<Environment>();
  #invocations = 0;
  #coldStarts = 0;
  #stopped = false;
  #generation = 0;

  constructor(options: LocalFunctionsOptions) {
    this.#options = options;
  }

  register(definition: LocalFunctionDefinition): void {
    this.#definitions.set(definition.name, definition);
    this.#pools.set(definition.name, { idle: [], busy: 0, admitted: 0, waiting: [] });
  }

  /** The registered functions. */
  definitions(): LocalFunctionDefinition[] {
    return [...this.#definitions.values()];
  }

  /** A function by name or ARN (qualified or not), or undefined. */
  find(nameOrArn: string): LocalFunctionDefinition | undefined {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn;
    return this.#definitions.get(name);
  }

  /** The function's ARN, or a not-found error as Lambda answers it. */
  require(nameOrArn: string): LocalFunctionDefinition {
    const definition = this.find(nameOrArn);
    if (!definition) throw new InvokeError('ResourceNotFoundException', `Function not found: ${nameOrArn}`, 404);
    return definition;
  }

  /** Invocations so far (all functions), and cold starts. */
  get invocations(): number {
    return this.#invocations;
  }

  get coldStarts(): number {
    return this.#coldStarts;
  }

  /** Resolves when every running invocation has finished. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Retires the execution environments (of one role's functions, or all), as
   * a deploy does: the next invocations start cold (and fetch their secrets again).
   */
  recycle(roleArn?: string): void {
    this.#generation++;
    for (const [name, pool] of this.#pools) {
      // Only the functions of one role, when given: the others keep running warm.
      if (roleArn !== undefined && this.#definitions.get(name)?.roleArn !== roleArn) {
        for (const environment of pool.idle) environment.generation = this.#generation;
        continue;
      }
      for (const environment of pool.idle.splice(0)) this.#retire(environment);
    }
  }

  #retire(environment: Environment): void {
    environment.exited = true;
    this.#all.delete(environment);
    void environment.worker.terminate();
  }

  /** Ends every execution environment. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#all].map((environment) => environment.worker.terminate()));
  }

  /**
   * Invokes a function. Throws {@link InvokeError} when it does not exist or
   * is throttled; a function error is an `ok: false` result.
   */
  async invoke(nameOrArn: string, event: unknown): Promise<InvocationResult> {
    const definition = this.require(nameOrArn);
    this.#invocations++;
    const run = this.#run(definition, event);
    this.#inFlight.add(run);
    try {
      return await run;
    } finally {
      this.#inFlight.delete(run);
    }
  }

  /**
   * Invokes a function asynchronously (`InvocationType: Event`), as Lambda
   * does: the call returns at once; a throttled invocation is tried again
   * with backoff (1 s doubling to 5 minutes) for up to 6 hours. Throws only
   * {@link InvokeError} `ResourceNotFoundException`, at once.
   */
  invokeAsync(nameOrArn: string, event: unknown): void {
    const definition = this.require(nameOrArn);
    const run = this.#retryThrottled(definition, event);
    this.#inFlight.add(run);
    void run.finally(() => this.#inFlight.delete(run));
  }

  async #retryThrottled(definition: LocalFunctionDefinition, event: unknown): Promise<void> {
    const started = Date.now();
    const delay =
      this.#options.asyncRetryDelayMs ??
      ((attempt: number) => Math.min(ASYNC_THROTTLE_RETRY.firstDelayMs * 2 ** (attempt - 1), ASYNC_THROTTLE_RETRY.maximumDelayMs));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.invoke(definition.name, event);
        return;
      } catch (error) {
        if (!(error instanceof InvokeError && error.name === 'TooManyRequestsException')) return;
        const wait = delay(attempt);
        if (this.#stopped || Date.now() - started + wait > ASYNC_THROTTLE_RETRY.maximumEventAgeMs) {
          this.#options.onAsyncDropped?.(definition, this.#stopped ? 'the runtime stopped' : `still throttled after ${attempt} tries in 6 hours`);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  #recordDuration(name: string, ms: number): void {
    const samples = this.#durations.get(name) ?? [];
    samples.push(ms);
    if (samples.length > 1_000) samples.shift();
    this.#durations.set(name, samples);
  }

  /** Invocations throttled past their function's reserved concurrency, by function (only those throttled at least once). */
  throttles(): Record<string, number> {
    return Object.fromEntries(this.#throttles);
  }

  /** Execution environments (worker threads) alive per function, and the memory each may use at most. */
  environments(): Record<string, { environments: number; memoryMb: number }> {
    return Object.fromEntries(
      [...this.#pools].map(([name, pool]) => [name, { environments: pool.busy + pool.idle.length, memoryMb: this.require(name).memoryMb }]),
    );
  }

  /** Median duration (ms) of each function's latest invocations (up to 1,000), and how many were sampled. */
  durations(): Record<string, { p50Ms: number; samples: number }> {
    return Object.fromEntries(
      [...this.#durations].map(([name, samples]) => {
        const sorted = [...samples].sort((a, b) => a - b);
        return [name, { p50Ms: Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 10) / 10, samples: samples.length }];
      }),
    );
  }

  async #run(definition: LocalFunctionDefinition, event: unknown): Promise<InvocationResult> {
    const pool = this.#pools.get(definition.name) as Pool;
    const reserved = definition.reservedConcurrency;
    // Lambda throttles past the reservation; the threads this machine runs are bounded apart from it.
    if (reserved !== undefined && pool.admitted >= reserved) {
      this.#throttles.set(definition.name, (this.#throttles.get(definition.name) ?? 0) + 1);
      const reason = reserved === 0 ? 'has reserved concurrency 0' : `is at its reserved concurrency (${reserved})`;
      throw new InvokeError('TooManyRequestsException', `Rate Exceeded. Function ${definition.name} ${reason}`, 429);
    }
    pool.admitted++;
    const threads = Math.min(reserved ?? Number.POSITIVE_INFINITY, this.#options.maxEnvironments ?? 8);
    try {
      while (pool.busy >= threads) await new Promise<void>((resolve) => pool.waiting.push(resolve));
    } catch (error) {
      pool.admitted--;
      throw error;
    }
    pool.busy++;
    let environment = pool.idle.pop();
    // The invocation's duration, as Lambda bills it: from an environment taking it (a cold start's init excluded) to its result.
    let started: number;
    try {
      environment ??= this.#start(definition);
      started = performance.now();
      const result = await this.#send(definition, environment, event);
      this.#recordDuration(definition.name, performance.now() - started);
      if (environment.exited) {
        // Ended by a timeout or a crash.
      } else if (environment.generation < this.#generation) {
        this.#retire(environment);
      } else {
        pool.idle.push(environment);
      }
      return result;
    } finally {
      pool.busy--;
      pool.admitted--;
      pool.waiting.shift()?.();
    }
  }

  #start(definition: LocalFunctionDefinition): Environment {
    if (this.#stopped) throw new InvokeError('TooManyRequestsException', 'the local runtime is stopping', 429);
    this.#coldStarts++;
    const dot = definition.handler.lastIndexOf('.');
    const file = definition.handler.slice(0, dot);
    const credentials = this.#options.credentials(definition.roleArn);
    const env: Record<string, string> = {
      ...definition.environment,
      // What Lambda sets in every execution environment.
      AWS_REGION: this.#options.region,
      AWS_DEFAULT_REGION: this.#options.region,
      AWS_LAMBDA_FUNCTION_NAME: definition.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: definition.logGroup,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/${randomUUID()}`,
      ...(definition.jsonLogs ? { AWS_LAMBDA_LOG_FORMAT: 'JSON' } : {}),
      ...(this.#options.applicationLogLevel ? { AWS_LAMBDA_LOG_LEVEL: this.#options.applicationLogLevel } : {}),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
      LAMBDA_TASK_ROOT: definition.codeDir,
      _HANDLER: definition.handler,
      TZ: 'UTC',
      // Not set by Lambda: points the SDKs at the local endpoint.
      AWS_ENDPOINT_URL: this.#options.endpoint,
    };
    const gate = new Int32Array(new SharedArrayBuffer(4));
    Atomics.store(gate, 0, THAWED);
    const worker = new Worker(new URL('./lambda-sandbox.mjs', import.meta.url), {
      env,
      execArgv: [],
      workerData: { modulePath: path.join(definition.codeDir, `${file}.mjs`), exportName: definition.handler.slice(dot + 1), freeze: gate.buffer },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: definition.memoryMb },
    });
    const environment: Environment = { worker, gate, generation: this.#generation, pending: new Map(), exited: false };
    this.#all.add(environment);
    for (const stream of [worker.stdout, worker.stderr]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline);
          buffered = buffered.slice(newline + 1);
          if (line.length > 0) this.#options.onLog?.(definition, line);
          newline = buffered.indexOf('\n');
        }
      });
    }
    worker.on('message', (message: { id: string; ok: boolean; payload?: unknown; error?: FunctionErrorPayload }) => {
      environment.pending.get(message.id)?.(message);
    });
    const fail = (errorType: string, errorMessage: string) => {
      environment.exited = true;
      this.#all.delete(environment);
      for (const resolve of environment.pending.values()) resolve({ ok: false, error: { errorType, errorMessage, trace: [] } });
      environment.pending.clear();
    };
    worker.on('error', (error) => fail('Runtime.ExitError', `RequestId: the execution environment failed: ${error.message}`));
    worker.on('exit', (code) => fail('Runtime.ExitError', `Runtime exited with error: exit status ${code}`));
    return environment;
  }

  async #send(definition: LocalFunctionDefinition, environment: Environment, event: unknown): Promise<InvocationResult> {
    const id = randomUUID();
    const started = Date.now();
    const context = {
      functionName: definition.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: definition.arn,
      memoryLimitInMB: String(definition.memoryMb),
      awsRequestId: id,
      logGroupName: definition.logGroup,
      logStreamName: `local/${new Date(started).toISOString().slice(0, 10)}`,
      deadline: started + definition.timeoutSeconds * 1000,
    };
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<{ ok: boolean; payload?: unknown; error?: FunctionErrorPayload }>((resolve) => {
      environment.pending.set(id, resolve);
      timer = setTimeout(() => {
        // Lambda ends the environment at the timeout; the next invocation starts a new one.
        environment.pending.delete(id);
        environment.exited = true;
        this.#all.delete(environment);
        void environment.worker.terminate();
        resolve({
          ok: false,
          error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`, trace: [] },
        });
      }, definition.timeoutSeconds * 1000);
    });
    try {
      // A JSON round trip, as the Lambda service serialises payloads.
      environment.worker.postMessage({ id, event: JSON.parse(JSON.stringify(event ?? {})) as unknown, context });
      // Thaws the environment (frozen since its last result) to take the invocation.
      Atomics.store(environment.gate, 0, THAWED);
      Atomics.notify(environment.gate, 0);
    } catch (error) {
      environment.pending.delete(id);
      clearTimeout(timer);
      return { ok: false, error: { errorType: 'Runtime.InvalidPayload', errorMessage: (error as Error).message, trace: [] } };
    }
    // Lambda's platform lines go to the function's log group like its own output.
    this.#options.onLog?.(definition, `START RequestId: ${id} Version: $LATEST`);
    const message = await reply;
    clearTimeout(timer);
    environment.pending.delete(id);
    this.#options.onLog?.(definition, `END RequestId: ${id}`);
    this.#options.onLog?.(definition, `REPORT RequestId: ${id}\tDuration: ${Date.now() - started} ms\tMemory Size: ${definition.memoryMb} MB`);
    return message.ok ? { ok: true, payload: message.payload } : { ok: false, error: message.error as FunctionErrorPayload };
  }
}

/** A function's definition from its `aws_lambda_function`. */
function functionDefinition(model: TerraformModel, fn: TerraformResource): LocalFunctionDefinition {
  const attributes = model.attributes(fn);
  const filename = model.string(fn, 'filename');
  const handler = model.string(fn, 'handler');
  if (!/^[\w/-]+\.[A-Za-z_$][\w$]*$/.test(handler)) throw new UnsupportedTerraformError(fn.address, `handler ${handler} is not file.export`);
  const reserved = model.field(fn, 'reserved_concurrent_executions') as number | undefined;
  const logGroup = (model.field(fn, 'logging_config', 'log_group') as string | undefined) ?? `/aws/lambda/${String(attributes.function_name)}`;
  return {
    name: attributes.function_name as string,
    arn: attributes.arn as string,
    roleArn: model.string(fn, 'role'),
    codeDir: extractOnce(path.join(model.stackDir(fn.stack), filename)),
    handler,
    timeoutSeconds: (model.field(fn, 'timeout') as number | undefined) ?? 3,
    memoryMb: (model.field(fn, 'memory_size') as number | undefined) ?? 128,
    ...(reserved !== undefined && reserved >= 0 ? { reservedConcurrency: reserved } : {}),
    environment: (model.field(fn, 'environment', 'variables') as Record<string, string> | undefined) ?? {},
    logGroup,
    jsonLogs: model.field(fn, 'logging_config', 'log_format') === 'JSON',
  };
}
