import type { Pool, RowDataPacket } from 'mysql2/promise';
import { monthYear, type ItemSalesRow, type MonthlySalesRow } from '../domain/query';
import { READ_MODEL_TABLES, type ReadModelTables } from './tables';

interface ItemTotalRow extends RowDataPacket {
  item_id: string;
  total_ordered: number | string;
  last_order_date: string;
}

interface MonthlyTotalRow extends RowDataPacket {
  month_start: string;
  monthly_ordered: number | string;
}

/**
 * Every item's total and last order date, sorted by item id. Reads the
 * maintained per-item totals: one row per item, whatever the order history.
 */
export async function itemsSalesReport(pool: Pool, tables: ReadModelTables = READ_MODEL_TABLES): Promise<ItemSalesRow[]> {
  const [rows] = await pool.query<ItemTotalRow[]>(
    'SELECT item_id, total_ordered, last_order_date FROM ?? ORDER BY item_id',
    [tables.itemTotals],
  );
  return rows.map((row) => ({
    itemid: row.item_id,
    totalordered: exactNumber(row.total_ordered, 'total_ordered'),
    lastorderdate: row.last_order_date,
  }));
}

/** One item's total per calendar month (UTC), newest month first. */
export async function monthlySalesByItem(
  pool: Pool,
  itemId: string,
  tables: ReadModelTables = READ_MODEL_TABLES,
): Promise<MonthlySalesRow[]> {
  const [rows] = await pool.query<MonthlyTotalRow[]>(
    'SELECT month_start, monthly_ordered FROM ?? WHERE item_id = ? ORDER BY month_start DESC',
    [tables.itemMonthlyTotals, itemId],
  );
  return rows.map((row) => ({
    monthyear: monthYear(row.month_start),
    monthlyordered: exactNumber(row.monthly_ordered, 'monthly_ordered'),
  }));
}

/** mysql2 returns a BIGINT as a string only when it is not exact as a number. */
function exactNumber(value: number | string, column: string): number {
  if (typeof value === 'number') return value;
  throw new RangeError(`${column} ${value} is beyond the exact range of JSON numbers`);
}
