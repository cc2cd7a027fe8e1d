/**
 * The suite's test environment: jest's node environment, plus a guard on
 * `process.env`. A test file gets its own copy of the environment variables
 * (the sandbox's `process.env`, not the worker's), so a variable a test sets
 * and forgets leaks into the tests after it in the same file, where it
 * changes what they see (a region, an endpoint, a flag) without any of them
 * saying so.
 *
 * Before each test (ahead of its `beforeEach` hooks) the guard copies
 * `process.env`; after it (once its `afterEach` hooks ran) it compares: a
 * variable added, changed or removed and not put back fails the test, naming
 * each variable, and is restored, so the next test starts clean. The same
 * holds for the file: what `beforeAll` changes, `afterAll` puts back (module
 * level and the setup files are the file's own baseline).
 */
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import NodeEnvironment from 'jest-environment-node';

type Variables = Readonly<Record<string, string | undefined>>;

/**
 * What differs between `before` and `now`, by variable: `NAME (added)`,
 * `NAME (changed)`, `NAME (removed)`, sorted. Values are never printed: a
 * test may hold a secret in one.
 */
export function environmentChanges(before: Variables, now: Variables): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(now)]);
  const changes: string[] = [];
  for (const name of [...names].sort()) {
    const was = Object.hasOwn(before, name);
    const is = Object.hasOwn(now, name);
    if (was && !is) changes.push(`${name} (removed)`);
    else if (!was && is) changes.push(`${name} (added)`);
    else if (before[name] !== now[name]) changes.push(`${name} (changed)`);
  }
  return changes;
}

/** Puts `env` back to `saved`, in place: the object the test file's modules hold stays the same. */
function restore(env: NodeJS.ProcessEnv, saved: Variables): void {
  for (const name of Object.keys(env)) if (!Object.hasOwn(saved, name)) delete env[name];
  Object.assign(env, saved);
}

/** The jest environment of the suite (jest.config.js `testEnvironment`). */
export default class EnvGuardEnvironment extends NodeEnvironment {
  readonly #testPath: string;
  #env: NodeJS.ProcessEnv | undefined;
  #beforeFile: Variables | undefined;
  #beforeTest: Variables | undefined;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.#testPath = context.testPath;
  }

  /** The test file's `process.env` (the sandbox's own object). */
  #processEnv(): NodeJS.ProcessEnv {
    return this.global.process.env;
  }

  /** A change not undone, as an error that names it; `process.env` restored to `saved`. */
  #check(saved: Variables, where: string): Error | undefined {
    const env = this.#processEnv();
    const replaced = env !== this.#env;
    const changes = environmentChanges(saved, env);
    if (!replaced && changes.length === 0) return undefined;
    if (replaced && this.#env) this.global.process.env = this.#env;
    restore(this.#processEnv(), saved);
    const what = replaced ? 'replaced process.env' : `changed process.env and did not restore it: ${changes.join(', ')}`;
    const error = new Error(`${where} ${what}. Save and restore what a test changes (the guard restored it: __tests__/helpers/env-guard-environment.ts)`);
    // The guard's own frames say nothing about the test: the message alone.
    error.stack = `Error: ${error.message}`;
    return error;
  }

  handleTestEvent(event: Circus.Event, state: Circus.State): void {
    switch (event.name) {
      case 'run_start':
        this.#env = this.#processEnv();
        this.#beforeFile = { ...this.#env };
        break;
      case 'test_start':
        this.#beforeTest = { ...this.#processEnv() };
        break;
      case 'test_done': {
        const error = this.#beforeTest && this.#check(this.#beforeTest, 'this test (with its beforeEach and afterEach hooks)');
        if (error) event.test.errors.push(error);
        break;
      }
      case 'run_finish': {
        const error = this.#beforeFile && this.#check(this.#beforeFile, `${this.#testPath}: its beforeAll and afterAll hooks`);
        if (error) state.unhandledErrors.push(error);
        break;
      }
    }
  }
}
