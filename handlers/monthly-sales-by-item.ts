import { monthlySalesByItem } from './read-model/queries';
import { createQueryHandler } from './shared/query-handler';

/** `monthlySalesByItem`: one item's monthly totals, newest month first. */
export const handler = createQueryHandler('monthlySalesByItem', (pool, query) => monthlySalesByItem(pool, query.itemId));
