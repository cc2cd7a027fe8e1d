/**
 * What each service binds itself with: the runtime's core (the model, the
 * gate, the endpoint, ...) and the hooks that fill the registry, whose
 * contents the runtime then serves (the router's APIs and pages), runs
 * (creation checks, start and stop hooks) and waits for (idle checks).
 */
import type { Router } from './endpoint';
import type { Binding, Integration, Parts } from './service';

/** What the runtime gives every service. */
export type Core = Pick<Binding, 'model' | 'region' | 'account' | 'endpoint' | 'gate' | 'policies' | 'sessions' | 'database' | 'options' | 'log'>;

/** What the services registered as they bound. */
export interface Registry {
  readonly parts: Partial<Parts>;
  /** The one dispatch map of rule targets and workflow Tasks, by service. */
  readonly integrations: Map<string, Integration>;
  readonly router: Router;
  readonly statuses: [string, () => unknown][];
  readonly summary: [string, string][];
  readonly creationChecks: (() => Promise<void>)[];
  readonly starts: (() => Promise<void> | void)[];
  readonly stops: (() => Promise<unknown>)[];
  readonly idles: ((remainingMs: number) => Promise<boolean>)[];
}

/** An empty registry around the endpoint's router. */
export function newRegistry(router: Router): Registry {
  return { parts: {}, integrations: new Map(), router, statuses: [], summary: [], creationChecks: [], starts: [], stops: [], idles: [] };
}

/** What each service binds itself with: the core, and the registry it fills. */
export function bindingFor(core: Core, registry: Registry): Binding {
  const { router, parts } = registry;
  return {
    ...core,
    use: (part) => {
      const value = parts[part];
      if (value === undefined)
        throw new Error(
          `${String(part)} is used before a service provides it: a service that uses it comes after the one that provides it in local/services.ts`,
        );
      return value;
    },
    provide: (part, value) => {
      if (parts[part] !== undefined) throw new Error(`${String(part)} is provided twice`);
      parts[part] = value;
    },
    serve: (protocol, api) => router.serve(protocol, api),
    integrate: (service, integration) => {
      if (registry.integrations.has(service)) throw new Error(`the integration of ${service} is registered twice`);
      registry.integrations.set(service, integration);
    },
    integrations: registry.integrations,
    page: (path, handler) => router.pages.set(path, handler),
    stream: (path, handler) => router.streams.set(path, handler),
    status: (key, value) => registry.statuses.push([key, value]),
    summary: (label, value) => registry.summary.push([label, value]),
    creationCheck: (check) => registry.creationChecks.push(check),
    assumeRole: (service, roleArn, context = {}) =>
      core.gate.authorize({
        principal: { kind: 'service', service },
        action: 'sts:AssumeRole',
        resource: roleArn,
        context: { 'aws:SourceAccount': core.account, ...context },
      }),
    onStart: (hook) => registry.starts.push(hook),
    onStop: (cleanup) => registry.stops.push(cleanup),
    onIdle: (settled) => registry.idles.push(settled),
  };
}
