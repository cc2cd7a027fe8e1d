import { describe, expect, it } from '@jest/globals';
import { EventBus } from '../../../local/event-bus';

const entry = (index: number, padding = 0) => ({ EventBusName: 'bus', Source: 'test', DetailType: 'thing', Detail: JSON.stringify({ index, padding: 'x'.repeat(padding) }) });

describe('EventBus', () => {
  it('keeps events within its bound, counts what it dropped, and pages what it kept', () => {
    // Prepare
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', retention: { maxEvents: 5, maxBytes: 1024 * 1024 } });

    // Act
    for (let index = 0; index < 8; index++) bus.putEvents({ Entries: [entry(index)] });
    const first = bus.eventsPage(0, 3);
    const rest = bus.eventsPage(first.next, 10);

    // Assess
    expect(bus.retained).toMatchObject({ total: 8, events: 5, dropped: 3 });
    expect((JSON.parse(first.json) as { detail: { index: number } }[]).map((event) => event.detail.index)).toEqual([3, 4, 5]);
    expect((JSON.parse(rest.json) as { detail: { index: number } }[]).map((event) => event.detail.index)).toEqual([6, 7]);
  });

  it('bounds the bytes kept too: 40 events of 250 KB keep at most the byte bound', () => {
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', retention: { maxEvents: 10_000, maxBytes: 2 * 1024 * 1024 } });
    for (let index = 0; index < 40; index++) bus.putEvents({ Entries: [entry(index, 250_000)] });
    expect(bus.retained.bytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(bus.retained.dropped).toBeGreaterThan(30);
  });

  it('fails a bad entry alone: its neighbours are accepted', () => {
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000' });
    const result = bus.putEvents({ Entries: [entry(1), null, { ...entry(2), Time: 10_000_000_000_000 }, { ...entry(3), Detail: '[[[[' }] });
    expect(result.Entries.map((item) => ('ErrorCode' in item ? item.ErrorCode : 'ok'))).toEqual(['ok', 'InvalidArgument', 'InvalidArgument', 'MalformedDetail']);
  });
});
