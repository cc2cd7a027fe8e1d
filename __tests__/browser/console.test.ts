/// <reference lib="dom" />
/**
 * The local console in a real browser (a system Chromium, or the one
 * `@sparticuz/chromium` ships in its npm package; driven by playwright-core)
 * against a running local runtime: the sample order goes through PutEvents
 * from the page; the timeline shows the command, its answer and the projected
 * batch with its own SQL statements (the documented number, while another
 * client hammers the server); the reports show the sample's totals; the
 * execution graph fits its box at desktop and phone widths; an item id that
 * is HTML stays text; a client identity's refusal shows as designed and a
 * pipeline role's as a missing grant; no JavaScript error, no dialog.
 * Screenshots at both widths go to test-results/ (`npm run docs:console`
 * takes the ones in docs/).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mkdirSync, readFileSync } from 'node:fs';
import { createPool } from 'mysql2/promise';
import { localClientOptions } from '../../clients/local-client';
import { orderToItem } from '../../handlers/domain/order';
import { buildOrder } from '../helpers/factories';
import { adminSettings } from '../helpers/mysql';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BROWSER_ARGS, browserExecutable } from '../helpers/browser';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

let runtime: RunningLocalRuntime;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(
  async () => {
    // The last test is refused on purpose as the client identities: it checks those are the only denials.
    runtime = await startLocalRuntime({ allowDenials: true });
    browser = await chromium.launch({ executablePath: (await browserExecutable()).path, args: BROWSER_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(`${runtime.endpoint}/_local/`);
  },
  budget({ runtimeStarts: 1, seconds: 10 }),
);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

/**
 * The SQL statements a projected batch takes, as docs/local-runtime.md gives
 * them ("The console"): for a batch of new orders, and for a batch of one order.
 */
const DOCUMENTED = (() => {
  const docs = readFileSync('docs/local-runtime.md', 'utf8');
  const found =
    /\*\*(\d+)\s+statements\s+in\s+1\s+transaction\*\*\s+for\s+a\s+batch\s+of\s+new\s+orders,\s+\*\*(\d+)\*\*\s+for\s+a\s+batch\s+of\s+one\s+order/.exec(docs);
  if (!found) throw new Error('docs/local-runtime.md no longer gives the statements of a batch in the words this test reads');
  return { newOrders: Number(found[1]), oneOrder: Number(found[2]) };
})();

/** Where the execution graph's parts are, relative to its box and to each other (CSS pixels, as drawn). */
async function graphGeometry(target: Page) {
  return target.evaluate(() => {
    const within = (inner: DOMRect, outer: DOMRect) =>
      inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
    const box = document.querySelector('#graph') as HTMLElement;
    const svg = box.querySelector('svg') as SVGSVGElement;
    const boxRect = box.getBoundingClientRect();
    const nodes = Array.from(svg.querySelectorAll('g[data-state]')).map((group) => {
      const rect = (group.querySelector('rect') as SVGRectElement).getBoundingClientRect();
      const text = group.querySelector('text') as SVGTextElement;
      return {
        state: group.getAttribute('data-state') as string,
        // What the node shows, all lines together: the whole name, no ellipsis.
        label: Array.from(text.querySelectorAll('tspan'))
          .map((line) => line.textContent)
          .join(''),
        labelInside: within(text.getBoundingClientRect(), rect),
        insideBox: within(rect, boxRect),
        visited: group.classList.contains('visited'),
        active: group.classList.contains('active'),
      };
    });
    return { box: { svgInside: within(svg.getBoundingClientRect(), boxRect), scrollsSideways: box.scrollWidth > box.clientWidth }, nodes };
  });
}

