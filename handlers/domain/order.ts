import { createHash } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ORDERS_TABLE_KEY } from '../../config/pipeline';
import {
  OrderConflictError,
  RefusalError,
  UnsupportedCommandError,
  ValidationError,
  type RefusalBody,
} from './errors';
import { Limits, describeType, itemIdProblem, orderIdProblem, quantityProblem } from './limits';

/** The commands this version supports. */
export const SUPPORTED_COMMANDS = ['createOrder'] as const;

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
}

/** The EventBridge envelope fields the workflow passes to command validation. */
export interface CommandEnvelope {
  readonly id?: unknown;
  readonly time?: unknown;
  readonly detail?: unknown;
}

/** Detail of an `orderCommandResponse` event. */
export interface CommandResponseDetail {
  readonly orderid: string | null;
  readonly commandStatus: 'orderCreated' | 'orderRejected';
  readonly commandMessageId: string | null;
  readonly error?: RefusalBody;
}

/** What command validation hands to the workflow. */
export type CommandValidation =
  | {
      readonly valid: true;
      readonly orderId: string;
      readonly contentHash: string;
      /** The orders-table item, in DynamoDB AttributeValue form. */
      readonly item: Record<string, AttributeValue>;
      /** The responses the workflow publishes after the conditional write. */
      readonly responses: {
        readonly created: CommandResponseDetail;
        readonly conflict: CommandResponseDetail;
      };
    }
  | {
      readonly valid: false;
      readonly response: CommandResponseDetail;
    };

/**
 * Hashes what makes two orders the same: the id and the lines, in a canonical
 * order (line order is not meaningful). The event time is deliberately left
 * out, so a client that re-sends the same order gets `orderCreated` again.
 */
export function orderContentHash(orderId: string, items: readonly OrderLine[]): string {
  const lines = items
    .map((line) => [line.itemid, line.quantity] as const)
    .sort(([a, qa], [b, qb]) => (a < b ? -1 : a > b ? 1 : qa - qb));
  return createHash('sha256').update(JSON.stringify([orderId, lines])).digest('hex');
}

/** Normalises an event `time` to ISO 8601 UTC, or returns `undefined` when it is not a timestamp. */
export function normaliseEventTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : new Date(millis).toISOString();
}

/**
 * Parses a `createOrder` command. Throws a {@link RefusalError} naming every
 * offending field; never throws anything else for bad input.
 */
export function parseCreateOrder(envelope: CommandEnvelope): Order {
  const { detail } = envelope;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new ValidationError([`detail must be an object, got ${describeType(detail)}`]);
  }
  const fields = detail as Record<string, unknown>;
  const { command } = fields;
  if (command === undefined || command === null) throw new ValidationError(['detail.command is required']);
  if (typeof command !== 'string') {
    throw new ValidationError([`detail.command must be a string, got ${describeType(command)}`]);
  }
  if (!(SUPPORTED_COMMANDS as readonly string[]).includes(command)) {
    throw new UnsupportedCommandError(command, SUPPORTED_COMMANDS);
  }

  const problems: string[] = [];
  const orderIdIssue = orderIdProblem(fields.orderId);
  if (orderIdIssue) problems.push(`detail.orderId ${orderIdIssue}`);

  const items = fields.items;
  const lines: OrderLine[] = [];
  if (items === undefined || items === null) {
    problems.push('detail.items is required');
  } else if (!Array.isArray(items)) {
    problems.push(`detail.items must be an array, got ${describeType(items)}`);
  } else if (items.length === 0) {
    problems.push('detail.items must contain at least one item');
  } else if (items.length > Limits.maxItems) {
    problems.push(`detail.items must contain at most ${Limits.maxItems} items, got ${items.length}`);
  } else {
    items.forEach((item: unknown, index) => {
      const at = `detail.items[${index}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        problems.push(`${at} must be an object, got ${describeType(item)}`);
        return;
      }
      const { itemid, quantity } = item as Record<string, unknown>;
      const itemIssue = itemIdProblem(itemid);
      const quantityIssue = quantityProblem(quantity);
      if (itemIssue) problems.push(`${at}.itemid ${itemIssue}`);
      if (quantityIssue) problems.push(`${at}.quantity ${quantityIssue}`);
      if (!itemIssue && !quantityIssue) lines.push({ itemid: itemid as string, quantity: quantity as number });
    });
  }

  const orderedAt = normaliseEventTime(envelope.time);
  if (orderedAt === undefined) problems.push('time must be an ISO 8601 timestamp');
  if (typeof envelope.id !== 'string' || envelope.id.length === 0) problems.push('id must be a non-empty string');

  if (problems.length > 0) throw new ValidationError(problems);
  const orderId = fields.orderId as string;
  return {
    orderId,
    orderedAt: orderedAt as string,
    items: lines,
    contentHash: orderContentHash(orderId, lines),
    commandMessageId: envelope.id as string,
  };
}

/** Converts an order to its orders-table item. */
export function toOrderItem(order: Order): Record<string, AttributeValue> {
  return {
    [ORDERS_TABLE_KEY]: { S: order.orderId },
    orderedAt: { S: order.orderedAt },
    items: {
      L: order.items.map((line) => ({
        M: { itemid: { S: line.itemid }, quantity: { N: String(line.quantity) } },
      })),
    },
    contentHash: { S: order.contentHash },
    commandMessageId: { S: order.commandMessageId },
  };
}

/**
 * Validates a command for the workflow: either the item to write with the
 * responses to publish, or the refusal to publish. Bad input never throws.
 */
export function validateCommand(envelope: CommandEnvelope): CommandValidation {
  const commandMessageId = typeof envelope.id === 'string' ? envelope.id : null;
  try {
    const order = parseCreateOrder(envelope);
    return {
      valid: true,
      orderId: order.orderId,
      contentHash: order.contentHash,
      item: toOrderItem(order),
      responses: {
        created: { orderid: order.orderId, commandStatus: 'orderCreated', commandMessageId },
        conflict: {
          orderid: order.orderId,
          commandStatus: 'orderRejected',
          commandMessageId,
          error: new OrderConflictError(order.orderId).toBody(),
        },
      },
    };
  } catch (error) {
    if (!(error instanceof RefusalError)) throw error;
    const detail = envelope.detail as Record<string, unknown> | undefined;
    const orderId = typeof detail === 'object' && detail !== null ? detail.orderId : undefined;
    return {
      valid: false,
      response: {
        // Echo the id only while it is short enough to keep the response small.
        orderid: typeof orderId === 'string' && orderId.length <= 256 ? orderId : null,
        commandStatus: 'orderRejected',
        commandMessageId,
        error: error.toBody(),
      },
    };
  }
}
