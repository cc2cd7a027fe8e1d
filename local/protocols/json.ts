/**
 * The AWS JSON protocol (1.0 and 1.1), as the local endpoint speaks it:
 * `POST /` with an `X-Amz-Target: <Service>.<Operation>` header and a JSON
 * body; errors as `{"__type": ..., "message": ...}` with the
 * `x-amzn-errortype` header, HTTP 400 (client) or 500 (server). EventBridge,
 * DynamoDB and its Streams, Step Functions, Secrets Manager, SQS (in its
 * query-compatible mode) and CloudWatch Logs speak it.
 */
import type { ServerResponse } from 'node:http';
import { AccessDeniedError, AwsError } from '../errors';
import { readBody, sendJson, utf8Text } from '../http';
import type { Principal } from '../iam';
import type { Protocol } from '../service';

/** Handles one operation of a service; returns the response body, or a promise of it. */
type OperationHandler = (body: Record<string, unknown>) => unknown;

/** An API served through `X-Amz-Target`, e.g. prefix `AWSEvents`. */
export interface JsonService {
  /** The part of `X-Amz-Target` before the dot. */
  readonly targetPrefix: string;
  /** `1.0` or `1.1`, echoed in the response content type. */
  readonly jsonVersion: '1.0' | '1.1';
  readonly operations: Readonly<Record<string, OperationHandler>>;
  /**
   * The IAM requests AWS evaluates for a call of a role or client identity
   * (the API action on its resource, and the KMS calls it makes), through the
   * gate; a denial throws `AccessDeniedError`. The account's own calls are not checked.
   */
  readonly authorize: (principal: Principal, operation: string, body: Record<string, unknown>) => Promise<void>;
  /** Serves any operation not in `operations` with its own status and body (a proxied API). */
  readonly dispatch?: (operation: string, body: Record<string, unknown>) => Promise<{ status: number; body: unknown }>;
}

/** Writes an AWS-style error of the JSON protocol. */
export function sendJsonError(response: ServerResponse, error: AwsError, jsonVersion: '1.0' | '1.1' = '1.1'): void {
  response.setHeader('x-amzn-errortype', error.type);
  if (error.queryError) response.setHeader('x-amzn-query-error', error.queryError);
  sendJson(response, error.status, { __type: error.type, message: error.message, Message: error.message }, `application/x-amz-json-${jsonVersion}`);
}

/** Parses a JSON request body into an object, or throws the AWS serialization error. */
export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  const text = utf8Text(raw);
  if (text === undefined) throw new AwsError('SerializationException', 'the request body is not valid UTF-8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new AwsError('SerializationException', 'the request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AwsError('SerializationException', 'the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** Reads a required string parameter, refusing others with AWS's ValidationException. */
export function requireString(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/**
 * Reads an optional string parameter: undefined when absent, and a value of
 * another JSON type refused as AWS's deserializer refuses it
 * (`SerializationException`), never read as "[object Object]" or "42".
 */
export function optionalString(body: object, name: string): string | undefined {
  const value = (body as Readonly<Record<string, unknown>>)[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    const kind = Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
    throw new AwsError('SerializationException', `${name} must be a string, got ${kind}`);
  }
  return value;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** The JSON protocol: a `POST` with an `X-Amz-Target` header is its; the API is the one of the target's prefix. */
export const JSON_PROTOCOL: Protocol<JsonService> = {
  name: 'AWS JSON 1.0/1.1 (X-Amz-Target)',
  async serve({ request, response, principal }, apis) {
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string') return false;
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const service = apis.find((candidate) => candidate.targetPrefix === prefix);
    const version = service?.jsonVersion ?? '1.1';
    try {
      // AWS operation names are PascalCase words; anything else is no operation of any service.
      if (!service || !/^[A-Z][A-Za-z0-9]{0,63}$/.test(operation))
        throw new AwsError('UnknownOperationException', `${target} is not served by the local runtime`);
      const body = parseJsonBody(await readBody(request));
      if (principal.kind !== 'account') await service.authorize(principal, operation, body);
      // Only an own operation: 'constructor', 'toString' or '__proto__' are not operations of any service.
      const handler = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
      if (handler) {
        sendJson(response, 200, await handler(body), `application/x-amz-json-${version}`);
      } else if (service.dispatch) {
        const result = await service.dispatch(operation, body);
        sendJson(response, result.status, result.body, `application/x-amz-json-${version}`);
      } else {
        throw new AwsError('UnknownOperationException', `${operation} is not supported by the local ${prefix}`);
      }
    } catch (error) {
      if (response.headersSent) throw error;
      sendJsonError(response, asAwsError(error), version);
    }
    return true;
  },
};

/** The AWS error a failure answers: itself, a denial as `AccessDeniedException`, anything else `InternalFailure`. */
function asAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof AccessDeniedError) return new AwsError('AccessDeniedException', error.message, 400, { cause: error });
  return new AwsError('InternalFailure', (error as Error).message, 500, { cause: error });
}
