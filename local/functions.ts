/**
 * Lambda functions, run in this process from the same esbuild bundles the
 * stacks deploy, with a Lambda-like context (remaining time, request id, ARN)
 * and the timeout enforced. The first invocation imports the bundle: a cold start.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

/** One local function. */
export interface LocalFunctionDefinition {
  readonly name: string;
  /** Path of the bundle's `index.mjs`. */
  readonly bundle: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

/** An invocation's outcome, as Lambda's Invoke API reports it. */
export type InvocationResult =
  | { readonly ok: true; readonly payload: unknown }
  | { readonly ok: false; readonly error: FunctionErrorPayload };

/** The payload of a function error (`X-Amz-Function-Error: Unhandled`). */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
  /** Messages of the records a batch function failed on (local diagnostics). */
  readonly recordErrors?: readonly string[];
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** Options of {@link LocalFunctions}. */
export interface LocalFunctionsOptions {
  readonly region: string;
  readonly account: string;
}

/** The local Lambda service. */
export class LocalFunctions {
  readonly #definitions = new Map<string, LocalFunctionDefinition>();
  readonly #handlers = new Map<string, Promise<Handler>>();
  readonly #options: LocalFunctionsOptions;
  readonly #inFlight = new Set<Promise<unknown>>();
  #invocations = 0;

  constructor(options: LocalFunctionsOptions) {
    this.#options = options;
  }

  /** The ARN a function is known by. */
  arnOf(name: string): string {
    return `arn:aws:lambda:${this.#options.region}:${this.#options.account}:function:${name}`;
  }

  register(definition: LocalFunctionDefinition): void {
    this.#definitions.set(definition.name, definition);
  }

  /** Invocations so far (all functions). */
  get invocations(): number {
    return this.#invocations;
  }

  /** Resolves when every running invocation has finished. */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Invokes a function by name or ARN. */
  async invoke(nameOrArn: string, event: unknown): Promise<InvocationResult> {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn;
    const definition = this.#definitions.get(name);
    if (!definition) throw new Error(`Function not found: ${this.arnOf(name)}`);
    this.#invocations++;
    const run = this.#run(definition, event);
    this.#inFlight.add(run);
    try {
      return await run;
    } finally {
      this.#inFlight.delete(run);
    }
  }

  async #run(definition: LocalFunctionDefinition, event: unknown): Promise<InvocationResult> {
    const started = Date.now();
    const deadline = started + definition.timeoutSeconds * 1000;
    const context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: definition.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.arnOf(definition.name),
      memoryLimitInMB: String(definition.memoryMb),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${definition.name}`,
      logStreamName: `local/${new Date(started).toISOString().slice(0, 10)}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const handler = await this.#load(definition);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error(`Task timed out after ${definition.timeoutSeconds.toFixed(2)} seconds`), { name: 'Sandbox.Timedout' })),
          Math.max(0, deadline - Date.now()),
        );
      });
      // A JSON round trip, as the Lambda service serialises payloads both ways.
      const payload = await Promise.race([handler(JSON.parse(JSON.stringify(event ?? {})), context), timeout]);
      return { ok: true, payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)) };
    } catch (error) {
      return { ok: false, error: errorPayload(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  #load(definition: LocalFunctionDefinition): Promise<Handler> {
    let loading = this.#handlers.get(definition.name);
    if (!loading) {
      loading = import(pathToFileURL(definition.bundle).href).then((module: { handler?: Handler }) => {
        if (typeof module.handler !== 'function') throw new Error(`${definition.bundle} does not export a handler`);
        return module.handler;
      });
      this.#handlers.set(definition.name, loading);
      loading.catch(() => this.#handlers.delete(definition.name));
    }
    return loading;
  }
}

function errorPayload(error: unknown): FunctionErrorPayload {
  const failure = error instanceof Error ? error : new Error(String(error));
  const recordErrors = (failure as { recordErrors?: unknown[] }).recordErrors;
  return {
    errorType: failure.name || 'Error',
    errorMessage: failure.message,
    trace: (failure.stack ?? '').split('\n'),
    ...(Array.isArray(recordErrors)
      ? { recordErrors: recordErrors.map((recordError) => (recordError instanceof Error ? `${recordError.name}: ${recordError.message}` : String(recordError))) }
      : {}),
  };
}
