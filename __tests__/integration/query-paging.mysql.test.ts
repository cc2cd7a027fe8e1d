/**
 * Every query gets an answer that fits the bus: with 3,000 items (the report
 * would be ~380 KB in one piece, over EventBridge's 256 KB), the answer comes
 * in pages under the limit, and following nextPageToken returns every row
 * exactly once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Pool } from 'mysql2/promise';
import { putEntries, waitForResponse, type Target } from '../../clients/pipeline-client';
import { AWS_LIMITS } from '../../local/aws-limits';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

let runtime: RunningLocalRuntime;
let target: Target;
let pool: Pool;
const ITEMS = 3_000;
// The longest item ids the limits allow (64 characters), so the rows are as large as they get.
const itemid = (index: number) => `${String(index).padStart(6, '0')}-${'w'.repeat(57)}`;

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
    target = { kind: 'local', bus: runtime.busName, endpoint: runtime.endpoint };
    pool = readModelPool(runtime);
    await pool.query('INSERT INTO item_totals (item_id, total_ordered, last_order_date) VALUES ?', [
      Array.from({ length: ITEMS }, (_, index) => [itemid(index), index + 1, '2022-10-13']),
    ]);
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await pool?.end();
  await runtime?.stop();
});

async function ask(detail: Record<string, unknown>) {
  const [id] = await putEntries(target, [{ Source: 'orderPipeline', DetailType: 'orderQuery', Detail: detail }]);
  return (await waitForResponse(target, id as string, 20_000)).detail as {
    queryStatus: number;
    queryResult?: { itemid: string; totalordered: number }[];
    nextPageToken?: string;
    error?: { code: string };
  };
}

describe('paged query answers', () => {
  it('returns every row once, in order, in responses that each fit on the bus', async () => {
    // Act
    const pages = [];
    let token: string | undefined;
    do {
      const page = await ask({ query: 'itemsSalesReport', ...(token ? { pageToken: token } : {}) });
      pages.push(page);
      token = page.nextPageToken;
    } while (token && pages.length < 20);

    // Assess
    expect(pages.length).toBeGreaterThan(1);
    for (const page of pages) {
      expect(page.queryStatus).toBe(200);
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(AWS_LIMITS.putEventsEntries.max);
    }
    const rows = pages.flatMap((page) => page.queryResult ?? []);
    expect(rows.map((row) => row.itemid)).toEqual(Array.from({ length: ITEMS }, (_, index) => itemid(index)));
    expect(pages[pages.length - 1]?.nextPageToken).toBeUndefined();
  }, 60_000);

  it('refuses a page token that is not one of its own', async () => {
    const first = await ask({ query: 'itemsSalesReport' });
    expect(await ask({ query: 'itemsSalesReport', pageToken: 'bm90IGEgdG9rZW4' })).toMatchObject({ queryStatus: 400, error: { code: 'ValidationError' } });
    expect(await ask({ query: 'monthlySalesByItem', itemid: 'x', pageToken: first.nextPageToken })).toMatchObject({
      queryStatus: 400,
      error: { code: 'ValidationError' },
    });
  }, 30_000);

  it("binds a token to its parameters: monA's token refused for monB, whose months are not skipped", async () => {
    // Prepare: 1,001 months for monA (more than a page), and 1,001 for monB.
    const months = (item: string) =>
      Array.from({ length: 1_001 }, (_, index) => [item, `${1900 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}-01`, 1]);
    await pool.query('INSERT INTO item_monthly_totals (item_id, month_start, monthly_ordered) VALUES ?', [[...months('monA'), ...months('monB')]]);
    const monA = await ask({ query: 'monthlySalesByItem', itemid: 'monA' });
    expect(monA.nextPageToken).toEqual(expect.any(String));

    // Act
    const crossed = await ask({ query: 'monthlySalesByItem', itemid: 'monB', pageToken: monA.nextPageToken });
    const edited = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(monA.nextPageToken as string, 'base64url').toString('utf8')), a: '1901-01-01' }),
    ).toString('base64url');
    const tampered = await ask({ query: 'monthlySalesByItem', itemid: 'monA', pageToken: edited });
    const followed = await ask({ query: 'monthlySalesByItem', itemid: 'monA', pageToken: monA.nextPageToken });

    // Assess
    expect(crossed).toMatchObject({ queryStatus: 400, error: { code: 'ValidationError', message: expect.stringContaining('same parameters') } });
    expect(crossed.queryResult).toBeUndefined();
    expect(tampered).toMatchObject({ queryStatus: 400, error: { code: 'ValidationError' } });
    expect((monA.queryResult?.length ?? 0) + (followed.queryResult?.length ?? 0)).toBe(1_001);
  }, 60_000);

  it('answers a forged orderDetails token with 400 at once: no SQL, no retry, no 503', async () => {
    const forged = Buffer.from(JSON.stringify({ q: 'orderDetails', after: 'abc' })).toString('base64url');
    const started = Date.now();
    const answer = await ask({ query: 'orderDetails', orderId: 'any-order', pageToken: forged });
    expect(answer).toMatchObject({
      queryStatus: 400,
      error: { code: 'ValidationError', message: 'detail.pageToken is not accepted: orderDetails answers in one page' },
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    const executions = (await (await fetch(`${runtime.endpoint}/_local/executions`)).json()) as { input: string; status: string }[];
    expect(executions.filter((execution) => execution.input.includes(forged)).map((execution) => execution.status)).toEqual(['SUCCEEDED']);
  }, 30_000);
});
