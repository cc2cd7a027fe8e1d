import { describe, expect, it } from '@jest/globals';
import { orderContentHash, parseCreateOrder, validateCommand } from '../../../handlers/domain/order';
import { envelopeOf, sampleEntry } from '../../helpers/factories';

const sample = () => envelopeOf(sampleEntry('create-order-6102'), 'command-1');
const withDetail = (detail: unknown) => ({ ...sample(), detail });

describe('parseCreateOrder', () => {
  it('accepts the original sample command', () => {
    // Act
    const order = parseCreateOrder(sample());

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
    const act = () => parseCreateOrder(withDetail(detail));

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
    const order = parseCreateOrder(withDetail({ command: 'createOrder', orderId: 'm1', items: [{ itemid, quantity: 1 }] }));
    expect(order.items[0]?.itemid).toBe(itemid);
  });

  it('answers UnsupportedCommand for an unknown command', () => {
    const result = validateCommand(withDetail({ command: 'cancelOrder', orderId: '6102' }));
    expect(result).toEqual({
      valid: false,
      response: {
        orderid: '6102',
        commandStatus: 'orderRejected',
        commandMessageId: 'command-1',
        error: {
          code: 'UnsupportedCommand',
          message: 'command "cancelOrder" is not supported; expected one of createOrder',
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
    const a = orderContentHash('1', [{ itemid: 'a', quantity: 1 }, { itemid: 'b', quantity: 2 }]);
    const b = orderContentHash('1', [{ itemid: 'b', quantity: 2 }, { itemid: 'a', quantity: 1 }]);
    const c = orderContentHash('1', [{ itemid: 'b', quantity: 1 }, { itemid: 'a', quantity: 2 }]);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe('validateCommand', () => {
  it('returns the DynamoDB item and both possible responses for a valid command', () => {
    // Act
    const result = validateCommand(sample());

    // Assess
    expect(result).toEqual({
      valid: true,
      orderId: '6102',
      contentHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      item: {
        orderid: { S: '6102' },
        orderedAt: { S: '2022-10-13T19:00:00.000Z' },
        items: {
          L: [
            { M: { itemid: { S: 'z3333' }, quantity: { N: '6' } } },
            { M: { itemid: { S: 'z4444' }, quantity: { N: '3' } } },
          ],
        },
        contentHash: { S: expect.stringMatching(/^[0-9a-f]{64}$/) },
        commandMessageId: { S: 'command-1' },
      },
      responses: {
        created: { orderid: '6102', commandStatus: 'orderCreated', commandMessageId: 'command-1' },
        conflict: {
          orderid: '6102',
          commandStatus: 'orderRejected',
          commandMessageId: 'command-1',
          error: { code: 'OrderConflict', message: expect.stringContaining('already exists with different content') },
        },
      },
    });
  });

  it('does not echo an overlong order id', () => {
    const result = validateCommand(withDetail({ command: 'createOrder', orderId: 'x'.repeat(300), items: [] }));
    expect(result).toMatchObject({ valid: false, response: { orderid: null } });
  });
});
