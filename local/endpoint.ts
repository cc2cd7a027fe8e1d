/**
 * The local endpoint's request handling: the AWS JSON protocol (`X-Amz-Target`),
 * Lambda's REST `Invoke`, the `/_local/*` pages, and who the caller is (a
 * function's role session, a client identity, or the account), checked
 * against the IAM gate before any service acts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Authorizer } from './authorization';
import { putEventsRequests } from './authorization';
import { AwsError, parseJsonBody, RawJson, readBody, sendAwsError, sendJson, StaticFile, type JsonService } from './aws-protocol';
import { InvokeError, type LocalFunctions } from './functions';
import { AccessDeniedError, type Principal } from './iam';

/** What the endpoint routes to; the runtime fills it as its services start. */
export interface Router {
  readonly region: string;
  readonly account: string;
  /** Long-lived GET endpoints (server-sent events), by path. */
  streams: Map<string, (request: IncomingMessage, response: ServerResponse) => void>;
  services: Map<string, JsonService>;
  extra: Map<string, (url: URL) => unknown>;
  functions: LocalFunctions | undefined;
  authorizer: Authorizer | undefined;
  /** Access key id → role ARN of the functions' sessions. */
  principals: ReadonlyMap<string, string>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

/** The caller, from the SigV4 `Authorization` header: a function's role, a client identity (`producer`, `consumer`), or the account. */
function principalOf(request: IncomingMessage, router: Router): Principal {
  const authorization = request.headers.authorization ?? '';
  const accessKey = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  const roleArn = accessKey ? router.principals.get(accessKey) : undefined;
  return roleArn ? { kind: 'role', arn: roleArn } : { kind: 'account' };
}

/** Checks a JSON-protocol call against the caller's policies. */
async function authorizeCall(router: Router, principal: Principal, prefix: string, operation: string, body: Record<string, unknown>): Promise<void> {
  const authorizer = router.authorizer;
  if (!authorizer || principal.kind === 'account') return;
  switch (prefix) {
    case 'DynamoDB_20120810':
      return authorizer.dynamodb(principal, operation, body);
    case 'DynamoDBStreams_20120810':
      return authorizer.stream(principal, operation, typeof body.StreamArn === 'string' ? body.StreamArn : undefined);
    case 'secretsmanager':
      return authorizer.secret(principal, operation, typeof body.SecretId === 'string' ? body.SecretId : undefined);
    case 'AmazonSQS':
      return authorizer.queue(principal, operation, String(body.QueueUrl ?? body.QueueName ?? ''));
    case 'AWSEvents':
      // One call, one decision per bus, with every entry's values: a denied call delivers nothing.
      for (const request of putEventsRequests(principal, Array.isArray(body.Entries) ? (body.Entries as unknown[]) : [], router.region, router.account)) await authorizer.gate.authorize(request);
      return;
    case 'Logs_20140328':
      return authorizer.gate.authorize({ principal, action: `logs:${operation}`, resource: `arn:aws:logs:${router.region}:${router.account}:log-group:${String(body.logGroupName ?? '*')}` });
    case 'AWSStepFunctions':
      return authorizer.gate.authorize({ principal, action: `states:${operation}`, resource: String(body.stateMachineArn ?? body.executionArn ?? '*') });
    default:
      return authorizer.gate.authorize({ principal, action: `${prefix.toLowerCase()}:${operation}`, resource: '*' });
  }
}

/** Lambda's `Invoke` (REST): what the CLIs and the schema trigger use. */
async function invokeFunction(request: IncomingMessage, response: ServerResponse, router: Router, name: string): Promise<void> {
  const functions = router.functions as LocalFunctions;
  const raw = await readBody(request, 6 * 1024 * 1024);
  let payload: unknown = {};
  try {
    payload = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : {};
  } catch {
    sendJson(response, 400, { Type: 'User', message: 'Could not parse request body into json' });
    return;
  }
  const type = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  try {
    const definition = functions.require(name);
    await router.authorizer?.gate.authorize({ principal: principalOf(request, router), action: 'lambda:InvokeFunction', resource: definition.arn });
    if (type === 'Event') {
      functions.invoke(name, payload).catch(() => undefined);
      response.writeHead(202).end();
      return;
    }
    const result = await functions.invoke(name, payload);
    response.setHeader('x-amz-executed-version', '$LATEST');
    if (!result.ok) response.setHeader('x-amz-function-error', 'Unhandled');
    sendJson(response, 200, result.ok ? result.payload : result.error);
  } catch (error) {
    if (error instanceof InvokeError || error instanceof AccessDeniedError) {
      const status = error instanceof InvokeError ? error.status : 403;
      response.setHeader('x-amzn-errortype', error.name);
      sendJson(response, status, { Type: 'User', message: error.message });
      return;
    }
    throw error;
  }
}

export async function handleRequest(request: IncomingMessage, response: ServerResponse, router: Router): Promise<void> {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://local');
  } catch {
    sendJson(response, 400, { message: `the request path ${JSON.stringify(request.url)} is not a valid URL path` });
    return;
  }
  try {
    const invoke = INVOKE_PATH.exec(url.pathname);
    if (request.method === 'POST' && invoke && router.functions) {
      let name: string;
      try {
        name = decodeURIComponent(invoke[1] as string);
      } catch {
        response.setHeader('x-amzn-errortype', 'ValidationException');
        sendJson(response, 400, { Type: 'User', message: 'the function name in the path is not valid percent-encoding' });
        return;
      }
      await invokeFunction(request, response, router, name);
      return;
    }
    if (request.method === 'GET' && router.streams.has(url.pathname)) {
      (router.streams.get(url.pathname) as (request: IncomingMessage, response: ServerResponse) => void)(request, response);
      return;
    }
    if (request.method === 'GET' && router.extra.has(url.pathname)) {
      const body = await (router.extra.get(url.pathname) as (url: URL) => unknown)(url);
      if (body instanceof StaticFile) {
        response.writeHead(200, { 'content-type': body.contentType, 'content-length': body.content.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        response.end(body.content);
      } else if (body instanceof RawJson) {
        const payload = Buffer.from(body.json);
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length, ...body.headers });
        response.end(payload);
      } else {
        sendJson(response, 200, body);
      }
      return;
    }
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string') {
      sendJson(response, 404, { message: `not found: ${request.method} ${url.pathname}; AWS API calls are POST with an X-Amz-Target header` });
      return;
    }
    const dot = target.lastIndexOf('.');
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const service = router.services.get(prefix);
    // AWS operation names are PascalCase words; anything else is no operation of any service.
    if (!service || !/^[A-Z][A-Za-z0-9]{0,63}$/.test(operation)) {
      sendAwsError(response, new AwsError('UnknownOperationException', `${target} is not served by the local runtime`));
      return;
    }
    const body = parseJsonBody(await readBody(request));
    try {
      await authorizeCall(router, principalOf(request, router), prefix, operation, body);
    } catch (error) {
      if (error instanceof AccessDeniedError) {
        sendAwsError(response, new AwsError('AccessDeniedException', error.message), service.jsonVersion);
        return;
      }
      throw error;
    }
    // Only an own operation: 'constructor', 'toString' or '__proto__' are not operations of any service.
    const handler = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;
    if (handler) {
      sendJson(response, 200, await handler(body), `application/x-amz-json-${service.jsonVersion}`);
    } else if (service.dispatch) {
      const result = await service.dispatch(operation, body);
      sendJson(response, result.status, result.body, `application/x-amz-json-${service.jsonVersion}`);
    } else {
      sendAwsError(response, new AwsError('UnknownOperationException', `${operation} is not supported by the local ${prefix}`), service.jsonVersion);
    }
  } catch (error) {
    const awsError = error instanceof AwsError ? error : new AwsError('InternalFailure', (error as Error).message, 500);
    if (!response.headersSent) sendAwsError(response, awsError);
  }
}
