/**
 * The queries, each declared once in a module of its own. Adding a query is
 * one module and one line here: the supported-query list, the functions and
 * their IAM, the workflow's routing, the local runtime and `npm run query` all
 * follow from this list.
 */
import { query as itemsSalesReport } from './items-sales-report';
import { query as monthlySalesByItem } from './monthly-sales-by-item';
import { query as orderDetails } from './order-details';

/** Every query, in the order refusal messages and the CLI help list them. */
export const QUERIES = [itemsSalesReport, monthlySalesByItem, orderDetails] as const;

/** A supported query's name. */
export type QueryName = (typeof QUERIES)[number]['name'];

/** The supported queries' names. */
export const SUPPORTED_QUERIES: readonly QueryName[] = QUERIES.map((query) => query.name);

/** The query a name asks for, if it is supported. */
export function queryNamed(name: string): (typeof QUERIES)[number] | undefined {
  return QUERIES.find((query) => query.name === name);
}
