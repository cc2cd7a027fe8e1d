import { describe, expect, it } from '@jest/globals';
import { UnsupportedQueryError } from '../../../handlers/domain/errors';
import { queryRefusal } from '../../../handlers/queries/envelope';
import { monthStartOf, monthYear } from '../../../handlers/queries/monthly-sales-by-item';
import { SUPPORTED_QUERIES } from '../../../handlers/queries/registry';

// validate-request reads the supported queries from its environment at load (the stacks set it).
process.env.SUPPORTED_QUERIES ??= SUPPORTED_QUERIES.join(',');
const { refuseUnroutedQuery: refuse } = await import('../../../handlers/validate-request');
const refuseUnroutedQuery = (envelope: Parameters<typeof refuse>[0]) => refuse(envelope, SUPPORTED_QUERIES);

describe('monthYear', () => {
  it.each([
    ['2022-10-01', 'October 2022'],
    ['1999-01-01', 'January 1999'],
    ['2024-12-01', 'December 2024'],
  ])('formats %s as %s', (date, expected) => expect(monthYear(date)).toBe(expected));

  it('throws on a date that is not a month', () => expect(() => monthYear('2022-13-01')).toThrow('not a month start date'));

  it('is undone by monthStartOf', () => {
    expect(monthStartOf('October 2022')).toBe('2022-10-01');
    expect(monthStartOf(monthYear('1999-01-01'))).toBe('1999-01-01');
    expect(() => monthStartOf('Smarch 2022')).toThrow('not a month and year');
  });
});

describe('query responses', () => {
  it('answers a refusal with its status and echoes what it is given', () => {
    const refusal = queryRefusal({ id: 'q-3', detail: { query: 'monthlySalesByItem', itemid: '' } }, new UnsupportedQueryError('x', ['a']), {
      queryItemId: '',
    });
    expect(refusal.body).toMatchObject({ query: 'monthlySalesByItem', queryMessageId: 'q-3', queryItemId: '', queryStatus: 400 });
  });

  it('answers a refusal with queryStatus 400 and the error', () => {
    const refusal = queryRefusal({ id: 'q-2', detail: { query: 'topItems' } }, new UnsupportedQueryError('topItems', ['a']));
    expect(refusal).toEqual({
      statusCode: 400,
      body: {
        query: 'topItems',
        queryMessageId: 'q-2',
        queryStatus: 400,
        error: { code: 'UnsupportedQuery', message: 'query "topItems" is not supported; expected one of a' },
      },
    });
  });
});

describe('refuseUnroutedQuery', () => {
  it.each([
    [{}, 'ValidationError', 'detail.query is required'],
    [{ query: 42 }, 'ValidationError', 'detail.query must be a string, got a number'],
    [{ query: 'topItems' }, 'UnsupportedQuery', 'query "topItems" is not supported; expected one of itemsSalesReport, monthlySalesByItem, orderDetails'],
  ])('refuses %j with %s', (detail, code, message) => {
    expect(refuseUnroutedQuery({ id: 'q', detail })).toMatchObject({ statusCode: 400, body: { queryStatus: 400, error: { code, message } } });
  });

  it('shortens a very long unknown query name in the message', () => {
    const refusal = refuseUnroutedQuery({ id: 'q', detail: { query: 'q'.repeat(100_000) } });
    expect(refusal.body.error?.message.length).toBeLessThan(200);
    expect(refusal.body.query).toBeNull();
  });

  it('treats a routable query arriving here as a bug', () => {
    expect(() => refuseUnroutedQuery({ id: 'q', detail: { query: 'itemsSalesReport' } })).toThrow('should have been routed');
  });
});
