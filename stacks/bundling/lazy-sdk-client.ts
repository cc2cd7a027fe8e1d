/**
 * AWS SDK clients that load their package on first need, not at import.
 *
 * Bundled into the functions in place of `@aws-sdk/client-*` packages by the
 * bundler (`lazySdkClients` in build.ts): whatever imports such a package
 * (the secrets middleware, Powertools' idempotency store, a handler) gets
 * these stand-ins, and what it uses of the package (the names it imports,
 * with the SDK core they pull in: most of a bundle) goes to a chunk that is
 * not even parsed while the function's module loads. A client loads it at its
 * first `send` (the secrets middleware's prefetch), or else right after the
 * code that constructed it has run (before the first invocation, in
 * practice); from then on every call goes to the real client, with the real
 * command.
 *
 * What the stand-ins support is what their importers use: `send`, `destroy`,
 * `config`, and a middleware stack that records `add`, `addRelativeTo` and
 * `use` until the real client exists (then replays them on it, and from
 * then on is the real client's); commands carry their `input`; an
 * exception class answers `instanceof` for the real class's instances. Any
 * other name of a package fails the build (the stand-in has no such export),
 * and anything else used before the package is loaded throws, naming it.
 */

/** A client package's module, once loaded. */
type ClientModule = Readonly<Record<string, unknown>>;

/** What the stand-ins call of a real client. */
interface RealClient {
  readonly config: unknown;
  readonly middlewareStack: Record<string, (...args: unknown[]) => unknown>;
  send(command: unknown, ...rest: unknown[]): Promise<unknown>;
  destroy(): void;
}

/** One client package: the exports the bundle uses of it, loaded on first need. */
export interface LazyPackage {
  /** The package's name, for messages. */
  readonly name: string;
  /**
   * Adds a part of the package: the exports one importer uses, behind a
   * dynamic `import()` (which the bundler makes a chunk of).
   */
  add(part: () => Promise<ClientModule>): void;
  /** Loads every part added so far (each once) and returns the exports loaded. */
  load(): Promise<ClientModule>;
  /** The exports loaded so far, or undefined before the first part is. */
  readonly loaded: ClientModule | undefined;
}

/** A client package whose parts its importers' stand-in modules add. */
export function lazyPackage(name: string): LazyPackage {
  const parts: (() => Promise<ClientModule>)[] = [];
  const loading = new Map<() => Promise<ClientModule>, Promise<ClientModule>>();
  let loaded: Record<string, unknown> | undefined;
  return {
    name,
    add: (part) => void parts.push(part),
    load: async () => {
      const modules = await Promise.all(
        parts.map((part) => {
          let promise = loading.get(part);
          if (!promise) loading.set(part, (promise = part()));
          return promise;
        }),
      );
      const exports = Object.assign(loaded ?? {}, ...modules) as Record<string, unknown>;
      loaded = exports;
      return exports;
    },
    get loaded() {
      return loaded;
    },
  };
}

const COMMAND_NAME = Symbol('lazy-sdk-client.command');

/** A command class of `pkg`: it holds its input until a client sends it as the real command. */
export function lazyCommand(name: string) {
  const Command = class {
    static readonly [COMMAND_NAME] = name;
    readonly input: unknown;
    constructor(input: unknown) {
      this.input = input;
    }
  };
  Object.defineProperty(Command, 'name', { value: name });
  return Command;
}

/** The real command for a stand-in (a real command is passed through). */
function realCommand(pkg: LazyPackage, module: ClientModule, command: unknown): unknown {
  const name = (command as { constructor?: { [COMMAND_NAME]?: string } } | null)?.constructor?.[COMMAND_NAME];
  if (name === undefined) return command;
  const Real = module[name] as (new (input: unknown) => unknown) | undefined;
  if (typeof Real !== 'function') throw new Error(`${pkg.name} has no ${name}`);
  return new Real((command as { input: unknown }).input);
}

