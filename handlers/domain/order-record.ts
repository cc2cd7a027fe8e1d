import type { DynamoDBRecord } from 'aws-lambda';
import { ORDERS_TABLE_KEY } from '../../config/contract';
import { MalformedRecordError } from './errors';
import { orderFromItem, type Order, type OrderItem } from './order';

/** What the projection does with one stream record. */
type RecordIntent =
  | { readonly kind: 'project'; readonly order: Order }
  | { readonly kind: 'skip'; readonly eventName: string; readonly orderId: string | undefined };


/**
 * Reads an orders-table stream record. INSERT records become orders to
 * project; MODIFY and REMOVE are skipped (orders are immutable in this
 * version). Throws {@link MalformedRecordError} naming every problem.
 */
export function readOrderRecord(record: DynamoDBRecord): RecordIntent {
  const eventName = record.eventName;
  const image = record.dynamodb?.NewImage as OrderItem | undefined;
  if (eventName !== 'INSERT') {
    const keys = record.dynamodb?.Keys as OrderItem | undefined;
    return { kind: 'skip', eventName: eventName ?? 'unknown', orderId: keys?.[ORDERS_TABLE_KEY]?.S };
  }
  if (image === undefined) {
    throw new MalformedRecordError('INSERT record has no NewImage (is the stream view type NEW_IMAGE or NEW_AND_OLD_IMAGES?)');
  }
  return { kind: 'project', order: orderFromItem(image) };
}
