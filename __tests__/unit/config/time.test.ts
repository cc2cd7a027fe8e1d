import { describe, expect, it } from '@jest/globals';
import { eventTimeMillis, normaliseEventTime, orderTimeProblem, parseIsoDateTime } from '../../../config/time';
import { EventBus } from '../../../local/event-bus';

const bus = () => new EventBus({ name: 'b', region: 'us-east-1', account: '000000000000' });
const put = (time: unknown) =>
  bus().putEvents({ Entries: [{ EventBusName: 'b', Source: 's', DetailType: 'd', Detail: '{}', Time: time }] }).Entries[0] as {
    EventId?: string;
    ErrorCode?: string;
    ErrorMessage?: string;
  };

describe('event times', () => {
  it.each([
    'Feb 30 2022',
    '2022/02/30',
    '2022-2-30',
    '30 Feb 2022 10:00 GMT',
    '2022-02-30T10:00:00Z',
    '2021-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2022-13-01T00:00:00Z',
    '2022-10-13T24:00:00Z',
    '2022-10-13T19:60:00Z',
    '2022-10-13T19:00:00+24:00',
    '2022-10-13',
    'Thu, 13 Oct 2022 19:00:00 GMT',
    '10000-01-01T00:00:00Z',
    '+010000-01-01T00:00:00.000Z',
    '',
  ])('refuses %j per entry, never rolling it over', (time) => {
    expect(eventTimeMillis(time)).toBeUndefined();
    expect(put(time)).toMatchObject({ ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('ISO 8601 date-time') });
  });

  it.each([
    ['2022-10-13T19:00:00Z', '2022-10-13T19:00:00Z'],
    ['2022-10-13T21:00:00+02:00', '2022-10-13T19:00:00Z'],
    ['2022-10-13t19:00:00.999999z', '2022-10-13T19:00:00Z'],
    ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00Z'],
    ['0000-02-29T00:00:00Z', '0000-02-29T00:00:00Z'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59Z'],
    [1665687600, '2022-10-13T19:00:00Z'],
    ['1665687600', '2022-10-13T19:00:00Z'],
    [1665687600.5, '2022-10-13T19:00:00Z'],
  ])('accepts %j as %s', (time, expected) => {
    // Prepare
    const onBus = bus();

    // Act
    const result = onBus.putEvents({ Entries: [{ EventBusName: 'b', Source: 's', DetailType: 'd', Detail: '{}', Time: time }] }).Entries[0];

    // Assess
    expect(result).toEqual({ EventId: expect.any(String) });
    expect(onBus.events().map((event) => event.time)).toEqual([expected]);
  });

  it('keeps years 0 to 99 as written (Date.UTC would read them as 1900-1999)', () => {
    expect(new Date(parseIsoDateTime('0099-06-01T00:00:00Z') as number).toISOString()).toBe('0099-06-01T00:00:00.000Z');
    expect(normaliseEventTime('0000-02-29T00:00:00Z')).toBe('0000-02-29T00:00:00.000Z');
  });

  it('refuses epoch seconds beyond year 9999 at the bus, one place for the range', () => {
    expect(put(253_402_300_800)).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(put(253_402_300_799)).toMatchObject({ EventId: expect.any(String) });
  });

  it('lets an order date the read model can hold through, and names time for one it cannot', () => {
    expect(orderTimeProblem('2022-10-13T19:00:00.000Z')).toBeUndefined();
    expect(orderTimeProblem('1000-01-01T00:00:00.000Z')).toBeUndefined();
    expect(orderTimeProblem('0000-02-29T00:00:00.000Z')).toBe("time must be from 1000-01-01 (the read model's dates) to 9999-12-31, got 0000-02-29");
  });
});
