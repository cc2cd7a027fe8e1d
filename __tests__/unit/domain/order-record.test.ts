import { describe, expect, it } from '@jest/globals';
import { readOrderRecord } from '../../../handlers/domain/order-record';
import { buildOrder, insertRecord } from '../../helpers/factories';

describe('readOrderRecord', () => {
  it('reads an INSERT record back into the order that was written', () => {
    const order = buildOrder({ orderId: '6102' });
    expect(readOrderRecord(insertRecord(order))).toEqual({ kind: 'project', order });
  });

  it.each(['MODIFY', 'REMOVE'] as const)('skips %s records: orders are immutable', (eventName) => {
    const record = { ...insertRecord(buildOrder({ orderId: '7' })), eventName };
    expect(readOrderRecord(record)).toEqual({ kind: 'skip', eventName, orderId: '7' });
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
    } as never;

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
