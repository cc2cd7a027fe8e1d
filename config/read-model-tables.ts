/**
 * The read model's tables, each named once. This list is the source of every
 * other list of them: the projection's, the queries', the rebuild's swap, the
 * clearing at local start, the tests' snapshots.
 */
export const READ_MODEL_TABLES = {
  orders: 'orders',
  orderLines: 'order_lines',
  itemTotals: 'item_totals',
  itemMonthlyTotals: 'item_monthly_totals',
  itemDailyTotals: 'item_daily_totals',
} as const;

/** One of the read model's tables. */
type ReadModelTable = keyof typeof READ_MODEL_TABLES;

/** Names of the read-model tables one projection or query works on. */
export type ReadModelTables = { readonly [K in ReadModelTable]: string };

/** Every table, in dependency order (orders before their lines). */
export const READ_MODEL_TABLE_KEYS = Object.keys(READ_MODEL_TABLES) as ReadModelTable[];

/**
 * The read model's bookkeeping tables, each named once: the applied
 * migrations and the steps of those under way, a rebuild's saved state, and the read model's generation (a
 * random id made with the schema, new whenever the read model is created
 * again, so saved work can tell the read model it belongs to).
 */
export const BOOKKEEPING_TABLES = {
  migrations: 'schema_migrations',
  migrationSteps: 'schema_migration_steps',
  rebuildState: 'read_model_rebuild',
  generation: 'read_model_generation',
} as const;

/** Suffixes of the rebuild's copies of the tables: filled beside the live ones, then the swapped-out ones. */
export const REBUILD_SUFFIXES = { rebuild: '_rebuild', retired: '_retired' } as const;

/**
 * Every table the read model's code creates: the tables, their rebuild and
 * retired copies, and the bookkeeping. What a clear drops, and what an owner
 * may find in its database.
 */
export function readModelOwnedTables(): string[] {
  const copies = Object.values(REBUILD_SUFFIXES).flatMap((suffix) => Object.values(tablesWithSuffix(suffix)));
  return [...Object.values(READ_MODEL_TABLES), ...copies, ...Object.values(BOOKKEEPING_TABLES)];
}

/**
 * The same tables with a suffix, e.g. `_rebuild` while the read model is being
 * rebuilt beside the live one. Suffixes are fixed identifiers, never input.
 */
export function tablesWithSuffix(suffix: string): ReadModelTables {
  if (!/^_[a-z0-9_]{1,20}$/.test(suffix)) throw new Error(`invalid table suffix ${JSON.stringify(suffix)}`);
  return Object.fromEntries(READ_MODEL_TABLE_KEYS.map((key) => [key, `${READ_MODEL_TABLES[key]}${suffix}`])) as ReadModelTables;
}
