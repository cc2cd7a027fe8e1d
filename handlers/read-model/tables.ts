/** Names of the read-model tables one projection or query works on. */
export interface ReadModelTables {
  readonly orders: string;
  readonly orderLines: string;
  readonly itemTotals: string;
  readonly itemMonthlyTotals: string;
}

/** The live read model. */
export const READ_MODEL_TABLES: ReadModelTables = {
  orders: 'orders',
  orderLines: 'order_lines',
  itemTotals: 'item_totals',
  itemMonthlyTotals: 'item_monthly_totals',
};

/**
 * The same tables with a suffix, e.g. `_rebuild` while the read model is being
 * rebuilt beside the live one. Suffixes are fixed identifiers, never input.
 */
export function tablesWithSuffix(suffix: string): ReadModelTables {
  if (!/^_[a-z0-9_]{1,20}$/.test(suffix)) throw new Error(`invalid table suffix ${JSON.stringify(suffix)}`);
  return {
    orders: `orders${suffix}`,
    orderLines: `order_lines${suffix}`,
    itemTotals: `item_totals${suffix}`,
    itemMonthlyTotals: `item_monthly_totals${suffix}`,
  };
}
