/**
 * The connection budget: every concurrent Lambda execution that reaches
 * Aurora holds its pool's connections, so for each instance the sum over the
 * functions it serves of reserved concurrency × pool size, twice over (see
 * {@link RECYCLED_SANDBOX_FACTOR}), plus room for operators, must fit in that
 * instance's `max_connections`. An exceeded budget fails the synth with the numbers.
 *
 * Which instance serves whom: the writer (the cluster endpoint) serves the
 * projection, init-schema and the rebuild; the reader endpoint serves the
 * queries. With one instance, the reader endpoint is the writer.
 */
import type { EnvironmentConfig } from '../config/environments';

/** Connections kept free for people: a console session, a migration, a rebuild by hand. */
export const OPERATOR_CONNECTIONS = 3;

/**
 * A sandbox Lambda recycles (a new deploy, an idle environment reclaimed, a
 * crash) cannot close its pool: the server keeps those connections until
 * `wait_timeout`. Within that window every reserved slot may hold a second
 * set, so each function counts twice.
 */
export const RECYCLED_SANDBOX_FACTOR = 2;

/**
 * Aurora MySQL's default `max_connections` for an Aurora Serverless v2
 * instance, by the cluster's **maximum** capacity (Aurora derives it from the
 * memory of the maximum ACU, not the current or minimum one). The Aurora User
 * Guide tabulates it: "Performance and scaling for Aurora Serverless v2",
 * section on max_connections (parameter groups),
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
 */
export const MAX_CONNECTIONS_BY_MAX_ACU: readonly (readonly [maxAcu: number, maxConnections: number])[] = [
  [1, 90],
  [4, 135],
  [8, 1_000],
  [16, 2_000],
  [32, 3_000],
  [64, 4_000],
  [128, 5_000],
  [256, 6_000],
];

/**
 * `max_connections` of an instance in a cluster whose maximum capacity is
 * `maxAcu`: the table's row for the largest tabulated maximum that does not
 * exceed it (a maximum between two rows gets the lower figure: the budget
 * never counts on connections the documentation does not promise).
 */
export function maxConnectionsFor(maxAcu: number): number {
  let connections: number | undefined;
  for (const [acu, limit] of MAX_CONNECTIONS_BY_MAX_ACU) if (acu <= maxAcu) connections = limit;
  if (connections === undefined) throw new ConnectionBudgetError(`aurora.maxCapacity ${maxAcu} is below the smallest maximum Aurora documents (1 ACU)`);
  return connections;
}

/** Which endpoint a function connects to. */
type Endpoint = 'writer' | 'reader';

/** One function's share of the budget. */
interface ConnectionUser {
  readonly function: string;
  readonly reservedConcurrency: number | undefined;
  readonly poolSize: number;
  readonly endpoint: Endpoint;
}

/** One instance's budget. */
interface InstanceBudget {
  readonly instance: 'writer' | 'reader';
  readonly users: readonly (ConnectionUser & { readonly connections: number })[];
  /** Connections the functions may hold, recycled sandboxes included. */
  readonly total: number;
  readonly operators: number;
  readonly limit: number;
}

/** The budget of one environment. */
export interface ConnectionBudget {
  readonly instances: readonly InstanceBudget[];
  readonly maxCapacity: number;
}

/** A budget that does not fit, or a function that could hold unbounded connections. */
export class ConnectionBudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionBudgetError';
  }
}

/** Computes the budget per instance; throws {@link ConnectionBudgetError} naming the numbers when one does not fit. */
export function connectionBudget(config: EnvironmentConfig, users: readonly ConnectionUser[]): ConnectionBudget {
  const unbounded = users.filter((user) => user.reservedConcurrency === undefined).map((user) => user.function);
  if (unbounded.length > 0)
    throw new ConnectionBudgetError(
      `functions that connect to the read model need reserved concurrency, or their connections are unbounded: ${unbounded.join(', ')}`,
    );
  const limit = maxConnectionsFor(config.aurora.maxCapacity);
  const counted = users.map((user) => ({ ...user, connections: (user.reservedConcurrency as number) * user.poolSize * RECYCLED_SANDBOX_FACTOR }));
  // With one instance, the reader endpoint is the writer: everything counts there.
  const groups: InstanceBudget['instance'][] = config.aurora.instances > 1 ? ['writer', 'reader'] : ['writer'];
  const instances = groups.map((instance): InstanceBudget => {
    const served = counted.filter((user) => groups.length === 1 || user.endpoint === instance);
    return { instance, users: served, total: served.reduce((sum, user) => sum + user.connections, 0), operators: OPERATOR_CONNECTIONS, limit };
  });
  for (const budget of instances) {
    if (budget.total + budget.operators > limit) {
      throw new ConnectionBudgetError(
        `connection budget exceeded in ${config.environment} on the ${budget.instance}: the functions may hold ${budget.total} connections ` +
          `(${budget.users.map((user) => `${user.function} ${user.reservedConcurrency}×${user.poolSize}×${RECYCLED_SANDBOX_FACTOR}`).join(', ')}; ×${RECYCLED_SANDBOX_FACTOR} for recycled sandboxes until wait_timeout) ` +
          `plus ${OPERATOR_CONNECTIONS} for operators, but max_connections at the maximum capacity of ${config.aurora.maxCapacity} ACU is ${limit}. ` +
          'Raise aurora.maxCapacity (max_connections follows the maximum; you pay only for capacity used), add an instance so the queries move to a reader, or lower reserved concurrency or pool sizes.',
      );
    }
  }
  return { instances, maxCapacity: config.aurora.maxCapacity };
}
