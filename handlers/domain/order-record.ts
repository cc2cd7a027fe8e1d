import type { DynamoDBRecord } from 'aws-lambda';
import { ORDERS_TABLE_KEY } from '../../config/contract';
import { MalformedRecordError } from './errors';
import { orderFromItem, type Order, type OrderItem } from './order';

/** What the projection does with one stream record. */
type RecordIntent =
  { readonly kind: 'project'; readonly order: Order } | { readonly kind: 'skip'; readonly eventName: string; readonly orderId: string | undefined };

/**
 * Reads an orders-table stream record. INSERT (a created order) and MODIFY (a
 * change, such as a cancellation) both carry the whole order at its new
 * revision: the projection applies the state, so either kind, in any order,
 * ends the same. REMOVE is skipped: no command deletes an order. A status no
 * command leaves (`isKnownStatus`, from the command registry) is malformed.
 * Throws {@link MalformedRecordError} naming every problem.
 */
export function readOrderRecord(record: DynamoDBRecord, isKnownStatus: (status: string) => boolean): RecordIntent {
  const eventName = record.eventName;
  if (eventName !== 'INSERT' && eventName !== 'MODIFY') {
    const keys = record.dynamodb?.Keys as OrderItem | undefined;
    return { kind: 'skip', eventName: eventName ?? 'unknown', orderId: keys?.[ORDERS_TABLE_KEY]?.S };
  }
  const image = record.dynamodb?.NewImage as OrderItem | undefined;
  if (image === undefined) {
    throw new MalformedRecordError(`${eventName} record has no NewImage (is the stream view type NEW_IMAGE or NEW_AND_OLD_IMAGES?)`);
  }
  return { kind: 'project', order: knownOrderFromItem(image, isKnownStatus) };
}

/** An orders-table item (or stream image) → order, refusing a status no command leaves; the stream and the rebuild read items through this. */
export function knownOrderFromItem(image: OrderItem, isKnownStatus: (status: string) => boolean): Order {
  const order = orderFromItem(image);
  if (!isKnownStatus(order.status)) throw new MalformedRecordError(`status ${JSON.stringify(order.status)} is not one a command leaves`);
  return order;
}
