/**
 * The local endpoint's request handling: the `/_local/*` pages, then each
 * protocol the services serve APIs with (`local/protocols/`: the AWS JSON
 * protocol, REST-JSON, query), and who the caller is (a function's role
 * session, a client identity, or the account). The endpoint knows no
 * protocol and no service: each protocol recognises its requests, and each
 * API authorizes its own calls through the IAM gate before it acts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RawJson, sendJson, StaticFile } from './http';
import type { Principal } from './iam';
import type { Protocol } from './service';

/** What the endpoint routes to; the services fill it as they bind. */
export class Router {
  /** The APIs served with each protocol, protocols in the order they were first served with. */
  readonly #protocols = new Map<Protocol<unknown>, unknown[]>();
  /** `GET` pages, by path. */
  readonly pages = new Map<string, (url: URL) => unknown>();
  /** Long-lived `GET` endpoints (server-sent events), by path. */
  readonly streams = new Map<string, (request: IncomingMessage, response: ServerResponse) => void>();

  /**
   * While the runtime stops, calls from anyone but its own role sessions are
   * answered 503: its functions finish the work under way through this
   * endpoint, and no new work comes in.
   */
  stopping = false;

  /**
   * `principals`: access key id → the ARN of the role (or client identity) it signs for;
   * `ownSession`: whether an access key is a session the runtime issued to one of its roles.
   */
  constructor(
    readonly principals: ReadonlyMap<string, string>,
    readonly ownSession: (accessKeyId: string) => boolean = () => false,
  ) {}

  /** Serves `api` with `protocol`. */
  serve<Api>(protocol: Protocol<Api>, api: Api): void {
    const apis = this.#protocols.get(protocol) ?? [];
    apis.push(api);
    this.#protocols.set(protocol, apis);
  }

  /** The protocols, each with the APIs served with it. */
  protocols(): IterableIterator<[Protocol<unknown>, readonly unknown[]]> {
    return this.#protocols.entries();
  }
}

/** The caller, from the SigV4 `Authorization` header: a function's role, a client identity (`producer`, `consumer`), or the account. */
function principalOf(request: IncomingMessage, router: Router): Principal {
  const accessKey = accessKeyOf(request);
  const roleArn = accessKey ? router.principals.get(accessKey) : undefined;
  return roleArn ? { kind: 'role', arn: roleArn } : { kind: 'account' };
}

/** The access key id a request is signed with (SigV4 `Authorization`), if any. */
function accessKeyOf(request: IncomingMessage): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '')?.[1];
}

/** Answers a page: a file, JSON kept as text, or a value as JSON. */
async function sendPage(response: ServerResponse, handler: (url: URL) => unknown, url: URL): Promise<void> {
  const body = await handler(url);
  if (body instanceof StaticFile) {
    response.writeHead(200, {
      'content-type': body.contentType,
      'content-length': body.content.length,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.end(body.content);
  } else if (body instanceof RawJson) {
    const payload = Buffer.from(body.json);
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length, ...body.headers });
    response.end(payload);
  } else {
    sendJson(response, 200, body);
  }
}

/** A failure no protocol answered: AWS's `InternalFailure`, in the JSON shape every SDK reads. */
function sendInternalFailure(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.setHeader('x-amzn-errortype', 'InternalFailure');
  sendJson(response, 500, { __type: 'InternalFailure', message: (error as Error).message });
}

/** Answers one request: a page, or the call of the first protocol that recognises it. */
export async function handleRequest(request: IncomingMessage, response: ServerResponse, router: Router): Promise<void> {
  let url: URL;
  try {
    url = new URL(request.url ?? '/', 'http://local');
  } catch {
    sendJson(response, 400, { message: `the request path ${JSON.stringify(request.url)} is not a valid URL path` });
    return;
  }
  try {
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
    const accessKey = accessKeyOf(request);
    if (router.stopping && !(accessKey && router.ownSession(accessKey))) {
      response.setHeader('x-amzn-errortype', 'ServiceUnavailable');
      sendJson(response, 503, {
        __type: 'ServiceUnavailable',
        message: 'the local runtime is stopping: it finishes the work under way and takes no new calls',
      });
      return;
    }
    const call = { request, response, url, principal: principalOf(request, router) };
    for (const [protocol, apis] of router.protocols()) if (await protocol.serve(call, apis)) return;
    sendJson(response, 404, {
      message: `not found: ${request.method} ${url.pathname}; AWS API calls are POST with an X-Amz-Target header, a form-encoded Action, or the REST path of a served API`,
    });
  } catch (error) {
    sendInternalFailure(response, error);
  }
}

/** The HTTP endpoint on `host:port` (0: a free port), listening; an error that escapes a request is AWS's `InternalFailure`. */
export async function listen(router: Router, port: number, host: string): Promise<{ server: Server; endpoint: string }> {
  const server = createServer((request, response) => {
    handleRequest(request, response, router).catch((error: unknown) => sendInternalFailure(response, error));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return { server, endpoint: `http://${address.address}:${address.port}` };
}
