/**
 * What the benchmark times for the queries: every query of the registry, each
 * asked with values of its arguments drawn from the benchmark's data. A new
 * query is timed with no edit here when its arguments are ones the data has
 * samples for; one with another argument stops the benchmark before it runs,
 * naming the query and the argument (the capacity model would otherwise have
 * no time for it).
 */
import type { QueryDefinition } from '../handlers/queries/query-definition';

/** A value of one query argument, drawn afresh at each call. */
export type ArgumentSamples = Readonly<Record<string, () => string>>;

/** One query the benchmark times, and the detail to ask it with. */
export interface QueryBenchEntry {
  readonly query: QueryDefinition;
  /** A detail for the query (`query` and each argument), its values drawn from the samples. */
  readonly detail: () => Record<string, string>;
}

/** The items the benchmark's generated orders use: `item-000` … `item-<count - 1>`. */
export function benchItemId(index: number): string {
  return `item-${String(index).padStart(3, '0')}`;
}

/**
 * Samples of every argument a registered query takes, from the benchmark's
 * data: an item among `itemCount`, an order among `orderIds` (read when a
 * sample is drawn, so ids added later count).
 */
export function argumentSamples(
  data: { readonly itemCount: number; readonly orderIds: readonly string[] },
  random: () => number = Math.random,
): ArgumentSamples {
  return {
    itemid: () => benchItemId(Math.floor(random() * data.itemCount)),
    orderId: () => {
      const id = data.orderIds[Math.floor(random() * data.orderIds.length)];
      if (id === undefined) throw new Error('the benchmark has no order to ask about yet');
      return id;
    },
  };
}

/**
 * Every query of `queries`, in the registry's order, with its detail. Throws,
 * naming each, when a query takes an argument the samples do not cover.
 */
export function queryBenchPlan(queries: readonly QueryDefinition[], samples: ArgumentSamples): QueryBenchEntry[] {
  const missing = queries.flatMap((query) => query.arguments.filter((name) => !(name in samples)).map((name) => `${query.name}'s argument ${name}`));
  if (missing.length > 0) throw new Error(`the benchmark has no sample value for ${missing.join(', ')}: add one to argumentSamples (bench/query-plan.ts)`);
  return queries.map((query) => ({
    query,
    detail: () => ({ query: query.name, ...Object.fromEntries(query.arguments.map((name) => [name, (samples[name] as () => string)()])) }),
  }));
}
