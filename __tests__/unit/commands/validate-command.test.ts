import { describe, expect, it } from '@jest/globals';
import { validateCommand } from '../../../handlers/commands/validate-command';
import { envelopeOf, sampleEntry } from '../../helpers/factories';

const sample = () => envelopeOf(sampleEntry('create-order-6102'), 'command-1');
const withDetail = (detail: unknown) => ({ ...sample(), detail });

describe('validateCommand', () => {
  it('returns the DynamoDB item and both possible responses for a valid command', () => {
    // Act
    const result = validateCommand(sample());

    // Assess
    expect(result).toEqual({
      valid: true,
      command: 'createOrder',
      orderId: '6102',
      compare: { contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) },
      values: {
        orderid: { S: '6102' },
        orderedAt: { S: '2022-10-13T19:00:00.000Z' },
        items: {
          L: [{ M: { itemid: { S: 'z3333' }, quantity: { N: '6' } } }, { M: { itemid: { S: 'z4444' }, quantity: { N: '3' } } }],
        },
        contentHash: { S: expect.stringMatching(/^[0-9a-f]{64}$/) },
        commandMessageId: { S: 'command-1' },
        status: { S: 'created' },
        revision: { N: '1' },
      },
      responses: {
        accepted: { orderid: '6102', commandStatus: 'orderCreated', commandMessageId: 'command-1' },
        conflict: {
          orderid: '6102',
          commandStatus: 'orderRejected',
          commandMessageId: 'command-1',
          error: { code: 'OrderConflict', message: expect.stringContaining('already exists with different content') },
        },
      },
    });
  });

  it('returns the update values and every answer of a cancel', () => {
    const result = validateCommand({
      id: 'cancel-1',
      time: '2022-10-14T08:30:00Z',
      detail: { command: 'cancelOrder', orderId: '6102', reason: 'customer changed their mind' },
    });
    expect(result).toEqual({
      valid: true,
      command: 'cancelOrder',
      orderId: '6102',
      compare: {},
      values: {
        ':created': { S: 'created' },
        ':cancelled': { S: 'cancelled' },
        ':revision': { N: '2' },
        ':cancelledAt': { S: '2022-10-14T08:30:00.000Z' },
        ':cancelMessageId': { S: 'cancel-1' },
        ':reason': { S: 'customer changed their mind' },
      },
      responses: {
        accepted: { orderid: '6102', commandStatus: 'orderCancelled', commandMessageId: 'cancel-1' },
        notFound: {
          orderid: '6102',
          commandStatus: 'orderRejected',
          commandMessageId: 'cancel-1',
          error: { code: 'OrderNotFound', message: expect.stringContaining('does not exist') },
        },
        changed: {
          orderid: '6102',
          commandStatus: 'orderRejected',
          commandMessageId: 'cancel-1',
          error: { code: 'ServiceUnavailable', message: expect.stringContaining('sending the command again is safe') },
        },
      },
    });
    const withoutReason = validateCommand({ id: 'cancel-2', time: '2022-10-14T08:30:00Z', detail: { command: 'cancelOrder', orderId: '6102' } });
    expect(withoutReason).toMatchObject({ valid: true, values: { ':reason': { NULL: true } } });
  });

  it.each([
    [{ command: 'cancelOrder' }, ['detail.orderId is required']],
    [{ command: 'cancelOrder', orderId: 'has space' }, ['detail.orderId must use only the characters']],
    [{ command: 'cancelOrder', orderId: '6102', reason: 7 }, ['detail.reason must be a string, got a number']],
    [{ command: 'cancelOrder', orderId: '6102', reason: '' }, ['detail.reason must not be empty']],
    [{ command: 'cancelOrder', orderId: '6102', reason: 'r'.repeat(257) }, ['detail.reason must be at most 256 characters, got 257']],
    [{ command: 'cancelOrder', orderId: '6102', reason: 'bell\u0007' }, ['detail.reason must not contain control or invisible characters']],
    [{ command: 'cancelOrder', orderId: '', reason: ' padded ' }, ['detail.orderId must not be empty', 'detail.reason must not start or end with white space']],
  ])('refuses a cancel %j naming every bad field', (detail, problems) => {
    const result = validateCommand({ id: 'c-9', time: '2022-10-14T08:30:00Z', detail });
    expect(result.valid).toBe(false);
    const { error } = (result as { response: { error: { code: string; message: string } } }).response;
    expect(error.code).toBe('ValidationError');
    for (const problem of problems) expect(error.message).toContain(problem);
    expect(error.message.split('; ')).toHaveLength(problems.length);
  });

  it('names every supported command when refusing another', () => {
    const result = validateCommand(withDetail({ command: 'shipOrder', orderId: '6102' }));
    expect(result).toMatchObject({
      valid: false,
      response: { error: { code: 'UnsupportedCommand', message: 'command "shipOrder" is not supported; expected one of createOrder, cancelOrder' } },
    });
  });

  it('does not echo an overlong order id', () => {
    const result = validateCommand(withDetail({ command: 'createOrder', orderId: 'x'.repeat(300), items: [] }));
    expect(result).toMatchObject({ valid: false, response: { orderid: null } });
  });
});

describe('refusals at the size limit', () => {
  it('quote at most 64 characters of a value, say its length, and stay small whatever the input', async () => {
    const { validateCommand } = await import('../../../handlers/commands/validate-command');
    const { MAX_REFUSAL_MESSAGE_CHARACTERS } = await import('../../../handlers/domain/errors');
    for (const command of ['x'.repeat(250_000), '😀'.repeat(70_000), 'y'.repeat(65)]) {
      const result = validateCommand({ id: 'c-1', time: '2022-10-13T19:00:00Z', detail: { command, orderId: 'o'.repeat(300_000), items: [] } });
      expect(result.valid).toBe(false);
      const response = (result as { response: { orderid: unknown; error: { code: string; message: string } } }).response;
      expect(response.error.code).toBe('UnsupportedCommand');
      expect(response.orderid).toBeNull();
      expect(response.error.message).toContain(`… (${[...command].length} characters)`);
      expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThan(1_024);
      expect([...response.error.message].length).toBeLessThanOrEqual(MAX_REFUSAL_MESSAGE_CHARACTERS + 64);
    }
  });
});

describe('quantities as written', () => {
  // Decided from the number JSON parsing yields: no hop (EventBridge, Step Functions,
  // Lambda's runtime) passes the written text on, and 0.99999999999999999 is the
  // same IEEE 754 double as 1. A number that parses to a non-integer is refused.
  it.each([
    ['0.99999999999999999', true],
    ['1e0', true],
    ['1.0', true],
    ['1.0000000000000002', false],
    ['0.5', false],
    ['1e-400', false],
    ['1000001', false],
  ])('reads %s as the double it parses to (accepted: %s)', async (written, accepted) => {
    const { validateCommand } = await import('../../../handlers/commands/validate-command');
    const detail = JSON.parse(`{"command": "createOrder", "orderId": "q-1", "items": [{"itemid": "z1", "quantity": ${written}}]}`) as unknown;
    const result = validateCommand({ id: 'c-1', time: '2022-10-13T19:00:00Z', detail });
    expect(result.valid).toBe(accepted);
    if (!accepted)
      expect((result as { response: { error: { message: string } } }).response.error.message).toContain(
        'detail.items[0].quantity must be an integer from 1 to 1000000',
      );
  });
});
