import { describe, expect, it } from '@jest/globals';
import { validateCommand } from '../../../handlers/commands/validate-command';
import { orderContentHash, orderFromCommand, orderFromItem, orderFromRows, orderToItem, orderToRows, toSqlDateTime } from '../../../handlers/domain/order';
import { buildOrder } from '../../helpers/factories';
import { envelopeOf, sampleEntry } from '../../helpers/factories';

const sample = () => envelopeOf(sampleEntry('create-order-6102'), 'command-1');
const withDetail = (detail: unknown) => ({ ...sample(), detail });

describe('orderFromCommand', () => {
  it('accepts the original sample command', () => {
    // Act
    const order = orderFromCommand(sample());

    // Assess
    expect(order).toEqual({
      orderId: '6102',
      orderedAt: '2022-10-13T19:00:00.000Z',
      items: [
        { itemid: 'z3333', quantity: 6 },
        { itemid: 'z4444', quantity: 3 },
      ],
      contentHash: orderContentHash('6102', [
        { itemid: 'z3333', quantity: 6 },
        { itemid: 'z4444', quantity: 3 },
      ]),
      commandMessageId: 'command-1',
      status: 'created',
      revision: 1,
    });
  });

  it('names every offending field in one ValidationError', () => {
    // Prepare
    const detail = {
      command: 'createOrder',
      orderId: 'has space',
      items: [{ itemid: '', quantity: 0 }, { quantity: 1.5 }, 'z'],
    };

    // Act
    const act = () => orderFromCommand(withDetail(detail));

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        code: 'ValidationError',
        problems: [
          'detail.orderId must use only the characters A-Z a-z 0-9 _ . : -',
          'detail.items[0].itemid must not be empty',
          'detail.items[0].quantity must be an integer from 1 to 1000000, got 0',
          'detail.items[1].itemid is required',
          'detail.items[1].quantity must be an integer from 1 to 1000000, got 1.5',
          'detail.items[2] must be an object, got a string',
        ],
      }),
    );
  });

  it.each([
    [{ orderId: '' }, 'detail.orderId must not be empty'],
    [{ orderId: 6102 }, 'detail.orderId must be a string, got a number'],
    [{ orderId: 'x'.repeat(65) }, 'detail.orderId must be at most 64 characters, got 65'],
    [{ items: undefined }, 'detail.items is required'],
    [{ items: {} }, 'detail.items must be an array, got an object'],
    [{ items: [] }, 'detail.items must contain at least one item'],
    [{ items: Array.from({ length: 101 }, (_, i) => ({ itemid: `i${i}`, quantity: 1 })) }, 'detail.items must contain at most 100 items, got 101'],
    [{ items: [{ itemid: 'a', quantity: '6' }] }, 'detail.items[0].quantity must be a number, got a string'],
    [{ items: [{ itemid: 'a', quantity: -1 }] }, 'detail.items[0].quantity must be an integer from 1 to 1000000, got -1'],
    [{ items: [{ itemid: 'a', quantity: 1e12 }] }, 'detail.items[0].quantity must be an integer from 1 to 1000000, got 1000000000000'],
    [{ items: [{ itemid: 7, quantity: 1 }] }, 'detail.items[0].itemid must be a string, got a number'],
    [{ items: [{ itemid: 'é'.repeat(65), quantity: 1 }] }, 'detail.items[0].itemid must be at most 64 characters, got 65'],
    [{ items: [{ itemid: 'a\u0000b', quantity: 1 }] }, 'detail.items[0].itemid must not contain control or invisible characters'],
    [{ items: [{ itemid: ' a', quantity: 1 }] }, 'detail.items[0].itemid must not start or end with white space'],
  ])('refuses %j with "%s"', (change, message) => {
    // Prepare
    const detail = { ...sample().detail, ...change };

    // Act
    const result = validateCommand(withDetail(detail));

    // Assess
    expect(result).toEqual({
      valid: false,
      response: expect.objectContaining({ commandStatus: 'orderRejected', error: { code: 'ValidationError', message } }),
    });
  });

  it('counts item id length in characters, so 64 emoji are allowed', () => {
    const detail = { ...sample().detail, items: [{ itemid: '🍕'.repeat(64), quantity: 1 }] };
    expect(validateCommand(withDetail(detail)).valid).toBe(true);
  });

  it('keeps SQL metacharacters in item ids verbatim', () => {
    const itemid = `'; DROP TABLE orders; -- \\ % _ "`;
    const order = orderFromCommand(withDetail({ command: 'createOrder', orderId: 'm1', items: [{ itemid, quantity: 1 }] }));
    expect(order.items[0]?.itemid).toBe(itemid);
  });

  it('answers UnsupportedCommand for an unknown command', () => {
    const result = validateCommand(withDetail({ command: 'deleteOrder', orderId: '6102' }));
    expect(result).toEqual({
      valid: false,
      response: {
        orderid: '6102',
        commandStatus: 'orderRejected',
        commandMessageId: 'command-1',
        error: {
          code: 'UnsupportedCommand',
          message: 'command "deleteOrder" is not supported; expected one of createOrder, cancelOrder',
        },
      },
    });
  });

  it.each([
    [undefined, 'detail must be an object, got nothing'],
    ['text', 'detail must be an object, got a string'],
    [{ orderId: '1' }, 'detail.command is required'],
    [{ command: 1 }, 'detail.command must be a string, got a number'],
  ])('refuses detail %j', (detail, message) => {
    const result = validateCommand(withDetail(detail));
    expect(result).toMatchObject({ valid: false, response: { error: { code: 'ValidationError', message } } });
  });

  it('refuses an envelope without a usable time', () => {
    const result = validateCommand({ ...sample(), time: 'yesterday' });
    expect(result).toMatchObject({ valid: false, response: { error: { message: 'time must be an ISO 8601 timestamp' } } });
  });
});

