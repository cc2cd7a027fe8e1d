import { describe, expect, it } from '@jest/globals';
import { isKnownStatus } from '../../../handlers/commands/registry';
import { readOrderRecord as readWith } from '../../../handlers/domain/order-record';
import type { DynamoDBRecord } from 'aws-lambda';
import { buildOrder, insertRecord } from '../../helpers/factories';

const readOrderRecord = (record: DynamoDBRecord) => readWith(record, isKnownStatus);

describe('readOrderRecord', () => {
  it('reads an INSERT record back into the order that was written', () => {
    const order = buildOrder({ orderId: '6102' });
    expect(readOrderRecord(insertRecord(order))).toEqual({ kind: 'project', order });
  });

  it('reads a MODIFY record as the order at its new revision and status', () => {
    const order = buildOrder({ orderId: '6103', status: 'cancelled', revision: 2 });
    expect(readOrderRecord({ ...insertRecord(order), eventName: 'MODIFY' })).toEqual({ kind: 'project', order });
  });

  it('skips REMOVE records: no command deletes an order', () => {
    const record = { ...insertRecord(buildOrder({ orderId: '7' })), eventName: 'REMOVE' as const };
    expect(readOrderRecord(record)).toEqual({ kind: 'skip', eventName: 'REMOVE', orderId: '7' });
  });

  it('refuses a status no command leaves', () => {
    const record = { ...insertRecord(buildOrder({ orderId: '8', status: 'shipped', revision: 2 })), eventName: 'MODIFY' as const };
    expect(() => readOrderRecord(record)).toThrow(
      expect.objectContaining({ name: 'MalformedRecordError', message: 'status "shipped" is not one a command leaves' }),
    );
  });

  it('refuses an INSERT without a new image', () => {
    const record = insertRecord(buildOrder());
    delete record.dynamodb!.NewImage;
    expect(() => readOrderRecord(record)).toThrow(/no NewImage/);
  });

  it('names every malformed attribute', () => {
    // Prepare
    const record = insertRecord(buildOrder({ orderId: '9' }));
    record.dynamodb!.NewImage = {
      orderid: { S: '9' },
      orderedAt: { S: 'soon' },
      items: { L: [{ M: { itemid: { N: '1' }, quantity: { N: '2.5' } } }, { S: 'x' }] },
    };

    // Act
    const act = () => readOrderRecord(record);

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'MalformedRecordError',
        message:
          'orderedAt must be an ISO 8601 timestamp (S attribute); items[0].itemid is required; ' +
          'items[0].quantity must be a positive integer, got 2.5; items[1] must be an M attribute',
      }),
    );
  });

  it('refuses an image whose content hash does not match its items', () => {
    const record = insertRecord(buildOrder());
    (record.dynamodb!.NewImage as Record<string, { S?: string }>).contentHash = { S: 'f'.repeat(64) };
    expect(() => readOrderRecord(record)).toThrow(/contentHash does not match/);
  });
});
