import { itemsSalesReport } from './read-model/queries';
import { createQueryHandler } from './shared/query-handler';

/** `itemsSalesReport`: every item's total and last order date, by item id. */
export const handler = createQueryHandler('itemsSalesReport', (pool) => itemsSalesReport(pool));
