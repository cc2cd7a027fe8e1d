/**
 * A burst past the functions' reserved concurrency, on the local runtime
 * with the retry policies the stacks define (no test override): every
 * command is answered orderCreated and every order reaches the read model,
 * every query is answered 200. Throttles happen (the runtime counts them, as
 * Lambda's Throttles metric does) and the workflow waits them out instead of
 * answering "ServiceUnavailable".
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from 'mysql2/promise';
import { localEvents, localIdle, putEntries, type EntryInput, type PipelineEvent, type Target } from '../../clients/pipeline-client';
import { DetailType, EVENT_SOURCE } from '../../config/pipeline';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

/** Commands sent at once: 60 PutEvents of 10 entries, all in flight together. */
const COMMANDS = 600;
/** Queries sent at once, ten times the query functions' reservation. */
const QUERIES = 30;

let runtime: RunningLocalRuntime;
let target: Target;
let pool: Pool;

beforeAll(
  async () => {
    runtime = await startLocalRuntime({ retryDelayMs: null });
    target = { kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint };
    pool = readModelPool(runtime);
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await pool?.end();
  await runtime?.stop();
});

/** Sends `entries` ten to a PutEvents call, every call at once; returns the event ids in order. */
async function sendAtOnce(entries: readonly EntryInput[]): Promise<string[]> {
  const batches = Array.from({ length: Math.ceil(entries.length / 10) }, (_, index) => entries.slice(index * 10, index * 10 + 10));
  return (await Promise.all(batches.map((batch) => putEntries(target, batch)))).flat();
}

/** The answers on the bus to the events `ids`, by id. */
async function answersTo(ids: readonly string[], detailType: string, idField: string): Promise<Map<string, PipelineEvent['detail']>> {
  const wanted = new Set(ids);
  const answers = new Map<string, PipelineEvent['detail']>();
  for (const event of await localEvents(runtime.endpoint)) {
    const id = event.detail[idField];
    if (event['detail-type'] === detailType && typeof id === 'string' && wanted.has(id)) answers.set(id, event.detail);
  }
  return answers;
}

async function throttles(): Promise<Record<string, number>> {
  const status = (await (await fetch(`${runtime.endpoint}/_local/status`)).json()) as { functionThrottles: Record<string, number> };
  return status.functionThrottles;
}

describe('a burst past the reserved concurrency', () => {
  it(
    `answers all ${COMMANDS} commands sent at once with orderCreated and projects every order exactly once`,
    async () => {
      // Act
      const ids = await sendAtOnce(
        Array.from({ length: COMMANDS }, (_, index) => ({
          Source: EVENT_SOURCE,
          DetailType: DetailType.command,
          Detail: { command: 'createOrder', orderId: `burst-${index}`, items: [{ itemid: 'burst-item', quantity: 1 }] },
        })),
      );
      await localIdle(runtime.endpoint);

      // Assess: the burst was throttled, and no command was refused for it.
      expect(Object.entries(await throttles()).find(([name]) => name.endsWith('-validate-request'))?.[1]).toBeGreaterThan(0);
      const answers = await answersTo(ids, DetailType.commandResponse, 'commandMessageId');
      const refused = [...answers.values()].filter((answer) => answer.commandStatus !== 'orderCreated');
      expect(refused).toEqual([]);
      expect(answers.size).toBe(COMMANDS);
      const [orders] = await pool.query("SELECT COUNT(*) AS n FROM orders WHERE order_id LIKE 'burst-%'");
      const [totals] = await pool.query("SELECT total_ordered FROM item_totals WHERE item_id = 'burst-item'");
      expect(Number((orders as { n: number }[])[0]?.n)).toBe(COMMANDS);
      expect(Number((totals as { total_ordered: number }[])[0]?.total_ordered)).toBe(COMMANDS);
    },
    budget({ runtimeStarts: 1, seconds: 30 }),
  );

  it(
    `answers all ${QUERIES} queries sent at once with 200, ten times the query function's reservation`,
    async () => {
      // Act
      const ids = await sendAtOnce(
        Array.from({ length: QUERIES }, () => ({ Source: EVENT_SOURCE, DetailType: DetailType.query, Detail: { query: 'itemsSalesReport' } })),
      );
      await localIdle(runtime.endpoint);

      // Assess
      expect(Object.entries(await throttles()).find(([name]) => name.endsWith('-items-sales-report'))?.[1]).toBeGreaterThan(0);
      const answers = await answersTo(ids, DetailType.queryResponse, 'queryMessageId');
      expect([...answers.values()].filter((answer) => answer.queryStatus !== 200)).toEqual([]);
      expect(answers.size).toBe(QUERIES);
    },
    budget({ seconds: 30 }),
  );
});
