/**
 * The whole pipeline on one machine, behind an AWS-compatible endpoint, built
 * from the synthesized Terraform of the `local` environment. The runtime
 * opens the endpoint and the read model's server, reads the stacks
 * (`terraform.ts`), builds the IAM gate (`iam.ts`) from the policies each
 * service owns, and binds the services of `services.ts` in turn
 * (`binding.ts`): each one serves the Terraform types it declares, serves its
 * API in its protocol, registers its integrations, and authorizes its own
 * calls through the gate. Nothing here restates a name, a setting or a
 * pattern the stacks define, nor knows a service or a protocol.
 */
import './polyfills';
import type { Server } from 'node:http';
import { localRegion } from '../config/local-endpoint';
import { bindingFor, newRegistry, type Core, type Registry } from './binding';
import { listen, Router } from './endpoint';
import { IamGate, policySet, type SynthesizedPolicy } from './iam';
import { openReadModelServer } from './mysql';
import { safeLogLine } from './redact';
import type { Binding, LocalRuntimeOptions, ReadModelServer } from './service';
import { LOCAL_TYPES, SERVICES } from './services';
import { synthesizedPolicies } from './synthesized-policies';
import { RoleSessions } from './sessions';
import { synthesizeLocal } from './synth';
import { readSynthesizedStacks, TerraformModel } from './terraform';

export type { LocalRuntimeOptions } from './service';

const REGION = localRegion();
const ACCOUNT = '000000000000';

/** A running local pipeline. */
export class LocalRuntime {
  readonly endpoint: string;
  readonly model: TerraformModel;
  readonly gate: IamGate;
  readonly database: ReadModelServer;
  /** The synthesized policies, as read at start. */
  readonly policies: readonly SynthesizedPolicy[];
  readonly #registry: Registry;
  readonly #server: Server;
  readonly #log: (message: string) => void;
  readonly #stopDrainMs: number;
  /** A part a service provided (`bus`, `functions`, `stateMachine`, ...): what scripts and tests reach the services through. */
  readonly use: Binding['use'];
  #stopped = false;

  private constructor(core: Core, server: Server, registry: Registry, use: Binding['use']) {
    this.endpoint = core.endpoint;
    this.model = core.model;
    this.gate = core.gate;
    this.database = core.database;
    this.policies = core.policies;
    this.#log = core.log;
    this.#stopDrainMs = core.options.stopDrainMs ?? 10_000;
    this.#server = server;
    this.#registry = registry;
    this.use = use;
  }

  /** What `npm start` prints about the resources. */
  get summary(): readonly [string, string][] {
    return this.#registry.summary;
  }

  /**
   * Runs again what AWS checks when the functions and the state machine are
   * created (trust policies, a VPC function's ENI permissions), as a deploy
   * of the current policies would.
   */
  async checkCreation(): Promise<void> {
    for (const check of this.#registry.creationChecks) await check();
  }

  /** Starts every part; throws (having cleaned up) if any part cannot start. */
  static async start(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
    const sink = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
    // Every message, whatever it quotes, is redacted and escaped at the one sink.
    const log = (message: string) => sink(safeLogLine(message));
    const sessions = new RoleSessions();
    const registry = newRegistry(new Router(sessions.byAccessKey, (accessKey) => sessions.issued(accessKey)));
    // The endpoint comes first: the functions' SDK clients are pointed at it.
    const { server, endpoint } = await listen(registry.router, options.port ?? 4566, options.host ?? '127.0.0.1');
    try {
      const database = await openReadModelServer(options.dbUrl, log, { endpoint, ...(options.defaultDbUrl ? { defaultUrl: options.defaultDbUrl } : {}) });
      registry.stops.push(() => database.stop());
      // The stacks, synthesized for the local environment, resolved to local values.
      const outdir = await synthesizeLocal(options.distDir ? { distDir: options.distDir } : {});
      const context = {
        region: REGION,
        account: ACCOUNT,
        endpoint,
        database: { host: database.relay.host, port: database.relay.port, name: database.database },
      };
      const model = new TerraformModel(readSynthesizedStacks(outdir), context, LOCAL_TYPES);
      const policies = synthesizedPolicies(model);
      const gate = new IamGate({ account: ACCOUNT, mode: options.iam ?? 'enforce', policies: policySet(policies), log });
      const core: Core = { model, region: REGION, account: ACCOUNT, endpoint, gate, policies, sessions, database, options, log };
      const binding = bindingFor(core, registry);
      const runtime = new LocalRuntime(core, server, registry, binding.use);
      registry.summary.push(['endpoint', endpoint]);
      for (const service of SERVICES) await service.bind(binding);
      registry.summary.push(
        [
          'durability',
          options.dataDir
            ? `${options.dataDir}: tables, accepted events, stream records and queues survive a crash`
            : 'in memory: a crash loses in-flight work (use --data <dir> to keep it)',
        ],
        ['status', `${endpoint}/_local/status`],
      );
      registry.router.pages.set('/_local/status', (url) => runtime.#status(url));
      registry.router.pages.set('/_local/idle', () => runtime.idle());
      await runtime.checkCreation();
      for (const start of registry.starts) await start();
      return runtime;
    } catch (error) {
      for (const stop of registry.stops.reverse()) await stop().catch(() => undefined);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      throw error;
    }
  }

  /** Waits until nothing is in flight: bus deliveries, executions, stream batches, invocations. */
  async idle(timeoutMs = 60_000): Promise<{ idle: boolean }> {
    const deadline = Date.now() + timeoutMs;
    // Two passes in a row with every service settled: work one service started
    // while another was checked (an execution invoking a function) shows in the second.
    let settledBefore = false;
    for (;;) {
      let settled = true;
      for (const check of this.#registry.idles) {
        // Every wait is bounded by the deadline: a stop must not wait for a backlog.
        const remaining = Math.max(0, deadline - Date.now());
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), remaining)));
        if (!(await Promise.race([check(remaining), timeout]).finally(() => clearTimeout(timer)))) settled = false;
      }
      if (settled && settledBefore) return { idle: true };
      settledBefore = settled;
      if (Date.now() > deadline) return { idle: false };
    }
  }

  /** Stops accepting requests, finishes what is in flight, and releases everything. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    // Outside callers are refused from now on; the runtime's own sessions are served until every
    // service has stopped, so work under way (a projection's idempotency records, an execution's
    // calls) finishes or is abandoned by its service, never failed by a closed endpoint.
    this.#registry.router.stopping = true;
    await this.idle(this.#stopDrainMs);
    for (const stop of [...this.#registry.stops].reverse()) await stop().catch(() => undefined);
    const closed = new Promise((resolve) => this.#server.close(resolve));
    this.#server.closeAllConnections();
    await closed;
    this.#log('local pipeline stopped');
  }

  /** `GET /_local/status`: each service's entry, and the process's memory. */
  #status(url: URL): Record<string, unknown> {
    // ?gc=1 collects garbage first when the runtime runs with --expose-gc (npm run soak): heap figures without the sawtooth.
    if (url.searchParams.get('gc') === '1') (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    return {
      endpoint: this.endpoint,
      ...Object.fromEntries(this.#registry.statuses.map(([key, value]) => [key, value()])),
      // The runtime's own heap (the main thread), and the process's resident memory (workers included).
      memory: { heapUsedMb: Math.round(memory.heapUsed / 1024 / 1024), rssMb: Math.round(memory.rss / 1024 / 1024) },
    };
  }
}
