import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '../../../handlers/domain/errors';
import { decodePageToken, encodePageToken } from '../../../handlers/queries/page-token';

const monthly = (after: string) => /^\d{4}-(0[1-9]|1[0-2])-01$/.test(after);
const edit = (token: string, change: (body: Record<string, unknown>) => void) => {
  const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(body);
  return Buffer.from(JSON.stringify(body)).toString('base64url');
};

describe('page tokens', () => {
  const token = encodePageToken('monthlySalesByItem', { itemId: 'monA' }, '1990-05-01');

  it('continue the same query with the same parameters', () => {
    expect(decodePageToken('monthlySalesByItem', { itemId: 'monA' }, token, monthly)).toBe('1990-05-01');
    expect(decodePageToken('monthlySalesByItem', { itemId: 'monA' }, undefined, monthly)).toBeUndefined();
  });

  it.each([
    ['another item', () => decodePageToken('monthlySalesByItem', { itemId: 'monB' }, token, monthly)],
    ['another query', () => decodePageToken('itemsSalesReport', {}, token, () => true)],
    [
      'an edited key',
      () =>
        decodePageToken(
          'monthlySalesByItem',
          { itemId: 'monA' },
          edit(token, (body) => (body.a = '1970-01-01')),
          monthly,
        ),
    ],
    [
      'a forged token with a key that is not a month',
      () => decodePageToken('orderDetails', {}, Buffer.from(JSON.stringify({ q: 'orderDetails', after: 'abc' })).toString('base64url'), monthly),
    ],
    [
      'a digest recomputed for a key of the wrong form',
      () => decodePageToken('monthlySalesByItem', { itemId: 'monA' }, encodePageToken('monthlySalesByItem', { itemId: 'monA' }, "x' OR 1=1"), monthly),
    ],
    ['a number', () => decodePageToken('monthlySalesByItem', { itemId: 'monA' }, 42, monthly)],
    ['text that is not base64url JSON', () => decodePageToken('monthlySalesByItem', { itemId: 'monA' }, 'bm90IGEgdG9rZW4', monthly)],
    ['characters outside base64url', () => decodePageToken('monthlySalesByItem', { itemId: 'monA' }, 'a+b/c==', monthly)],
    ['a token over 1 KB', () => decodePageToken('monthlySalesByItem', { itemId: 'monA' }, 'A'.repeat(1_025), monthly)],
  ])('refuse %s with ValidationError', (_case, act) => {
    expect(act).toThrow(ValidationError);
    expect(act).toThrow('detail.pageToken must be the nextPageToken of a previous');
  });

  it('digest parameters independently of key order', () => {
    const ordered = encodePageToken('q', { a: 1, b: 2 }, 'k');
    expect(decodePageToken('q', { b: 2, a: 1 }, ordered, () => true)).toBe('k');
  });
});
