/**
 * The connection budget: every concurrent Lambda execution that reaches
 * Aurora holds its pool's connections, so the sum over the functions of
 * reserved concurrency × pool size must fit in `max_connections` at the
 * environment's minimum capacity, with room left for operators. An exceeded
 * budget fails the synth with the numbers.
 */
import type { EnvironmentConfig } from '../config/environments';

/** Connections kept free for people: a console session, a migration, a rebuild by hand. */
export const OPERATOR_CONNECTIONS = 3;

/** Memory of one Aurora capacity unit. */
const ACU_BYTES = 2 * 1024 ** 3;

/**
 * Aurora MySQL's default `max_connections` for an instance of `acu` capacity
 * units: `GREATEST(log2(memory / 805306368) × 45, log2(memory / 8187281408) × 1000)`
 * (the documented parameter-group formula, about 2 GiB per ACU). A cluster
 * whose minimum is 0 resumes at 0.5 ACU, its smallest running size.
 */
export function maxConnectionsAt(acu: number): number {
  const memory = Math.max(acu, 0.5) * ACU_BYTES;
  return Math.max(Math.floor(Math.log2(memory / 805_306_368) * 45), Math.floor(Math.log2(memory / 8_187_281_408) * 1000));
}

/** One function's share of the budget. */
export interface ConnectionUser {
  readonly function: string;
  readonly reservedConcurrency: number | undefined;
  readonly poolSize: number;
}

/** The budget of one environment. */
export interface ConnectionBudget {
  readonly users: readonly (ConnectionUser & { readonly connections: number })[];
  readonly total: number;
  readonly limit: number;
  readonly operators: number;
  readonly minCapacity: number;
}

/** A budget that does not fit, or a function that could hold unbounded connections. */
export class ConnectionBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionBudgetError';
  }
}

/** Computes the budget; throws {@link ConnectionBudgetError} naming the numbers when it does not fit. */
export function connectionBudget(config: EnvironmentConfig, users: readonly ConnectionUser[]): ConnectionBudget {
  const unbounded = users.filter((user) => user.reservedConcurrency === undefined).map((user) => user.function);
  if (unbounded.length > 0) throw new ConnectionBudgetError(`functions that connect to the read model need reserved concurrency, or their connections are unbounded: ${unbounded.join(', ')}`);
  const counted = users.map((user) => ({ ...user, connections: (user.reservedConcurrency as number) * user.poolSize }));
  const total = counted.reduce((sum, user) => sum + user.connections, 0);
  const limit = maxConnectionsAt(config.aurora.minCapacity);
  const budget = { users: counted, total, limit, operators: OPERATOR_CONNECTIONS, minCapacity: config.aurora.minCapacity };
  if (total + OPERATOR_CONNECTIONS > limit) {
    throw new ConnectionBudgetError(
      `connection budget exceeded in ${config.environment}: the functions may hold ${total} connections ` +
        `(${counted.map((user) => `${user.function} ${user.reservedConcurrency}×${user.poolSize}`).join(', ')}) plus ${OPERATOR_CONNECTIONS} for operators, ` +
        `but max_connections at the minimum capacity of ${config.aurora.minCapacity} ACU is ${limit}. ` +
        'Lower reserved concurrency or pool sizes, or raise aurora.minCapacity.',
    );
  }
  return budget;
}
