import type { Pool, RowDataPacket } from 'mysql2/promise';
import { ValidationError } from '../domain/errors';
import { FieldSchema, itemIdProblem } from '../domain/limits';
import { READ_MODEL_TABLES, type ReadModelTables } from '../../config/read-model-tables';
import { defineQuery, echoString, exactNumber, type PageRequest } from './query-definition';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'] as const;

/** `2022-10-01` → `October 2022`, independent of any server or process locale. */
export function monthYear(monthStart: string): string {
  const month = MONTHS[Number(monthStart.slice(5, 7)) - 1];
  if (month === undefined) throw new Error(`not a month start date: ${monthStart}`);
  return `${month} ${monthStart.slice(0, 4)}`;
}

/** `October 2022` → `2022-10-01`: the inverse of {@link monthYear}. */
export function monthStartOf(monthYearText: string): string {
  const [name, year] = monthYearText.split(' ');
  const index = MONTHS.indexOf(name as (typeof MONTHS)[number]);
  if (index < 0 || !/^\d{4}$/.test(year ?? '')) throw new Error(`not a month and year: ${monthYearText}`);
  return `${year}-${String(index + 1).padStart(2, '0')}-01`;
}

/** One row of `monthlySalesByItem`. */
interface MonthlySalesRow {
  /** English month and year, e.g. `October 2022`. */
  readonly monthyear: string;
  readonly monthlyordered: number;
}

interface MonthlyTotalRow extends RowDataPacket {
  month_start: string;
  monthly_ordered: number | string;
}

/** One item's total per calendar month (UTC), newest month first. Pages are keyed by month start (`YYYY-MM-01`). */
export async function monthlySalesByItem(
  pool: Pool,
  itemId: string,
  page: PageRequest = { limit: Number.MAX_SAFE_INTEGER },
  tables: ReadModelTables = READ_MODEL_TABLES,
): Promise<MonthlySalesRow[]> {
  const [rows] = await pool.query<MonthlyTotalRow[]>(
    `SELECT month_start, monthly_ordered FROM ?? WHERE item_id = ? ${page.after === undefined ? '' : 'AND month_start < ?'} ORDER BY month_start DESC LIMIT ?`,
    [tables.itemMonthlyTotals, itemId, ...(page.after === undefined ? [] : [page.after]), Math.min(page.limit, Number.MAX_SAFE_INTEGER)],
  );
  return rows.map((row) => ({ monthyear: monthYear(row.month_start), monthlyordered: exactNumber(row.monthly_ordered, 'monthly_ordered') }));
}

/** `monthlySalesByItem`: one item's monthly totals, newest month first. */
export const query = defineQuery({
  name: 'monthlySalesByItem',
  functionName: 'monthly-sales-by-item',
  summary: "one item's total quantity per calendar month (UTC), newest first",
  benchTargetMs: 2,
  arguments: ['itemid'],
  parse: (detail) => {
    const problem = itemIdProblem(detail.itemid);
    if (problem) throw new ValidationError([`detail.itemid ${problem}`]);
    return { itemId: detail.itemid as string };
  },
  echo: (params) => ({ queryItemId: params.itemId }),
  echoRefused: (detail) => echoString(detail, 'itemid', 'queryItemId'),
  run: async (pool, params, page) => ({ rows: await monthlySalesByItem(pool, params.itemId, page) }),
  paging: { key: (row: MonthlySalesRow) => monthStartOf(row.monthyear), valid: (after) => /^\d{4}-(0[1-9]|1[0-2])-01$/.test(after) },
  settings: { timeoutSeconds: 30, memoryMb: 512, reservedConcurrency: 3, databaseConnections: 1 },
  schema: {
    detail: { required: ['itemid'], properties: { itemid: FieldSchema.itemId } },
    row: {
      type: 'object',
      required: ['monthyear', 'monthlyordered'],
      properties: { monthyear: { type: 'string', pattern: '^[A-Z][a-z]+ \\d{4}$' }, monthlyordered: { type: 'integer', minimum: 1 } },
    },
    answer: { queryItemId: { type: 'string' } },
  },
});
