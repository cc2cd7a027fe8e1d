import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventBus, type BusEntry } from '../../../local/event-bus';
import { Journal } from '../../../local/journal';
import { JSON_PROTOCOL } from '../../../local/protocols/json';
import { DeliveryAbandonedError } from '../../../local/errors';

const entry = (index: number, padding = 0) => ({
  EventBusName: 'bus',
  Source: 'test',
  DetailType: 'thing',
  Detail: JSON.stringify({ index, padding: 'x'.repeat(padding) }),
});

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
    expect(result.Entries.map((item) => ('ErrorCode' in item ? item.ErrorCode : 'ok'))).toEqual([
      'ok',
      'InvalidArgument',
      'InvalidArgument',
      'MalformedDetail',
    ]);
  });
});

/** Two entries whose sizes, as EventBridge counts them, add up to `bytes`: 9 bytes of Source and DetailType each, and a Detail padded with 2-byte characters. */
function entriesOf(bytes: number) {
  const detailOf = (size: number) => {
    const room = size - Buffer.byteLength('{"p":""}');
    return JSON.stringify({ p: 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2) });
  };
  const half = Math.floor(bytes / 2);
  return [half, bytes - half].map((size) => ({ EventBusName: 'bus', Source: 'test', DetailType: 'thing', Detail: detailOf(size - 9) }));
}

describe('PutEvents total entry size (AWS_LIMITS.putEventsEntries)', () => {
  it('accepts entries of 262,144 bytes in all and refuses 262,145 with ValidationException, accepting none of them', () => {
    // Prepare
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000' });

    // Act
    const accepted = bus.putEvents({ Entries: entriesOf(262_144) });
    let refused: unknown;
    try {
      bus.putEvents({ Entries: entriesOf(262_145) });
    } catch (error) {
      refused = error;
    }

    // Assess
    expect(accepted.FailedEntryCount).toBe(0);
    expect(refused).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'Total size of the entries in the request is over the limit. (The entries are 262145 bytes; the limit is 262144.)',
    });
    expect(bus.retained.total).toBe(2);
  });

  it('answers the SDK over HTTP with ValidationException (400)', async () => {
    // Prepare
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const { clientOptions, startTestEndpoint } = await import('../../helpers/endpoint');
    const endpoint = await startTestEndpoint();
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000' });
    endpoint.router.serve(JSON_PROTOCOL, bus.service());
    const client = new EventBridgeClient(clientOptions(endpoint));
    try {
      // Act
      const accepted = await client.send(new PutEventsCommand({ Entries: entriesOf(262_144) }));
      const refused = await client.send(new PutEventsCommand({ Entries: entriesOf(262_145) })).then(
        () => undefined,
        (error: unknown) => error,
      );

      // Assess
      expect(accepted.FailedEntryCount).toBe(0);
      expect(refused).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    } finally {
      client.destroy();
      await endpoint.close();
    }
  }, 30_000);
});

describe('the bus journal (with --data)', () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), 'bus-journal-'));

  it('is compacted while running: it holds what is still owed, not every event ever accepted', async () => {
    // Prepare: a rule whose target succeeds at once, and a small compaction bound.
    const file = path.join(dir(), 'deliveries.jsonl');
    const journal = new Journal<BusEntry>(file);
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', journal, journalCompactBytes: 256 * 1024 });
    bus.addRule({ name: 'all', pattern: { source: ['test'] }, target: async () => undefined });

    // Act: 300 events of 10 KB (3 MB through the journal).
    for (let index = 0; index < 300; index++) bus.putEvents({ Entries: [entry(index, 10_000)] });
    await bus.drain();

    // Assess
    expect(statSync(file).size).toBeLessThan(256 * 1024 + 20_000);
    expect(bus.journal).toMatchObject({ owed: 0, compactions: expect.any(Number) });
    expect(bus.journal?.compactions).toBeGreaterThan(0);
    // A restart on the folder owes nothing.
    const again = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', journal: new Journal<BusEntry>(file) });
    again.addRule({ name: 'all', pattern: { source: ['test'] }, target: async () => undefined });
    expect(again.resumePending()).toBe(0);
  });

  it('keeps what is owed across a compaction: an undelivered event is resumed after a restart', async () => {
    const file = path.join(dir(), 'deliveries.jsonl');
    const bus = new EventBus({
      name: 'bus',
      region: 'us-east-1',
      account: '000000000000',
      journal: new Journal<BusEntry>(file),
      journalCompactBytes: 64 * 1024,
    });
    let hold = true;
    bus.addRule({
      name: 'all',
      pattern: { source: ['test'] },
      target: async (event) => {
        if (hold && (event.detail as { index: number }).index === 0) await new Promise(() => undefined); // never delivered (the process dies)
      },
    });
    for (let index = 0; index < 50; index++) bus.putEvents({ Entries: [entry(index, 5_000)] });
    // Until every event but the held one is delivered (however long a busy machine takes).
    while (bus.journal?.owed !== 1) await new Promise((resolve) => setTimeout(resolve, 10));
    hold = false;

    const again = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', journal: new Journal<BusEntry>(file) });
    const delivered: number[] = [];
    again.addRule({ name: 'all', pattern: { source: ['test'] }, target: async (event) => void delivered.push((event.detail as { index: number }).index) });
    expect(bus.journal?.compactions).toBeGreaterThan(0);
    expect(again.resumePending()).toBe(1);
    await again.drain();
    expect(delivered).toEqual([0]);
  });

  it('keeps a delivery the stop abandoned owed: not retried, not dead-lettered, and delivered after a restart', async () => {
    // Prepare: a rule with retries and a dead-letter queue, whose target the runtime's stop abandons.
    const file = path.join(dir(), 'deliveries.jsonl');
    const bus = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', journal: new Journal<BusEntry>(file), retryDelayMs: () => 1 });
    let attempts = 0;
    const deadLettered: unknown[] = [];
    bus.addRule({
      name: 'all',
      pattern: { source: ['test'] },
      maximumRetryAttempts: 3,
      deadLetter: async (event) => void deadLettered.push(event),
      target: async () => {
        attempts++;
        throw new DeliveryAbandonedError('abandoned by the stop');
      },
    });

    // Act
    bus.putEvents({ Entries: [entry(7)] });
    await bus.drain();

    // Assess
    expect(attempts).toBe(1);
    expect(deadLettered).toEqual([]);
    expect(bus.journal?.owed).toBe(1);
    const again = new EventBus({ name: 'bus', region: 'us-east-1', account: '000000000000', journal: new Journal<BusEntry>(file) });
    const delivered: number[] = [];
    again.addRule({ name: 'all', pattern: { source: ['test'] }, target: async (event) => void delivered.push((event.detail as { index: number }).index) });
    expect(again.resumePending()).toBe(1);
    await again.drain();
    expect(delivered).toEqual([7]);
  });

  it('is read as a stream: lines larger than the read chunk, and a torn last line ignored', () => {
    const file = path.join(dir(), 'j.jsonl');
    const big = 'b'.repeat(3 * 1024 * 1024);
    writeFileSync(file, `${JSON.stringify({ n: 1, big })}\n${JSON.stringify({ n: 2 })}\n{"n": 3, "torn`);
    const entries = [...new Journal<{ n: number; big?: string }>(file).entries()];
    expect(entries.map((item) => item.n)).toEqual([1, 2]);
    expect(entries[0]?.big?.length).toBe(big.length);
  });
});
