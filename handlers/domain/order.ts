/**
 * The order, its shapes side by side, and one conversion each way:
 *
 *   command detail ──orderFromCommand──▶ Order ──orderToItem──▶ orders-table item
 *   orders-table item / stream image ──orderFromItem──▶ Order
 *   Order ──orderToRows──▶ read-model rows ──orderFromRows──▶ Order (the rebuild)
 *
 * One line validator ({@link validateLines}) serves every inbound conversion,
 * so a line the command side refuses is refused the same way wherever it
 * comes from.
 *
 * An order also has a status and a revision: created at revision 1, and each
 * command that changes it (handlers/commands/) writes the next revision and
 * its own status. The content (id, lines, hash) never changes.
 */
import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ORDERS_TABLE_KEY } from '../../config/contract';
import { MalformedRecordError, ValidationError } from './errors';
import { normaliseEventTime, orderTimeProblem } from '../../config/time';
import { Limits, describeType, itemIdProblem, orderIdProblem, quantityProblem } from './limits';

/** The status and revision every order starts with. */
export const INITIAL_STATE = { status: 'created', revision: 1 } as const;

/** A status is a short lower-case word (`created`, `cancelled`): it is a DynamoDB attribute and a MySQL column. */
const STATUS_PATTERN = /^[a-z]{1,16}$/;

/** One line of an order. */
export interface OrderLine {
  readonly itemid: string;
  readonly quantity: number;
}

/** A validated order, as the command side stores it and the projection reads it. */
export interface Order {
  readonly orderId: string;
  /** The command event's `time`, normalised to ISO 8601 UTC. */
  readonly orderedAt: string;
  readonly items: readonly OrderLine[];
  /** SHA-256 of the order's content; equal hashes mean an exact duplicate. */
  readonly contentHash: string;
  /** The `id` of the command event that created the order. */
  readonly commandMessageId: string;
  /** `created`, or the status the latest command that changed it left (`cancelled`). */
  readonly status: string;
  /** 1 when created; each change writes the next. The projection keeps the highest it has seen. */
  readonly revision: number;
}

/** The EventBridge envelope fields a command arrives in. */
export interface CommandEnvelope {
  readonly id?: unknown;
  readonly time?: unknown;
  readonly detail?: unknown;
}

/** An orders-table item (and a stream record's image), in DynamoDB AttributeValue form. */
export type OrderItem = Record<string, AttributeValue>;

/** The read model's `orders` row: `[order_id, ordered_at, content_hash, line_count, status, revision]`. */
type OrderRow = readonly [orderId: string, orderedAt: string, contentHash: string, lineCount: number, status: string, revision: number];

/** The read model's `order_lines` rows: `[order_id, line_no, item_id, quantity]`, line numbers from 1. */
export type OrderLineRow = readonly [orderId: string, lineNo: number, itemId: string, quantity: number];

/** An order's line as read back from the read model, in line order. */
export interface StoredLine {
  readonly item_id: string;
  readonly quantity: number;
}

/**
 * Hashes what makes two orders the same: the id and the lines, in a canonical
 * order (line order is not meaningful). The event time is deliberately left
 * out, so a client that re-sends the same order gets `orderCreated` again.
 */
export function orderContentHash(orderId: string, items: readonly OrderLine[]): string {
  const lines = items.map((line) => [line.itemid, line.quantity] as const).sort(([a, qa], [b, qb]) => (a < b ? -1 : a > b ? 1 : qa - qb));
  return createHash('sha256')
    .update(JSON.stringify([orderId, lines]))
    .digest('hex');
}

/** A line as some source holds it, before validation. */
interface LineCandidate {
  /** Where the line is, for messages: `detail.items[0]`, `items[0]`. */
  readonly at: string;
  readonly itemid: unknown;
  readonly quantity: unknown;
  /** A problem the source's own encoding already found in the quantity. */
  readonly quantityProblem?: string;
  /** The line is not a line at all (not an object): this is its only problem. */
  readonly shapeProblem?: string;
}

