import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { ORDERS_TABLE_KEY } from '../../config/pipeline';
import { MalformedRecordError } from './errors';
import { itemIdProblem, orderIdProblem, quantityProblem } from './limits';
import { normaliseEventTime, orderContentHash, type Order, type OrderLine } from './order';

/** What the projection does with one stream record. */
export type RecordIntent =
  | { readonly kind: 'project'; readonly order: Order }
  | { readonly kind: 'skip'; readonly eventName: string; readonly orderId: string | undefined };

type Image = Record<string, AttributeValue>;

/**
 * Reads an orders-table stream record. INSERT records become orders to
 * project; MODIFY and REMOVE are skipped (orders are immutable in this
 * version). Throws {@link MalformedRecordError} naming every problem.
 */
export function readOrderRecord(record: DynamoDBRecord): RecordIntent {
  const eventName = record.eventName;
  const image = record.dynamodb?.NewImage as Image | undefined;
  if (eventName !== 'INSERT') {
    const keys = record.dynamodb?.Keys as Image | undefined;
    return { kind: 'skip', eventName: eventName ?? 'unknown', orderId: keys?.[ORDERS_TABLE_KEY]?.S };
  }
  if (image === undefined) {
    throw new MalformedRecordError('INSERT record has no NewImage (is the stream view type NEW_IMAGE or NEW_AND_OLD_IMAGES?)');
  }
  return { kind: 'project', order: orderFromImage(image) };
}

/** Converts an orders-table item to an {@link Order}, checking every attribute. */
export function orderFromImage(image: Image): Order {
  const problems: string[] = [];
  const orderId = image[ORDERS_TABLE_KEY]?.S;
  const orderIdIssue = orderIdProblem(orderId);
  if (orderIdIssue) problems.push(`${ORDERS_TABLE_KEY} ${orderIdIssue} (S attribute)`);

  const orderedAt = normaliseEventTime(image.orderedAt?.S);
  if (orderedAt === undefined) problems.push('orderedAt must be an ISO 8601 timestamp (S attribute)');

  const contentHash = image.contentHash?.S;
  const commandMessageId = image.commandMessageId?.S ?? '';

  const items = image.items?.L;
  const lines: OrderLine[] = [];
  if (!items || items.length === 0) {
    problems.push('items must be a non-empty L attribute');
  } else {
    items.forEach((entry, index) => {
      const line = entry.M;
      if (!line) {
        problems.push(`items[${index}] must be an M attribute`);
        return;
      }
      const itemid = line.itemid?.S;
      const raw = line.quantity?.N;
      const quantity = Number(raw);
      const itemIssue = itemIdProblem(itemid);
      const quantityIssue =
        raw === undefined
          ? 'is required (N attribute)'
          : /^\d+$/.test(raw)
            ? quantityProblem(quantity)
            : `must be a positive integer, got ${raw}`;
      if (itemIssue) problems.push(`items[${index}].itemid ${itemIssue}`);
      if (quantityIssue) problems.push(`items[${index}].quantity ${quantityIssue}`);
      if (!itemIssue && !quantityIssue) lines.push({ itemid: itemid as string, quantity });
    });
  }
  if (problems.length > 0) throw new MalformedRecordError(problems.join('; '));

  const expectedHash = orderContentHash(orderId as string, lines);
  if (contentHash !== undefined && contentHash !== expectedHash) {
    throw new MalformedRecordError(`contentHash does not match the order's items (stored ${contentHash}, computed ${expectedHash})`);
  }
  return {
    orderId: orderId as string,
    orderedAt: orderedAt as string,
    items: lines,
    contentHash: expectedHash,
    commandMessageId,
  };
}