/** An exception class of `pkg`: `instanceof` is true for the real class's instances. */
export function lazyException(pkg: LazyPackage, name: string) {
  const Exception = class {
    constructor() {
      throw new Error(`${name} of ${pkg.name} is a stand-in for instanceof checks (the package loads lazily); it cannot be constructed`);
    }
    static [Symbol.hasInstance](value: unknown): boolean {
      const Real = pkg.loaded?.[name];
      return typeof Real === 'function' && value instanceof Real;
    }
  };
  Object.defineProperty(Exception, 'name', { value: name });
  return Exception;
}

/** The middleware-stack calls a stand-in records before the real client exists. */
const RECORDED = ['add', 'addRelativeTo', 'use'] as const;
type Recorded = { readonly method: (typeof RECORDED)[number]; readonly args: readonly unknown[] };

/** A middleware's name as the SDK's `identify()` lists it. */
function identify(call: Recorded): string | undefined {
  const options = (call.args[1] ?? {}) as { name?: string; step?: string; relation?: string; toMiddleware?: string };
  if (call.method === 'use') return undefined;
  const step = options.step ?? (call.method === 'addRelativeTo' ? `${options.relation} ${options.toMiddleware}` : 'initialize');
  return `${options.name ?? 'anonymous'} - ${step}`;
}

/** The client class `name` of `pkg` (e.g. `DynamoDBClient`). */
export function lazyClient(pkg: LazyPackage, name: string) {
  const Client = class {
    readonly #input: unknown;
    readonly #recorded: Recorded[] = [];
    #client: Promise<RealClient> | undefined;
    #real: RealClient | undefined;
    readonly middlewareStack: Record<string, (...args: unknown[]) => unknown>;

    constructor(input: unknown = {}) {
      this.#input = input;
      this.middlewareStack = this.#stack();
      // Loaded by the first call, or once the module that constructed the client has
      // finished loading, whichever comes first: a client constructed at init (the
      // idempotency store's) is ready by the first invocation without adding to init.
      setImmediate(() => void this.#connect().catch(() => undefined));
    }

    /** The real client's resolved configuration once it exists; until then the configuration given. */
    get config(): unknown {
      return this.#real?.config ?? this.#input;
    }

    async send(command: unknown, ...rest: unknown[]): Promise<unknown> {
      const client = await this.#connect();
      // Another importer's part (its commands) may have been added since the client was made.
      return client.send(realCommand(pkg, await pkg.load(), command), ...rest);
    }

    destroy(): void {
      if (this.#real) this.#real.destroy();
      else this.#client?.then((client) => client.destroy()).catch(() => undefined);
    }

    #connect(): Promise<RealClient> {
      return (this.#client ??= pkg.load().then((module) => {
        const Real = module[name] as (new (input: unknown) => RealClient) | undefined;
        if (typeof Real !== 'function') throw new Error(`${pkg.name} has no ${name}`);
        const client = new Real(this.#input);
        for (const call of this.#recorded) client.middlewareStack[call.method]?.(...call.args);
        this.#real = client;
        return client;
      }));
    }

    #stack(): Record<string, (...args: unknown[]) => unknown> {
      const recorder: Record<string, (...args: unknown[]) => unknown> = {
        identify: () => this.#recorded.map(identify).filter((line): line is string => line !== undefined),
      };
      for (const method of RECORDED) recorder[method] = (...args: unknown[]) => void this.#recorded.push({ method, args });
      return new Proxy(recorder, {
        get: (target, property) => {
          if (typeof property !== 'string') return undefined;
          const real = this.#real?.middlewareStack;
          if (real) return real[property]?.bind(real);
          if (property in target) return target[property];
          return () => {
            throw new Error(`${name}.middlewareStack.${property} before the client's first call is not supported: ${pkg.name} loads lazily`);
          };
        },
        has: (target, property) => (this.#real ? property in this.#real.middlewareStack : property in target),
      });
    }
  };
  Object.defineProperty(Client, 'name', { value: name });
  return Client;
}
