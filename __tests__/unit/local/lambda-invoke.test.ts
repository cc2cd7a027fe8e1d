/**
 * Lambda's `Invoke` as the local runtime serves it (`invokeFunction` in
 * local/functions.ts) refuses the payloads Lambda refuses (`AWS_LIMITS`),
 * proven with the AWS SDK's Lambda client over HTTP: the error is the one the
 * SDK models, `RequestTooLargeException`, with HTTP 413. Apart from
 * functions.test.ts, which covers the execution environments.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InvokeCommand, LambdaClient, RequestTooLargeException } from '@aws-sdk/client-lambda';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lambdaService, type LocalFunctions } from '../../../local/functions';
import { bindForTest, clientOptions, startTestEndpoint, type TestEndpoint } from '../../helpers/endpoint';

let endpoint: TestEndpoint;
let functions: LocalFunctions;
let client: LambdaClient;

beforeAll(async () => {
  endpoint = await startTestEndpoint();
  // The Lambda service bound as the runtime binds it: its Invoke route lands on the test endpoint.
  const { provided } = await bindForTest(lambdaService, endpoint, { logs: { groups: new Map() } as never });
  functions = provided.functions as LocalFunctions;
  const codeDir = mkdtempSync(path.join(tmpdir(), 'lambda-invoke-'));
  writeFileSync(path.join(codeDir, 'index.mjs'), 'export const handler = async (event) => ({ received: JSON.stringify(event).length });');
  functions.register({
    name: 'echo-size',
    arn: 'arn:aws:lambda:us-east-1:000000000000:function:echo-size',
    roleArn: 'arn:aws:iam::000000000000:role/r',
    codeDir,
    handler: 'index.handler',
    timeoutSeconds: 30,
    memoryMb: 128,
    environment: {},
    logGroup: '/aws/lambda/echo-size',
    jsonLogs: true,
  });
  client = new LambdaClient(clientOptions(endpoint));
});

afterAll(async () => {
  client?.destroy();
  await functions?.stop();
  await endpoint?.close();
});

/** A JSON payload of exactly `bytes` bytes. */
function payloadOf(bytes: number): Uint8Array {
  const payload = Buffer.from(JSON.stringify({ p: 'x'.repeat(bytes - Buffer.byteLength('{"p":""}')) }));
  expect(payload.length).toBe(bytes);
  return payload;
}

/** The invocation's outcome: its status code, or the error it failed with. */
async function invoke(
  bytes: number,
  invocationType: 'RequestResponse' | 'Event',
): Promise<{ status?: number; received?: number; error?: Error & { $metadata?: { httpStatusCode?: number } } }> {
  try {
    const result = await client.send(new InvokeCommand({ FunctionName: 'echo-size', InvocationType: invocationType, Payload: payloadOf(bytes) }));
    const body = result.Payload && result.Payload.length > 0 ? (JSON.parse(Buffer.from(result.Payload).toString()) as { received?: number }) : {};
    return { status: result.StatusCode, ...(body.received !== undefined ? { received: body.received } : {}) };
  } catch (error) {
    return { error: error as Error };
  }
}

describe('Lambda Invoke payload limits', () => {
  it('runs a synchronous invocation of 6,291,456 bytes and refuses 6,291,457 with RequestTooLargeException (413)', async () => {
    // Act
    const atLimit = await invoke(6_291_456, 'RequestResponse');
    const pastLimit = await invoke(6_291_457, 'RequestResponse');

    // Assess
    expect(atLimit).toEqual({ status: 200, received: 6_291_456 });
    expect(pastLimit.error).toBeInstanceOf(RequestTooLargeException);
    expect(pastLimit.error).toMatchObject({ name: 'RequestTooLargeException', $metadata: { httpStatusCode: 413 } });
    expect(pastLimit.error?.message).toBe('Request must be smaller than 6291456 bytes for the InvokeFunction operation (the payload is 6291457 bytes)');
  }, 60_000);

  it('queues an asynchronous invocation of 1,048,576 bytes and refuses 1,048,577 with RequestTooLargeException (413)', async () => {
    // Act
    const atLimit = await invoke(1_048_576, 'Event');
    const pastLimit = await invoke(1_048_577, 'Event');
    await functions.drain();

    // Assess
    expect(atLimit).toEqual({ status: 202 });
    expect(pastLimit.error).toBeInstanceOf(RequestTooLargeException);
    expect(pastLimit.error).toMatchObject({ name: 'RequestTooLargeException', $metadata: { httpStatusCode: 413 } });
    expect(pastLimit.error?.message).toBe('1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)');
  }, 60_000);
});
