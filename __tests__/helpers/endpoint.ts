/**
 * The local endpoint's request handling (`local/endpoint.ts`) on a free
 * loopback port, serving only the services a test puts in its router: real
 * AWS SDK clients then talk to one local service over HTTP, as they do to the
 * runtime, without synthesizing the stacks or starting a database.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRequest, Router } from '../../local/endpoint';
import type { Binding, Integration, LocalService, Parts } from '../../local/service';

/** A running test endpoint. */
export interface TestEndpoint {
  /** `http://127.0.0.1:<port>`: give it to the SDK client as `endpoint`. */
  readonly url: string;
  /** What the endpoint routes to: add the service under test. */
  readonly router: Router;
  close(): Promise<void>;
}

/** SDK client options for the test endpoint (dummy credentials: the caller is the account). */
export const clientOptions = (endpoint: TestEndpoint) => ({
  endpoint: endpoint.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  // StartSyncExecution's host prefix (`sync-`) has no meaning on a loopback address.
  disableHostPrefix: true,
});

/** Starts an endpoint with an empty router; `principals`: access key id → the role ARN its calls act as (any other key is the account). */
export async function startTestEndpoint(principals: ReadonlyMap<string, string> = new Map()): Promise<TestEndpoint> {
  const router = new Router(principals);
  const server = createServer((request, response) => {
    handleRequest(request, response, router).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    router,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a service bound for a test provided, and the integrations it registered. */
export interface BoundForTest {
  readonly provided: Partial<Parts>;
  readonly integrations: ReadonlyMap<string, Integration>;
}

/**
 * Binds one service into the endpoint's router as the runtime would, with an
 * empty Terraform model unless `core` gives one (and the IAM gate, the
 * region, ...): what it serves lands in the router, what it provides and the
 * integrations it registers are returned; `parts` stands in for what earlier
 * services provide. Hooks a test does not need (status, summary, start,
 * stop, idle) are dropped.
 */
export async function bindForTest(
  service: LocalService,
  endpoint: TestEndpoint,
  parts: Partial<Parts> = {},
  core: Partial<Binding> = {},
): Promise<BoundForTest> {
  const provided: Partial<Parts> = {};
  const integrations = new Map<string, Integration>();
  const ignored = () => undefined;
  const binding = {
    model: { resources: () => [] },
    region: 'us-east-1',
    account: '000000000000',
    endpoint: endpoint.url,
    options: {},
    sessions: { for: () => ({ accessKeyId: 'ASIATEST', secretAccessKey: 'test', sessionToken: 'test' }) },
    log: ignored,
    use: (part: keyof Parts) => parts[part] ?? provided[part],
    provide: (part: keyof Parts, value: unknown) => Object.assign(provided, { [part]: value }),
    serve: (protocol: Parameters<Binding['serve']>[0], api: unknown) => endpoint.router.serve(protocol, api),
    integrate: (name: string, integration: Integration) => integrations.set(name, integration),
    integrations,
    page: ignored,
    stream: ignored,
    status: ignored,
    summary: ignored,
    creationCheck: ignored,
    assumeRole: async () => undefined,
    onStart: ignored,
    onStop: ignored,
    onIdle: ignored,
    ...core,
  } as unknown as Binding;
  await service.bind(binding);
  return { provided, integrations };
}
