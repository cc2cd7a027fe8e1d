import { describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS } from '../../config/environments';
import {
  ConnectionBudgetError,
  MAX_CONNECTIONS_BY_MAX_ACU,
  OPERATOR_CONNECTIONS,
  RECYCLED_SANDBOX_FACTOR,
  connectionBudget,
  maxConnectionsFor,
} from '../../stacks/connection-budget';
import { QUERY_FUNCTION_KEYS } from '../../stacks/catalogue';
import { synthesize } from '../helpers/synth';

describe('the connection budget', () => {
  it("takes max_connections from the maximum capacity, as Aurora's table gives it, never rounding up between rows", () => {
    expect(MAX_CONNECTIONS_BY_MAX_ACU.slice(0, 4)).toEqual([
      [1, 90],
      [4, 135],
      [8, 1_000],
      [16, 2_000],
    ]);
    expect([1, 2, 3.5, 4, 8, 12, 16, 256].map(maxConnectionsFor)).toEqual([90, 90, 90, 135, 1_000, 1_000, 2_000, 6_000]);
    expect(() => maxConnectionsFor(0.5)).toThrow('below the smallest maximum Aurora documents');
  });

  it.each(['dev', 'staging', 'prod'] as const)('fits %s per instance, from the synthesized functions', (name) => {
    // Act
    const { stacks } = synthesize(ENVIRONMENTS[name]);
    const budget = stacks.compute.connectionBudget;

    // Assess
    for (const instance of budget.instances) expect(instance.total + OPERATOR_CONNECTIONS).toBeLessThanOrEqual(instance.limit);
    const users = budget.instances.flatMap((instance) => instance.users.map((user) => user.function)).sort();
    expect(users).toEqual(['initSchema', 'projectOrders', 'rebuildReadModel', ...QUERY_FUNCTION_KEYS].sort());
    for (const instance of budget.instances)
      for (const user of instance.users) expect(user.connections).toBe((user.reservedConcurrency as number) * user.poolSize * RECYCLED_SANDBOX_FACTOR);
  });

  it('counts the queries on the reader and the rest on the writer when there are two instances (prod), all on the writer with one', () => {
    const prod = synthesize(ENVIRONMENTS.prod).stacks.compute.connectionBudget;
    const dev = synthesize(ENVIRONMENTS.dev).stacks.compute.connectionBudget;
    expect(prod.instances.map((instance) => [instance.instance, instance.users.map((user) => user.function).sort()])).toEqual([
      ['writer', ['initSchema', 'projectOrders', 'rebuildReadModel']],
      ['reader', [...QUERY_FUNCTION_KEYS].sort()],
    ]);
    expect(prod.instances[0]?.limit).toBe(2_000);
    expect(dev.instances.map((instance) => instance.instance)).toEqual(['writer']);
    expect(dev.instances[0]?.limit).toBe(90);
  });

  it('fails the synth with the numbers when it does not fit, advising the maximum capacity, not the minimum', () => {
    const act = () => connectionBudget(ENVIRONMENTS.dev, [{ function: 'projectOrders', reservedConcurrency: 30, poolSize: 2, endpoint: 'writer' }]);
    expect(act).toThrow(ConnectionBudgetError);
    expect(act).toThrow(
      'on the writer: the functions may hold 120 connections (projectOrders 30×2×2; ×2 for recycled sandboxes until wait_timeout) plus 3 for operators, but max_connections at the maximum capacity of 2 ACU is 90. Raise aurora.maxCapacity',
    );
    // Growth that prod's maximum can carry passes there.
    expect(() => connectionBudget(ENVIRONMENTS.prod, [{ function: 'projectOrders', reservedConcurrency: 30, poolSize: 2, endpoint: 'writer' }])).not.toThrow();
  });

  it('refuses a function that connects without reserved concurrency', () => {
    expect(() => connectionBudget(ENVIRONMENTS.dev, [{ function: 'anything', reservedConcurrency: undefined, poolSize: 1, endpoint: 'writer' }])).toThrow(
      'need reserved concurrency',
    );
  });
});