describe('the local console', () => {
  it('sends the sample order from its button and shows the command, its answer, the projected batch and the totals', async () => {
    // Act
    await page.click('button[data-sample="create-order-6102"]');

    // Assess: the header names the runtime's read model.
    expect(await page.textContent('#summary')).toMatch(new RegExp(`read model mysql://\\S+/${runtime.database}( |$)`));

    // Assess: the command and its answer, linked.
    const command = page.locator('li.item[data-type="orderCommand"]', { hasText: 'createOrder 6102' });
    await command.locator('.answer', { hasText: 'orderCreated' }).waitFor({ timeout: 15_000 });
    // The reports, refreshed as the batch lands.
    await page.waitForFunction(() => /z3333\s*6\s*2022-10-13/.test(document.querySelector('#items tbody')?.textContent ?? ''), null, { timeout: 15_000 });
    expect(await page.textContent('#items tbody')).toMatch(/z4444\s*3\s*2022-10-13/);
    expect(await page.textContent('#months tbody')).toMatch(/z3333\s*October 2022\s*6/);
    expect(await page.textContent('#orders tbody')).toMatch(/6102\s*z3333\s*6\s*2022-10-13/);
    // The execution, drawn from the definition with its path, and the batch that projected it.
    await command.click();
    await page.locator('#graph svg g.visited[data-state="CreateOrder"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => (document.querySelector('#projection')?.textContent ?? '').includes('projected in a batch'), null, { timeout: 15_000 });
    expect(await page.textContent('#projection')).toMatch(/projected in a batch of 1 record at \S+, in \d+ ms/);
    // The runtime's first batch: its connection is new, and what it sent to set itself up is shown apart.
    expect(await page.textContent('#projection [data-sql]')).toMatch(
      new RegExp(`^${DOCUMENTED.oneOrder} SQL statements in 1 transaction, and \\d+ more to set up the connection it opened$`),
    );
    await page.click('#graph svg g[data-state="CreateOrder"]');
    expect(await page.textContent('#state-io')).toContain('"state": "CreateOrder"');

    // Queries sent now read the projected totals.
    await page.click('button[data-sample="query-monthly-sales-z3333"]');
    await page.locator('li.item[data-type="orderQuery"] .answer', { hasText: '200, 1 rows' }).waitFor({ timeout: 15_000 });

    // A change: the cancel in the timeline with its answer, its path through the workflow, the batch that projected it, and the totals gone.
    await page.click('button[data-sample="cancel-order-6102"]');
    const cancel = page.locator('li.item[data-type="orderCommand"]', { hasText: 'cancelOrder 6102' });
    await cancel.locator('.answer', { hasText: 'orderCancelled' }).waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => !/z3333/.test(document.querySelector('#items tbody')?.textContent ?? ''), null, { timeout: 15_000 });
    await cancel.click();
    await page.locator('#graph svg g.visited[data-state="CancelOrder"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => (document.querySelector('#projection')?.textContent ?? '').includes('projected in a batch'), null, { timeout: 15_000 });
    // A one-order cancel: the transaction, the insert that finds it, its read-back, the status change, three subtractions, three deletions, the last dates.
    expect(await page.textContent('#projection [data-sql]')).toMatch(/^12 SQL statements in 1 transaction/);
  }, 90_000);

  it("counts a batch's own SQL statements, the documented number, while another client hammers the same server", async () => {
    // Prepare: another client of the same MariaDB server, sending statements all along.
    const hammer = createPool({ ...adminSettings(), connectionLimit: 2 });
    let hammering = true;
    let sent = 0;
    const loops = [0, 1].map(async () => {
      while (hammering) {
        await hammer.query('SELECT 1');
        sent++;
      }
    });
    const dynamo = new DynamoDBClient(localClientOptions(runtime.endpoint));
    try {
      while (sent < 200) await new Promise((resolve) => setTimeout(resolve, 10));
      const batches = async () =>
        (await (await fetch(`${runtime.endpoint}/_local/batches`)).json()) as {
          size: number;
          ok: boolean;
          sql?: { statements: number; inTransaction: number; transactions: number; connections: number };
        }[];
      const earlier = (await batches()).length;
      const before = sent;

      // Act: one order from the page's form, then two orders written to the table at once (one stream batch).
      await page.fill('input[name="orderId"]', 'busy-1');
      await page.fill('input[name="itemid"]', 'busy');
      await page.fill('input[name="quantity"]', '1');
      await page.click('#order-form button[type="submit"]');
      const command = page.locator('li.item[data-type="orderCommand"]', { hasText: 'createOrder busy-1' });
      await command.locator('.answer', { hasText: 'orderCreated' }).waitFor({ timeout: 15_000 });
      const previous = await page.textContent('#projection');
      await command.click();
      // Its own batch, not the one the previous selection showed.
      await page.waitForFunction(
        (shownBefore) => {
          const text = document.querySelector('#projection')?.textContent ?? '';
          return text.includes('projected in a batch') && text !== shownBefore;
        },
        previous,
        { timeout: 15_000 },
      );
      const shown = await page.textContent('#projection [data-sql]');
      await dynamo.send(
        new BatchWriteItemCommand({
          RequestItems: {
            'order-pipeline-local-orders': ['busy-2', 'busy-3'].map((orderId) => ({
              PutRequest: { Item: orderToItem(buildOrder({ orderId, items: [{ itemid: 'busy', quantity: 1 }] })) },
            })),
          },
        }),
      );
      let two: Awaited<ReturnType<typeof batches>>[number] | undefined;
      for (const deadline = Date.now() + 15_000; !two && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100)))
        two = (await batches()).slice(earlier).find((batch) => batch.size === 2 && batch.ok);

      // Assess: the one-order batch, as shown and as /_local/batches gives it.
      expect(shown).toMatch(new RegExp(`^${DOCUMENTED.oneOrder} SQL statements in 1 transaction\\b`));
      const one = (await batches()).slice(earlier).find((batch) => batch.size === 1 && batch.ok);
      expect(one?.sql).toMatchObject({ inTransaction: DOCUMENTED.oneOrder, transactions: 1 });
      const outside = (one?.sql?.statements ?? 0) - DOCUMENTED.oneOrder;
      // Nothing outside the transaction, unless the batch had to open a connection (shown apart).
      if (one?.sql?.connections === 0) expect(outside).toBe(0);
      expect(shown).toBe(
        `${DOCUMENTED.oneOrder} SQL statements in 1 transaction${outside > 0 ? `, and ${outside} more to set up the connection it opened` : ''}`,
      );
      // A batch of new orders: the number the README gives.
      expect(two?.sql).toMatchObject({ inTransaction: DOCUMENTED.newOrders, transactions: 1 });
      // The other client did send statements while the batches ran.
      expect(sent - before).toBeGreaterThan(50);
    } finally {
      hammering = false;
      await Promise.all(loops);
      await hammer.end();
      dynamo.destroy();
    }
  }, 60_000);

  it('shows an item id that is HTML as text: nothing runs, no dialog opens', async () => {
    // Act
    const itemid = '<img src=x onerror=alert(1)>';
    await page.fill('input[name="orderId"]', 'xss-1');
    await page.fill('input[name="itemid"]', itemid);
    await page.fill('input[name="quantity"]', '2');
    await page.click('#order-form button[type="submit"]');

    // Assess
    await page.waitForFunction((text) => (document.querySelector('#items tbody')?.textContent ?? '').includes(text), itemid, { timeout: 15_000 });
    expect(await page.locator('#items tbody td', { hasText: itemid }).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(problems.filter((problem) => problem.startsWith('dialog'))).toEqual([]);
  }, 60_000);

  it('draws the execution inside its box at desktop and phone widths, the active state in view and every label whole', async () => {
    // Prepare: the sample order's execution, selected.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.locator('li.item[data-type="orderCommand"]', { hasText: 'createOrder 6102' }).click();
    await page.locator('#graph svg g.visited[data-state="PublishCommandResponse"]').waitFor({ timeout: 15_000 });

    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      // Act
      await page.setViewportSize(viewport);
      // Time to draw again at the new width (a drawing that does not fit is caught below, not here).
      await page
        .waitForFunction(
          () => {
            const box = document.querySelector('#graph');
            return (box?.querySelector('svg')?.getBoundingClientRect().width ?? Infinity) <= (box?.clientWidth ?? 0);
          },
          null,
          { timeout: 3_000 },
        )
        .catch(() => undefined);
      const graph = await graphGeometry(page);

      // Assess
      expect({ viewport: viewport.width, ...graph.box }).toEqual({ viewport: viewport.width, svgInside: true, scrollsSideways: false });
      expect(graph.nodes.length).toBeGreaterThan(10);
      expect(graph.nodes.filter((node) => !node.insideBox).map((node) => node.state)).toEqual([]);
      expect(graph.nodes.filter((node) => node.label !== node.state || !node.labelInside).map((node) => `${node.state}: "${node.label}"`)).toEqual([]);
      expect(graph.nodes.filter((node) => node.visited).map((node) => node.state)).toEqual(
        expect.arrayContaining(['CheckEnvelope', 'CreateOrder', 'CreateOrderAccepted', 'PublishCommandResponse']),
      );
      // The state the execution ended in is marked as such.
      expect(graph.nodes.filter((node) => node.active).map((node) => node.state)).toEqual(['PublishCommandResponse']);
      // The active state can be scrolled to: in the page's width, and shown when scrolled to.
      // The graph is drawn again when the width changes, so the element is looked up afresh on each try.
      await page.waitForFunction(
        () => {
          const active = document.querySelector<SVGRectElement>('#graph svg g.active rect');
          if (!active) return false;
          active.scrollIntoView({ block: 'center', inline: 'nearest' });
          const rect = active.getBoundingClientRect();
          return rect.left >= 0 && rect.right <= window.innerWidth && rect.top >= 0 && rect.bottom <= window.innerHeight;
        },
        null,
        { timeout: 10_000 },
      );
    }
  }, 30_000);

  it('works at desktop and phone widths with no JavaScript error, and leaves screenshots', async () => {
    mkdirSync('test-results', { recursive: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: 'test-results/console-desktop.png' });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: 'test-results/console-phone.png' });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(problems).toEqual([]);
  }, 30_000);
  it('shows a client identity refused what its policy leaves out as refused as designed, naming the identity and the action', async () => {
    // Act: the producer puts a response (it may put commands and queries only), the consumer a command (it may only read answers).
    const signedAs = (accessKeyId: string) =>
      new EventBridgeClient({ ...localClientOptions(runtime.endpoint), credentials: { accessKeyId, secretAccessKey: 'x' } });
    const put = async (accessKeyId: string, DetailType: string, detail: unknown) => {
      const client = signedAs(accessKeyId);
      try {
        await client.send(
          new PutEventsCommand({ Entries: [{ EventBusName: runtime.busName, Source: 'orderPipeline', DetailType, Detail: JSON.stringify(detail) }] }),
        );
        return 'accepted';
      } catch (error) {
        return (error as Error).name;
      } finally {
        client.destroy();
      }
    };
    expect(await put('producer', 'orderCommandResponse', { orderid: '6102', commandStatus: 'orderCreated' })).toBe('AccessDeniedException');
    expect(await put('consumer', 'orderCommand', { command: 'createOrder', orderId: 'c-1', items: [{ itemid: 'z3333', quantity: 1 }] })).toBe(
      'AccessDeniedException',
    );

    // Assess
    await page.setViewportSize({ width: 1280, height: 800 });
    // The panel refreshes on its own: it may show the first denial before the second.
    const designed = page.locator('#trouble h3[data-denials="designed"]');
    await designed.waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => document.querySelector('#trouble h3[data-denials="designed"]')?.textContent !== 'Refused as designed: 1', undefined, {
      timeout: 15_000,
    });
    expect(await designed.textContent()).toBe('Refused as designed: 2');
    expect(await page.textContent('#trouble p[data-principal="producer"]')).toMatch(
      /^producer \(order-pipeline-local-producer\) may not events:PutEvents \(orderCommandResponse\) on arn:aws:events:\S+:event-bus\/order-pipeline-local-bus$/,
    );
    expect(await page.textContent('#trouble p[data-principal="consumer"]')).toMatch(
      /^consumer \(order-pipeline-local-consumer\) may not events:PutEvents \(orderCommand\) on arn:aws:events:/,
    );
    const trouble = await page.textContent('#trouble');
    expect(trouble).toContain('nothing to fix');
    expect(trouble).not.toMatch(/Missing grants|A statement the stacks lack/);
    // Those two are the run's only denials: nothing of the pipeline was refused.
    const denials = (await (await fetch(`${runtime.endpoint}/_local/denials`)).json()) as { principal: string }[];
    expect([...new Set(denials.map((denial) => denial.principal.split('/').pop()))].sort()).toEqual([
      'order-pipeline-local-consumer',
      'order-pipeline-local-producer',
    ]);
    expect(problems).toEqual([]);
  }, 30_000);

  it(
    'shows a role of the pipeline refused as a missing grant, naming the role and what acts as it',
    async () => {
      // Prepare: a runtime whose stacks lack the rule target's grant to start the workflow.
      const lacking = await startLocalRuntime({
        entry: '__tests__/fixtures/runtime-without-statement.ts',
        args: ['--without', 'StartWorkflow'],
        allowDenials: true,
      });
      const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      other.on('pageerror', (error) => errors.push(error.message));
      try {
        await other.goto(`${lacking.endpoint}/_local/`);

        // Act
        await other.click('button[data-sample="create-order-6102"]');

        // Assess
        const missing = other.locator('#trouble h3[data-denials="missing"]');
        await missing.waitFor({ timeout: 30_000 });
        expect(await missing.textContent()).toMatch(/^Missing grants: \d+$/);
        const trouble = (await other.textContent('#trouble')) ?? '';
        expect(trouble).toMatch(
          /role order-pipeline-local-\S+ \(cloudwatch event target [^)]+\) may not states:StartExecution on arn:aws:states:\S+:stateMachine:order-pipeline-local-workflow: /,
        );
        expect(trouble).toContain('A statement the stacks lack');
        expect(trouble).not.toContain('Refused as designed');
        expect(errors).toEqual([]);
      } finally {
        await other.close();
        await lacking.stop();
      }
    },
    budget({ runtimeStarts: 1, seconds: 20 }),
  );
});