describe('orderContentHash', () => {
  it('ignores line order but not quantities', () => {
    const a = orderContentHash('1', [
      { itemid: 'a', quantity: 1 },
      { itemid: 'b', quantity: 2 },
    ]);
    const b = orderContentHash('1', [
      { itemid: 'b', quantity: 2 },
      { itemid: 'a', quantity: 1 },
    ]);
    const c = orderContentHash('1', [
      { itemid: 'b', quantity: 1 },
      { itemid: 'a', quantity: 2 },
    ]);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('the order codec', () => {
  it('round-trips an order through the orders-table item', () => {
    const order = buildOrder({
      orderId: 'codec-1',
      items: [
        { itemid: 'b', quantity: 2 },
        { itemid: 'a', quantity: 1 },
      ],
    });
    expect(orderFromItem(orderToItem(order))).toEqual(order);
  });

  it('round-trips an order through the read-model rows, keeping the order of its lines', () => {
    // Prepare
    const order = buildOrder({
      orderId: 'codec-2',
      orderedAt: '2022-10-13T19:00:00.123Z',
      items: [
        { itemid: 'z', quantity: 3 },
        { itemid: 'a', quantity: 1 },
      ],
    });

    // Act
    const rows = orderToRows(order);
    const back = orderFromRows(
      {
        orderId: rows.order[0],
        orderedAt: `${rows.order[1].replace(' ', 'T')}000Z`,
        contentHash: rows.order[2],
        status: rows.order[4],
        revision: rows.order[5],
      },
      rows.lines.map(([, , item_id, quantity]) => ({ item_id, quantity })),
    );

    // Assess
    expect(rows).toEqual({
      order: ['codec-2', '2022-10-13 19:00:00.123', order.contentHash, 2, 'created', 1],
      lines: [
        ['codec-2', 1, 'z', 3],
        ['codec-2', 2, 'a', 1],
      ],
    });
    expect(back).toEqual({ ...order, commandMessageId: '' });
  });

  it('round-trips a changed order, and reads an item written before statuses as created at revision 1', () => {
    const cancelled = buildOrder({ orderId: 'codec-4', status: 'cancelled', revision: 2 });
    expect(orderFromItem(orderToItem(cancelled))).toEqual(cancelled);
    const { status: _status, revision: _revision, ...legacy } = orderToItem(buildOrder({ orderId: 'codec-5' }));
    expect(orderFromItem(legacy)).toMatchObject({ orderId: 'codec-5', status: 'created', revision: 1 });
  });

  it.each([
    [{ status: { S: 'Cancelled!' } }, 'status must be a lower-case word of 1 to 16 letters, got "Cancelled!"'],
    [{ status: { S: '' } }, 'status must be a lower-case word'],
    [{ revision: { N: '0' } }, 'revision must be a positive integer, got 0'],
    [{ revision: { N: '1.5' } }, 'revision must be a positive integer, got 1.5'],
    [{ revision: { N: '99999999999' } }, 'revision must be a positive integer, got 99999999999'],
  ])('refuses a stored item with %j', (attributes, message) => {
    expect(() => orderFromItem({ ...orderToItem(buildOrder({ orderId: 'codec-6' })), ...attributes })).toThrow(message);
  });

  it('refuses in a stored item what it refuses in a command, with the same line rules', () => {
    const item = { ...orderToItem(buildOrder({ orderId: 'codec-3' })), items: { L: [{ M: { itemid: { S: '\u3164' }, quantity: { N: '0' } } }] } };
    expect(() => orderFromItem(item)).toThrow(
      'items[0].itemid must not contain control or invisible characters; items[0].quantity must be an integer from 1 to 1000000, got 0',
    );
  });
});

describe('toSqlDateTime', () => {
  it('keeps milliseconds and UTC', () => expect(toSqlDateTime('2022-10-13T19:00:00.123Z')).toBe('2022-10-13 19:00:00.123'));
});
