/**
 * The function catalogue: every function of the pipeline with its settings
 * and the environment variables it reads. The core functions are listed here;
 * the query functions come from the query registry, one per query. It lives
 * on the stacks' side because it needs the registry: config stays a leaf.
 */
import { kebabCase } from '../config/pipeline';
import type { QueryDefinition } from '../handlers/queries/query-definition';
import { QUERIES, type QueryName } from '../handlers/queries/registry';

/** What every function that reads the read model needs. */
const DATABASE_ENVIRONMENT = ['DB_SECRET_ID', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_TLS', 'DB_CONNECTION_LIMIT'] as const;

/**
 * The functions that are not queries, each with its settings and the
 * environment variables it reads; the stacks prefix their names with the app
 * name. Query functions come from the query registry, one per query.
 */
const CORE_FUNCTIONS = {
  // Reserved concurrency from each environment's config (intake.validateRequestConcurrency).
  validateRequest: { name: 'validate-request', settings: { timeoutSeconds: 5, memoryMb: 256 }, environment: ['SUPPORTED_QUERIES'] },
  // Reserved concurrency: the stream's shards × the parallelization factor, from each environment's config.
  projectOrders: {
    name: 'project-orders',
    settings: { timeoutSeconds: 60, memoryMb: 1024, reservedConcurrency: 2, databaseConnections: 1 },
    environment: [...DATABASE_ENVIRONMENT, 'IDEMPOTENCY_TABLE'],
  },
  // Lambda's maximum: an index built online on a populated table can take minutes, and a step
  // waits for its locks a few seconds at a time (migrations.ts); a run out of time resumes.
  initSchema: {
    name: 'init-schema',
    settings: { timeoutSeconds: 900, memoryMb: 512, reservedConcurrency: 1, databaseConnections: 1 },
    environment: [...DATABASE_ENVIRONMENT, 'DB_READER_SECRET_ID', 'DB_WRITER_SECRET_ID'],
  },
  rebuildReadModel: {
    name: 'rebuild-read-model',
    settings: { timeoutSeconds: 900, memoryMb: 1024, reservedConcurrency: 1, databaseConnections: 2 },
    environment: [...DATABASE_ENVIRONMENT, 'ORDERS_TABLE'],
  },
} as const satisfies Readonly<Record<string, { name: string; settings: FunctionSettings; environment: readonly string[] }>>;

/** One of the pipeline's functions: a core one, or a query's (named after the query). */
export type FunctionKey = keyof typeof CORE_FUNCTIONS | QueryName;

/** Timeout, memory and reserved concurrency of a function. */
export interface FunctionSettings {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Reserved concurrency; unreserved when absent. */
  readonly reservedConcurrency?: number;
  /** Connections each execution environment's pool may open to the read model (functions that use it). */
  readonly databaseConnections?: number;
}

/** Every function of the pipeline for one query registry, by key (a core function's, or a query's name). */
export interface FunctionCatalogue<Key extends string = string> {
  /** The keys of the query functions. */
  readonly queryKeys: readonly Key[];
  /** Every function's settings, for the stacks (and through them, the local runtime). */
  readonly settings: Readonly<Record<Key, FunctionSettings>>;
  /** Logical names of the functions (kebab-case): bundle folders and, prefixed, Lambda names. */
  readonly names: Readonly<Record<Key, string>>;
  /**
   * Environment variables each function reads. The function construct refuses
   * an environment that differs, so a function never reads a variable the
   * stacks forgot.
   */
  readonly environment: Readonly<Record<Key, readonly string[]>>;
}

/**
 * Lambda's maximum timeout: "The maximum allowed value is 900 seconds (15 minutes)."
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * The catalogue of the core functions and one function per query of
 * `queries`. Throws when a timeout is outside Lambda's range or a function's
 * name is not its key in kebab case.
 */
export function functionCatalogue(queries: readonly QueryDefinition[] = QUERIES): FunctionCatalogue {
  const core = Object.entries(CORE_FUNCTIONS);
  const catalogue: FunctionCatalogue = {
    queryKeys: queries.map((query) => query.name),
    settings: Object.fromEntries([
      ...core.map(([key, fn]): [string, FunctionSettings] => [key, fn.settings]),
      ...queries.map((query): [string, FunctionSettings] => [query.name, query.settings]),
    ]),
    names: Object.fromEntries([
      ...core.map(([key, fn]): [string, string] => [key, fn.name]),
      ...queries.map((query): [string, string] => [query.name, query.functionName]),
    ]),
    environment: Object.fromEntries([
      ...core.map(([key, fn]): [string, readonly string[]] => [key, fn.environment]),
      ...queries.map((query): [string, readonly string[]] => [query.name, DATABASE_ENVIRONMENT]),
    ]),
  };
  for (const [key, settings] of Object.entries(catalogue.settings)) {
    if (!Number.isInteger(settings.timeoutSeconds) || settings.timeoutSeconds < 1 || settings.timeoutSeconds > LAMBDA_MAX_TIMEOUT_SECONDS) {
      throw new Error(`function ${key}: timeoutSeconds must be 1 to ${LAMBDA_MAX_TIMEOUT_SECONDS} (Lambda's maximum), got ${settings.timeoutSeconds}`);
    }
  }
  // A function's name follows from its key (resourceNames in config derives it without the registry).
  for (const [key, name] of Object.entries(catalogue.names)) {
    if (name !== kebabCase(key)) throw new Error(`function ${key} is named ${name}; a function's name must be its key in kebab case (${kebabCase(key)})`);
  }
  return catalogue;
}

/** The project's catalogue: the core functions and the registry's queries. */
export const CATALOGUE = functionCatalogue() as FunctionCatalogue<FunctionKey>;

/** The keys of the query functions. */
export const QUERY_FUNCTION_KEYS: readonly QueryName[] = CATALOGUE.queryKeys as readonly QueryName[];

/** Every function's settings (see {@link FunctionCatalogue.settings}). */
export const FUNCTION_SETTINGS = CATALOGUE.settings;

/** Logical names of the functions (see {@link FunctionCatalogue.names}). */
export const FunctionName = CATALOGUE.names;

/** Environment variables each function reads (see {@link FunctionCatalogue.environment}). */
export const FUNCTION_ENVIRONMENT = CATALOGUE.environment;
