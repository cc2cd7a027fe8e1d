/**
 * The local endpoint's request handling: the AWS JSON protocol
 * (`X-Amz-Target`), REST calls (Lambda's `Invoke`), the `/_local/*` pages,
 * and who the caller is (a function's role session, a client identity, or
 * the account). Each service authorizes its own calls through the IAM gate
 * before it acts; the endpoint only routes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseJsonBody, RawJson, readBody, sendAwsError, sendJson, StaticFile, type JsonService } from './aws-protocol';
import { AccessDeniedError, AwsError } from './errors';
import type { Principal } from './iam';
import type { RestHandler } from './service';

/** What the endpoint routes to; the services fill it as they bind. */
export interface Router {
  /** JSON-protocol services, by `X-Amz-Target` prefix. */
  readonly services: Map<string, JsonService>;
  /** REST calls, tried in order. */
  readonly routes: { readonly method: string; readonly path: RegExp; readonly handler: RestHandler }[];
  /** `GET` pages, by path. */
  readonly pages: Map<string, (url: URL) => unknown>;
  /** Long-lived `GET` endpoints (server-sent events), by path. */
  readonly streams: Map<string, (request: IncomingMessage, response: ServerResponse) => void>;
  /** Access key id → the ARN of the role (or client identity) it signs for. */
  readonly principals: ReadonlyMap<string, string>;
}

/** The caller, from the SigV4 `Authorization` header: a function's role, a client identity (`producer`, `consumer`), or the account. */
function principalOf(request: IncomingMessage, router: Router): Principal {
  const authorization = request.headers.authorization ?? '';
  const accessKey = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  const roleArn = accessKey ? router.principals.get(accessKey) : undefined;
  return roleArn ? { kind: 'role', arn: roleArn } : { kind: 'account' };
}

/** Answers a page: a file, JSON kept as text, or a value as JSON. */
async function sendPage(response: ServerResponse, handler: (url: URL) => unknown, url: URL): Promise<void> {
  const body = await handler(url);
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
}

/** A JSON-protocol call: the service authorizes it, then serves it. */
async function callService(request: IncomingMessage, response: ServerResponse, router: Router, target: string): Promise<void> {
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
  const principal = principalOf(request, router);
  try {
    if (principal.kind !== 'account') await service.authorize(principal, operation, body);
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
}

/** Answers one request; an unexpected error becomes AWS's `InternalFailure`. */
export async function handleRequest(request: IncomingMessage, response: ServerResponse, router: Router): Promise<void> {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://local');
  } catch {
    sendJson(response, 400, { message: `the request path ${JSON.stringify(request.url)} is not a valid URL path` });
    return;
  }
  try {
    for (const route of router.routes) {
      const match = request.method === route.method ? route.path.exec(url.pathname) : null;
      if (match) {
        await route.handler(request, response, match, principalOf(request, router));
        return;
      }
    }
    const stream = request.method === 'GET' ? router.streams.get(url.pathname) : undefined;
    if (stream) {
      stream(request, response);
      return;
    }
    const page = request.method === 'GET' ? router.pages.get(url.pathname) : undefined;
    if (page) {
      await sendPage(response, page, url);
      return;
    }
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string') {
      sendJson(response, 404, { message: `not found: ${request.method} ${url.pathname}; AWS API calls are POST with an X-Amz-Target header` });
      return;
    }
    await callService(request, response, router, target);
  } catch (error) {
    const awsError = error instanceof AwsError ? error : new AwsError('InternalFailure', (error as Error).message, 500);
    if (!response.headersSent) sendAwsError(response, awsError);
  }
}

/** The HTTP endpoint on `host:port` (0: a free port), listening; an error that escapes a request is AWS's `InternalFailure`. */
export async function listen(router: Router, port: number, host: string): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((request, response) => {
    handleRequest(request, response, router).catch((error: unknown) => {
      if (!response.headersSent) sendAwsError(response, new AwsError('InternalFailure', (error as Error).message, 500));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, endpoint: `http://${address.address}:${address.port}` };
}
