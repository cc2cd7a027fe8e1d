import { describe, expect, it } from '@jest/globals';
import { UnsupportedQueryError } from '../../../handlers/domain/errors';
import { monthYear, parseQuery, queryAnswer, queryRefusal, refuseUnroutedQuery } from '../../../handlers/domain/query';

describe('parseQuery', () => {
  it('accepts both supported queries', () => {
    expect(parseQuery({ query: 'itemsSalesReport' }, 'itemsSalesReport')).toEqual({ query: 'itemsSalesReport' });
    expect(parseQuery({ query: 'monthlySalesByItem', itemid: 'z3333' }, 'monthlySalesByItem')).toEqual({
      query: 'monthlySalesByItem',
      itemId: 'z3333',
    });
  });

  it.each([
    [{ query: 'monthlySalesByItem' }, 'ValidationError', 'detail.itemid is required'],
    [{ query: 'monthlySalesByItem', itemid: '' }, 'ValidationError', 'detail.itemid must not be empty'],
    [{ query: 'monthlySalesByItem', itemid: 'x'.repeat(65) }, 'ValidationError', 'detail.itemid must be at most 64 characters, got 65'],
    [{ query: 'monthlySalesByItem', itemid: 3 }, 'ValidationError', 'detail.itemid must be a string, got a number'],
    [{}, 'ValidationError', 'detail.query is required'],
    [{ query: ['x'] }, 'ValidationError', 'detail.query must be a string, got an array'],
    [{ query: 'itemsSalesReport' }, 'UnsupportedQuery', 'query "itemsSalesReport" is not supported; expected one of monthlySalesByItem'],
  ])('refuses %j as %s', (detail, code, message) => {
    expect(() => parseQuery(detail, 'monthlySalesByItem')).toThrow(expect.objectContaining({ code, message }));
  });
});

describe('monthYear', () => {
  it.each([
    ['2022-10-01', 'October 2022'],
    ['1999-01-01', 'January 1999'],
    ['2024-12-01', 'December 2024'],
  ])('formats %s as %s', (date, expected) => expect(monthYear(date)).toBe(expected));

  it('throws on a date that is not a month', () => expect(() => monthYear('2022-13-01')).toThrow('not a month start date'));
});

describe('query responses', () => {
  it('carries the query message id and item id', () => {
    const answer = queryAnswer({ id: 'q-1' }, { query: 'monthlySalesByItem', itemId: 'z3333' }, [
      { monthyear: 'October 2022', monthlyordered: 6 },
    ]);
    expect(answer).toEqual({
      statusCode: 200,
      body: {
        query: 'monthlySalesByItem',
        queryMessageId: 'q-1',
        queryItemId: 'z3333',
        queryStatus: 200,
        queryResult: [{ monthyear: 'October 2022', monthlyordered: 6 }],
      },
    });
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
    [{ query: 'topItems' }, 'UnsupportedQuery', 'query "topItems" is not supported; expected one of itemsSalesReport, monthlySalesByItem'],
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
