/**
 * What the operations CLIs share: where the pipeline is (the local runtime, or
 * a deployed environment), and invoking its functions.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { findLocalEndpoint, unreachableMessage } from '../config/local-endpoint';
import { localClientOptions } from './local-client';
import { resourceNames, type ResourceNames } from '../config/pipeline';
import { type FunctionKey } from '../stacks/catalogue';

/** A local runtime (endpoint) or a deployed environment (normal AWS credentials). */
export interface OperationsTarget {
  readonly environment: string;
  readonly names: ResourceNames;
  /** Set for the local runtime. */
  readonly endpoint?: string;
  /** Where {@link endpoint} came from, for messages. */
  readonly endpointFrom?: string;
  /** Client options for every AWS SDK client of the CLI. */
  readonly clientOptions: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
}

/** `--env <name>` targets a deployed environment; without it, the local runtime (found as config/local-endpoint.ts says). */
export function operationsTarget(env: string | undefined, endpoint: string | undefined): OperationsTarget {
  if (env && env !== 'local') return { environment: env, names: resourceNames(env), clientOptions: {} };
  const found = findLocalEndpoint(endpoint);
  return { environment: 'local', names: resourceNames('local'), endpoint: found.url, endpointFrom: found.from, clientOptions: localClientOptions(found.url) };
}

/** Runs a call to the target; a local runtime that does not answer is named, with how to point elsewhere. */
export async function reachingTarget<T>(target: OperationsTarget, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = target.endpoint ? unreachableMessage({ url: target.endpoint, from: target.endpointFrom ?? 'the caller' }, error) : undefined;
    if (message) throw new Error(message, { cause: error });
    throw error;
  }
}

/** Invokes a pipeline function and returns its result, throwing its error. */
export async function invokeFunction<T>(target: OperationsTarget, key: FunctionKey, payload: unknown): Promise<T> {
  const client = new LambdaClient({ ...target.clientOptions, maxAttempts: 1 });
  try {
    const response = await reachingTarget(target, () =>
      client.send(new InvokeCommand({ FunctionName: target.names.function(key), Payload: Buffer.from(JSON.stringify(payload)) })),
    );
    const body = response.Payload ? (JSON.parse(Buffer.from(response.Payload).toString('utf8')) as unknown) : null;
    if (response.FunctionError) {
      const error = body as { errorType?: string; errorMessage?: string };
      throw new Error(`${target.names.function(key)} failed: ${error.errorType}: ${error.errorMessage}`);
    }
    return body as T;
  } finally {
    client.destroy();
  }
}
