import type { Pool, RowDataPacket } from 'mysql2/promise';
import { OrderNotFoundError, ValidationError } from '../domain/errors';
import { FieldSchema, orderIdProblem } from '../domain/limits';
import { READ_MODEL_TABLES, type ReadModelTables } from '../../config/read-model-tables';
import { defineQuery, echoString, type PageRequest } from './query-definition';

/** One row of `orderDetails`: one order line, in the order it was sent. */
interface OrderDetailsRow {
  readonly itemid: string;
  readonly quantity: number;
  /** `YYYY-MM-DD`, UTC. */
  readonly orderdate: string;
}

interface OrderLineRow extends RowDataPacket {
  line_no: number;
  item_id: string;
  quantity: number;
  order_date: string;
  status: string;
}

/**
 * The lines of one order, in the order sent, with its date, and the order's
 * status; `undefined` when the read model does not hold the order. A
 * cancelled order keeps its lines. Pages are keyed by line number.
 */
export async function orderDetails(
  pool: Pool,
  orderId: string,
  page: PageRequest = { limit: Number.MAX_SAFE_INTEGER },
  tables: ReadModelTables = READ_MODEL_TABLES,
): Promise<{ status: string; lines: (OrderDetailsRow & { lineNo: number })[] } | undefined> {
  const [rows] = await pool.query<OrderLineRow[]>(
    `SELECT l.line_no, l.item_id, l.quantity, DATE_FORMAT(o.ordered_at, '%Y-%m-%d') AS order_date, o.status
       FROM ?? o LEFT JOIN ?? l ON l.order_id = o.order_id ${page.after === undefined ? '' : 'AND l.line_no > ?'}
      WHERE o.order_id = ? ORDER BY l.line_no LIMIT ?`,
    [tables.orders, tables.orderLines, ...(page.after === undefined ? [] : [Number(page.after)]), orderId, Math.min(page.limit, Number.MAX_SAFE_INTEGER)],
  );
  const first = rows[0];
  if (first === undefined) return undefined;
  // The order exists; a page past its last line has no lines (the LEFT JOIN's NULL row).
  return {
    status: first.status,
    lines: rows
      .filter((row) => row.item_id !== null)
      .map((row) => ({ itemid: row.item_id, quantity: row.quantity, orderdate: row.order_date, lineNo: row.line_no })),
  };
}

/** `orderDetails`: one order's lines and date with its status (`queryOrderStatus`), or 404 `OrderNotFound`. */
export const query = defineQuery({
  name: 'orderDetails',
  functionName: 'order-details',
  summary: "one order's lines (item id, quantity, order date), in the order sent, and its status",
  benchTargetMs: 2,
  arguments: ['orderId'],
  parse: (detail) => {
    const problem = orderIdProblem(detail.orderId);
    if (problem) throw new ValidationError([`detail.orderId ${problem}`]);
    return { orderId: detail.orderId as string };
  },
  echo: (params) => ({ queryOrderId: params.orderId }),
  echoRefused: (detail) => echoString(detail, 'orderId', 'queryOrderId'),
  run: async (pool, params, page) => {
    const order = await orderDetails(pool, params.orderId, page);
    return order === undefined
      ? { refusal: new OrderNotFoundError(params.orderId) }
      : { rows: order.lines.map(({ lineNo: _, ...row }) => row), fields: { queryOrderStatus: order.status } };
  },
  // No paging: an order has at most 100 lines (the command limit), and one page holds them.
  settings: { timeoutSeconds: 30, memoryMb: 512, reservedConcurrency: 3, databaseConnections: 1 },
  schema: {
    detail: { required: ['orderId'], properties: { orderId: FieldSchema.orderId } },
    row: {
      type: 'object',
      required: ['itemid', 'quantity', 'orderdate'],
      properties: { itemid: FieldSchema.itemId, quantity: FieldSchema.quantity, orderdate: FieldSchema.date },
    },
    answer: {
      queryOrderId: { type: 'string' },
      queryOrderStatus: { type: 'string', description: '`created`, or the status the command that last changed it left (`cancelled`)' },
    },
  },
});
