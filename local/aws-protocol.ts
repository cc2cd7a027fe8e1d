/**
 * The AWS JSON protocol as the local endpoint speaks it: `POST /` with an
 * `X-Amz-Target: <Service>.<Operation>` header and a JSON body; errors as
 * `{"__type": ..., "message": ...}` with HTTP 400 (client) or 500 (server).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from './errors';
import type { Principal } from './iam';

/** Handles one operation of a service; returns the response body. */
type OperationHandler = (body: Record<string, unknown>) => Promise<unknown> | unknown;

/** A service served through `X-Amz-Target`, e.g. prefix `AWSEvents`. */
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

/** Reads a request body, refusing anything over `limit` bytes. */
export async function readBody(request: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AwsError('RequestEntityTooLargeException', `request body is over ${limit} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Writes a JSON response. */
export function sendJson(response: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': payload.length,
    'x-amzn-requestid': crypto.randomUUID(),
  });
  response.end(payload);
}

/** Writes an AWS-style error for the JSON protocol. */
export function sendAwsError(response: ServerResponse, error: AwsError, jsonVersion: '1.0' | '1.1' = '1.1'): void {
  response.setHeader('x-amzn-errortype', error.type);
  if (error.queryError) response.setHeader('x-amzn-query-error', error.queryError);
  sendJson(response, error.status, { __type: error.type, message: error.message, Message: error.message }, `application/x-amz-json-${jsonVersion}`);
}

/** Parses a JSON request body into an object, or throws the AWS serialization error. */
export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
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
    throw new AwsError('ValidationException', `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** A file served as it is (the console's page and scripts). */
export class StaticFile {
  constructor(
    readonly content: Buffer,
    readonly contentType: string,
  ) {}
}

/** A response body that is already JSON text. */
export class RawJson {
  constructor(
    readonly json: string,
    readonly headers: Record<string, string> = {},
  ) {}
}
