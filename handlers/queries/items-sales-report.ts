import type { Pool, RowDataPacket } from 'mysql2/promise';
import { READ_MODEL_TABLES, type ReadModelTables } from '../../config/read-model-tables';
import { FieldSchema, itemIdProblem } from '../domain/limits';
import { defineQuery, exactNumber, type PageRequest } from './query-definition';

/** One row of `itemsSalesReport`. */
interface ItemSalesRow {
  readonly itemid: string;
  readonly totalordered: number;
  /** `YYYY-MM-DD`, UTC. */
  readonly lastorderdate: string;
}

interface ItemTotalRow extends RowDataPacket {
  item_id: string;
  total_ordered: number | string;
  last_order_date: string;
}

/**
 * Every item's total and last order date, sorted by item id. Reads the
 * maintained per-item totals: one row per item, whatever the order history.
 */
export async function itemsSalesReport(
  pool: Pool,
  page: PageRequest = { limit: Number.MAX_SAFE_INTEGER },
  tables: ReadModelTables = READ_MODEL_TABLES,
): Promise<ItemSalesRow[]> {
  const [rows] = await pool.query<ItemTotalRow[]>(
    `SELECT item_id, total_ordered, last_order_date FROM ?? ${page.after === undefined ? '' : 'WHERE item_id > ?'} ORDER BY item_id LIMIT ?`,
    [tables.itemTotals, ...(page.after === undefined ? [] : [page.after]), Math.min(page.limit, Number.MAX_SAFE_INTEGER)],
  );
  return rows.map((row) => ({ itemid: row.item_id, totalordered: exactNumber(row.total_ordered, 'total_ordered'), lastorderdate: row.last_order_date }));
}

/** `itemsSalesReport`: every item's total and last order date, by item id. */
export const query = defineQuery({
  name: 'itemsSalesReport',
  functionName: 'items-sales-report',
  summary: "every item's total quantity and last order date, by item id",
  benchTargetMs: 5,
  arguments: [],
  parse: () => ({}),
  echo: () => ({}),
  echoRefused: () => ({}),
  run: async (pool, _params, page) => ({ rows: await itemsSalesReport(pool, page) }),
  paging: { key: (row: ItemSalesRow) => row.itemid, valid: (after) => itemIdProblem(after) === undefined },
  settings: { timeoutSeconds: 30, memoryMb: 512, reservedConcurrency: 3, databaseConnections: 1 },
  schema: {
    detail: { required: [], properties: {} },
    row: {
      type: 'object',
      required: ['itemid', 'totalordered', 'lastorderdate'],
      properties: { itemid: FieldSchema.itemId, totalordered: { type: 'integer', minimum: 1 }, lastorderdate: FieldSchema.date },
    },
    answer: {},
  },
});
