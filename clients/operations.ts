/**
 * What the operations CLIs share: where the pipeline is (the local runtime, or
 * a deployed environment), and invoking its functions.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { localClientOptions } from './local-client';
import { resourceNames, type ResourceNames } from '../config/pipeline';
import { type FunctionKey } from '../stacks/catalogue';

/** A local runtime (endpoint) or a deployed environment (normal AWS credentials). */
export interface OperationsTarget {
  readonly environment: string;
  readonly names: ResourceNames;
  /** Set for the local runtime. */
  readonly endpoint?: string;
  /** Client options for every AWS SDK client of the CLI. */
  readonly clientOptions: { endpoint?: string; region?: string; credentials?: { accessKeyId: string; secretAccessKey: string } };
}

/** `--env <name>` targets a deployed environment; without it, the local runtime. */
export function operationsTarget(env: string | undefined, endpoint: string | undefined): OperationsTarget {
  if (env && env !== 'local') return { environment: env, names: resourceNames(env), clientOptions: {} };
  const local = endpoint ?? process.env.LOCAL_ENDPOINT ?? 'http://127.0.0.1:4566';
  return { environment: 'local', names: resourceNames('local'), endpoint: local, clientOptions: localClientOptions(local) };
}

/** Invokes a pipeline function and returns its result, throwing its error. */
export async function invokeFunction<T>(target: OperationsTarget, key: FunctionKey, payload: unknown): Promise<T> {
  const client = new LambdaClient({ ...target.clientOptions, maxAttempts: 1 });
  try {
    const response = await client.send(
      new InvokeCommand({ FunctionName: target.names.function(key), Payload: Buffer.from(JSON.stringify(payload)) }),
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
