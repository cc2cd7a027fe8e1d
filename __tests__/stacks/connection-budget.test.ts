import { describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS } from '../../config/environments';
import { ConnectionBudgetError, OPERATOR_CONNECTIONS, connectionBudget, maxConnectionsAt } from '../../stacks/connection-budget';
import { synthesize } from '../helpers/synth';

describe('the connection budget', () => {
  it("follows Aurora MySQL's documented max_connections formula", () => {
    // db.r5.large-sized memory (16 GiB, 8 ACU) is documented at about 1,000.
    expect(maxConnectionsAt(8)).toBeGreaterThanOrEqual(1000);
    expect(maxConnectionsAt(8)).toBeLessThan(1100);
    expect([0, 0.5, 1, 2].map(maxConnectionsAt)).toEqual([18, 18, 63, 108]);
  });

  it.each(['dev', 'staging', 'prod'] as const)('fits %s at its minimum capacity, from the synthesized functions', (name) => {
    // Act
    const { stacks } = synthesize(ENVIRONMENTS[name]);
    const budget = stacks.compute.connectionBudget;

    // Assess
    expect(budget.total + OPERATOR_CONNECTIONS).toBeLessThanOrEqual(budget.limit);
    expect(budget.users.map((user) => user.function).sort()).toEqual(['initSchema', 'itemsSalesReport', 'monthlySalesByItem', 'orderDetails', 'projectOrders', 'rebuildReadModel']);
    for (const user of budget.users) expect(user.reservedConcurrency).toBeGreaterThan(0);
  });

  it('fails the synth with the numbers when it does not fit', () => {
    const act = () => connectionBudget(ENVIRONMENTS.dev, [{ function: 'projectOrders', reservedConcurrency: 10, poolSize: 2 }]);
    expect(act).toThrow(ConnectionBudgetError);
    expect(act).toThrow('the functions may hold 20 connections (projectOrders 10×2) plus 3 for operators, but max_connections at the minimum capacity of 0 ACU is 18');
  });

  it('refuses a function that connects without reserved concurrency', () => {
    expect(() => connectionBudget(ENVIRONMENTS.dev, [{ function: 'anything', reservedConcurrency: undefined, poolSize: 1 }])).toThrow('need reserved concurrency');
  });
});
