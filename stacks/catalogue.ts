/**
 * The function catalogue: every function of the pipeline with its settings
 * and the environment variables it reads. The core functions are listed here;
 * the query functions come from the query registry, one per query. It lives
 * on the stacks' side because it needs the registry: config stays a leaf.
 */
import { kebabCase } from '../config/pipeline';
import { QUERIES, type QueryName } from '../handlers/queries/registry';

/**
 * The functions that are not queries; the stacks prefix their names with the
 * app name. Query functions come from the query registry, one per query.
 */
const CORE_FUNCTIONS = {
  // Reserved concurrency from each environment's config (intake.validateRequestConcurrency).
  validateRequest: { name: 'validate-request', timeoutSeconds: 5, memoryMb: 256 },
  // Reserved concurrency: the stream's shards × the parallelization factor, from each environment's config.
  projectOrders: { name: 'project-orders', timeoutSeconds: 60, memoryMb: 1024, reservedConcurrency: 2, databaseConnections: 1 },
  // Lambda's maximum: an index built online on a populated table can take minutes, and a step
  // waits for its locks a few seconds at a time (migrations.ts); a run out of time resumes.
  initSchema: { name: 'init-schema', timeoutSeconds: 900, memoryMb: 512, reservedConcurrency: 1, databaseConnections: 1 },
  rebuildReadModel: { name: 'rebuild-read-model', timeoutSeconds: 900, memoryMb: 1024, reservedConcurrency: 1, databaseConnections: 2 },
} as const;

/** One of the pipeline's functions: a core one, or a query's (named after the query). */
export type FunctionKey = keyof typeof CORE_FUNCTIONS | QueryName;

/** The keys of the query functions. */
export const QUERY_FUNCTION_KEYS: readonly QueryName[] = QUERIES.map((query) => query.name);

/** Timeout, memory and reserved concurrency of a function. */
export interface FunctionSettings {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Reserved concurrency; unreserved when absent. */
  readonly reservedConcurrency?: number;
  /** Connections each execution environment's pool may open to the read model (functions that use it). */
  readonly databaseConnections?: number;
}

/** Every function's settings, for the stacks (and through them, the local runtime). */
export const FUNCTION_SETTINGS: Readonly<Record<FunctionKey, FunctionSettings>> = {
  ...CORE_FUNCTIONS,
  ...(Object.fromEntries(QUERIES.map((query) => [query.name, query.settings])) as Record<QueryName, FunctionSettings>),
};

/** Logical names of the functions (kebab-case): bundle folders and, prefixed, Lambda names. */
export const FunctionName: Readonly<Record<FunctionKey, string>> = {
  ...(Object.fromEntries(Object.entries(CORE_FUNCTIONS).map(([key, value]) => [key, value.name])) as Record<keyof typeof CORE_FUNCTIONS, string>),
  ...(Object.fromEntries(QUERIES.map((query) => [query.name, query.functionName])) as Record<QueryName, string>),
};

/** What every function that reads the read model needs. */
const DATABASE_ENVIRONMENT = ['DB_SECRET_ID', 'DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_TLS', 'DB_CONNECTION_LIMIT'] as const;

/**
 * Environment variables each function reads. The function construct refuses
 * an environment that differs, so a function never reads a variable the
 * stacks forgot.
 */
export const FUNCTION_ENVIRONMENT: Readonly<Record<FunctionKey, readonly string[]>> = {
  validateRequest: ['SUPPORTED_QUERIES'],
  projectOrders: [...DATABASE_ENVIRONMENT, 'IDEMPOTENCY_TABLE'],
  initSchema: [...DATABASE_ENVIRONMENT, 'DB_READER_SECRET_ID', 'DB_WRITER_SECRET_ID'],
  rebuildReadModel: [...DATABASE_ENVIRONMENT, 'ORDERS_TABLE'],
  ...(Object.fromEntries(QUERIES.map((query): [string, readonly string[]] => [query.name, DATABASE_ENVIRONMENT])) as Record<QueryName, readonly string[]>),
};


/**
 * Lambda's maximum timeout: "The maximum allowed value is 900 seconds (15 minutes)."
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html
 */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
for (const [key, settings] of Object.entries(FUNCTION_SETTINGS)) {
  if (!Number.isInteger(settings.timeoutSeconds) || settings.timeoutSeconds < 1 || settings.timeoutSeconds > LAMBDA_MAX_TIMEOUT_SECONDS) {
    throw new Error(`function ${key}: timeoutSeconds must be 1 to ${LAMBDA_MAX_TIMEOUT_SECONDS} (Lambda's maximum), got ${settings.timeoutSeconds}`);
  }
}

// A function's name follows from its key (resourceNames in config derives it without the registry).
for (const [key, name] of Object.entries(FunctionName)) {
  if (name !== kebabCase(key)) throw new Error(`function ${key} is named ${name}; a function's name must be its key in kebab case (${kebabCase(key)})`);
}