/** The one line validator: the valid lines, and every problem by field. */
function validateLines(candidates: readonly LineCandidate[]): { lines: OrderLine[]; problems: string[] } {
  const lines: OrderLine[] = [];
  const problems: string[] = [];
  for (const candidate of candidates) {
    if (candidate.shapeProblem) {
      problems.push(`${candidate.at} ${candidate.shapeProblem}`);
      continue;
    }
    const itemIssue = itemIdProblem(candidate.itemid);
    const quantityIssue = candidate.quantityProblem ?? quantityProblem(candidate.quantity);
    if (itemIssue) problems.push(`${candidate.at}.itemid ${itemIssue}`);
    if (quantityIssue) problems.push(`${candidate.at}.quantity ${quantityIssue}`);
    if (!itemIssue && !quantityIssue) lines.push({ itemid: candidate.itemid as string, quantity: candidate.quantity as number });
  }
  return { lines, problems };
}

/**
 * A `createOrder` command's detail → order (the command's name already
 * checked). Throws a {@link ValidationError} naming every offending field;
 * never throws anything else for bad input.
 */
export function orderFromCommand(envelope: CommandEnvelope): Order {
  const { detail } = envelope;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new ValidationError([`detail must be an object, got ${describeType(detail)}`]);
  }
  const fields = detail as Record<string, unknown>;

  const problems: string[] = [];
  const orderIdIssue = orderIdProblem(fields.orderId);
  if (orderIdIssue) problems.push(`detail.orderId ${orderIdIssue}`);

  const items = fields.items;
  let lines: OrderLine[] = [];
  if (items === undefined || items === null) {
    problems.push('detail.items is required');
  } else if (!Array.isArray(items)) {
    problems.push(`detail.items must be an array, got ${describeType(items)}`);
  } else if (items.length === 0) {
    problems.push('detail.items must contain at least one item');
  } else if (items.length > Limits.maxItems) {
    problems.push(`detail.items must contain at most ${Limits.maxItems} items, got ${items.length}`);
  } else {
    const candidates: LineCandidate[] = [];
    items.forEach((item: unknown, index) => {
      const at = `detail.items[${index}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        candidates.push({ at, itemid: undefined, quantity: undefined, shapeProblem: `must be an object, got ${describeType(item)}` });
      else candidates.push({ at, itemid: (item as Record<string, unknown>).itemid, quantity: (item as Record<string, unknown>).quantity });
    });
    const validated = validateLines(candidates);
    lines = validated.lines;
    problems.push(...validated.problems);
  }

  const orderedAt = commandTime(envelope, problems);
  if (problems.length > 0) throw new ValidationError(problems);
  const orderId = fields.orderId as string;
  return {
    orderId,
    orderedAt: orderedAt as string,
    items: lines,
    contentHash: orderContentHash(orderId, lines),
    commandMessageId: envelope.id as string,
    ...INITIAL_STATE,
  };
}

/**
 * The command event's `time` (normalised to ISO 8601 UTC) after checking it
 * and the event's `id`; their problems go to `problems`. Every command reads
 * its envelope through this.
 */
export function commandTime(envelope: CommandEnvelope, problems: string[]): string | undefined {
  const time = normaliseEventTime(envelope.time);
  if (time === undefined) problems.push('time must be an ISO 8601 timestamp');
  else {
    const problem = orderTimeProblem(time);
    if (problem) problems.push(problem);
  }
  if (typeof envelope.id !== 'string' || envelope.id.length === 0) problems.push('id must be a non-empty string');
  return time;
}

/** Order → orders-table item. */
export function orderToItem(order: Order): OrderItem {
  return {
    [ORDERS_TABLE_KEY]: { S: order.orderId },
    orderedAt: { S: order.orderedAt },
    items: { L: order.items.map((line) => ({ M: { itemid: { S: line.itemid }, quantity: { N: String(line.quantity) } } })) },
    contentHash: { S: order.contentHash },
    commandMessageId: { S: order.commandMessageId },
    status: { S: order.status },
    revision: { N: String(order.revision) },
  };
}

/**
 * Orders-table item (or stream image) → order, checking every attribute with
 * the same rules as a command. Throws {@link MalformedRecordError} naming
 * every problem, or when the stored content hash does not match the lines.
 */
export function orderFromItem(image: OrderItem): Order {
  const problems: string[] = [];
  const orderId = image[ORDERS_TABLE_KEY]?.S;
  const orderIdIssue = orderIdProblem(orderId);
  if (orderIdIssue) problems.push(`${ORDERS_TABLE_KEY} ${orderIdIssue} (S attribute)`);

  const orderedAt = normaliseEventTime(image.orderedAt?.S);
  if (orderedAt === undefined) problems.push('orderedAt must be an ISO 8601 timestamp (S attribute)');

  const items = image.items?.L;
  let lines: OrderLine[] = [];
  if (!items || items.length === 0) {
    problems.push('items must be a non-empty L attribute');
  } else {
    const candidates: LineCandidate[] = [];
    items.forEach((entry, index) => {
      const line = entry.M;
      if (!line) {
        candidates.push({ at: `items[${index}]`, itemid: undefined, quantity: undefined, shapeProblem: 'must be an M attribute' });
        return;
      }
      const raw = line.quantity?.N;
      const encoding = raw === undefined ? 'is required (N attribute)' : /^\d+$/.test(raw) ? undefined : `must be a positive integer, got ${raw}`;
      candidates.push({ at: `items[${index}]`, itemid: line.itemid?.S, quantity: Number(raw), ...(encoding ? { quantityProblem: encoding } : {}) });
    });
    const validated = validateLines(candidates);
    lines = validated.lines;
    problems.push(...validated.problems);
  }
  // Items written before orders had a status are created orders at revision 1.
  const status = image.status?.S ?? INITIAL_STATE.status;
  if (!STATUS_PATTERN.test(status))
    problems.push(`status must be a lower-case word of 1 to 16 letters, got ${JSON.stringify(status.slice(0, 32))} (S attribute)`);
  const revisionText = image.revision?.N ?? String(INITIAL_STATE.revision);
  const revision = Number(revisionText);
  if (!/^\d{1,9}$/.test(revisionText) || revision < 1) problems.push(`revision must be a positive integer, got ${revisionText.slice(0, 32)} (N attribute)`);
  if (problems.length > 0) throw new MalformedRecordError(problems.join('; '));

  const contentHash = image.contentHash?.S;
  const expectedHash = orderContentHash(orderId as string, lines);
  if (contentHash !== undefined && contentHash !== expectedHash) {
    throw new MalformedRecordError(`contentHash does not match the order's items (stored ${contentHash}, computed ${expectedHash})`);
  }
  return {
    orderId: orderId as string,
    orderedAt: orderedAt as string,
    items: lines,
    contentHash: expectedHash,
    commandMessageId: image.commandMessageId?.S ?? '',
    status,
    revision,
  };
}

/** Order → read-model rows: its `orders` row and its `order_lines` rows, in the order sent. */
export function orderToRows(order: Order): { order: OrderRow; lines: OrderLineRow[] } {
  return {
    order: [order.orderId, toSqlDateTime(order.orderedAt), order.contentHash, order.items.length, order.status, order.revision],
    lines: order.items.map((line, index): OrderLineRow => [order.orderId, index + 1, line.itemid, line.quantity]),
  };
}

/** Read-model rows → order (the rebuild's catch-up). `orderedAt` is ISO 8601 UTC. */
export function orderFromRows(
  row: { readonly orderId: string; readonly orderedAt: string; readonly contentHash: string; readonly status: string; readonly revision: number },
  lines: readonly StoredLine[],
): Order {
  return {
    orderId: row.orderId,
    orderedAt: `${row.orderedAt.slice(0, 23)}Z`,
    items: lines.map((line) => ({ itemid: line.item_id, quantity: line.quantity })),
    contentHash: row.contentHash,
    commandMessageId: '',
    status: row.status,
    revision: row.revision,
  };
}

/** `2022-10-13T19:00:00.000Z` → `2022-10-13 19:00:00.000` (UTC, DATETIME(3)). */
export function toSqlDateTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}
