import { describe, expect, it } from '@jest/globals';
import { aggregate, compareKeys } from '../../../handlers/read-model/read-model-writer';
import { buildOrder } from '../../helpers/factories';

describe('aggregate', () => {
  it('sums per item and per item-month, keeping the latest date, in key order', () => {
    // Prepare
    const orders = [
      buildOrder({
        orderedAt: '2022-10-13T19:00:00.000Z',
        items: [
          { itemid: 'z3333', quantity: 6 },
          { itemid: 'z4444', quantity: 3 },
        ],
      }),
      buildOrder({ orderedAt: '2022-11-02T01:00:00.000Z', items: [{ itemid: 'z3333', quantity: 1 }] }),
      buildOrder({
        orderedAt: '2022-10-01T00:00:00.000Z',
        items: [
          { itemid: 'a1', quantity: 2 },
          { itemid: 'a1', quantity: 5 },
        ],
      }),
    ];

    // Act
    const totals = aggregate(orders);

    // Assess
    expect(totals.items).toEqual([
      ['a1', 7, '2022-10-01'],
      ['z3333', 7, '2022-11-02'],
      ['z4444', 3, '2022-10-13'],
    ]);
    expect(totals.months).toEqual([
      ['a1', '2022-10-01', 7],
      ['z3333', '2022-10-01', 6],
      ['z3333', '2022-11-01', 1],
      ['z4444', '2022-10-01', 3],
    ]);
  });
});

describe('compareKeys', () => {
  it('orders by code point like a binary collation, not by UTF-16 unit', () => {
    const keys = ['\u{1F355}', '\uFF5E', 'b', 'B', 'a'];
    expect([...keys].sort(compareKeys)).toEqual(['B', 'a', 'b', '\uFF5E', '\u{1F355}']);
  });
});
