/// <reference lib="dom" />
/**
 * The local console in a real browser (a system Chromium, or the one
 * `@sparticuz/chromium` ships in its npm package; driven by playwright-core) against a running local runtime: the sample order goes
 * through PutEvents from the page; the timeline shows the command, its answer
 * and the projected batch; the reports show the sample's totals; an item id
 * that is HTML stays text; no JavaScript error, no dialog. Screenshots at
 * desktop and phone widths go to test-results/ (docs/console.png is one of them).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { BROWSER_ARGS, browserExecutable } from '../helpers/browser';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

let runtime: RunningLocalRuntime;
let browser: Browser;
let page: Page;
const problems: string[] = [];

beforeAll(async () => {
  runtime = await startLocalRuntime();
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
}, budget({ runtimeStarts: 1, seconds: 10 }));

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
});

/** Where the execution graph's parts are, relative to its box and to each other (CSS pixels, as drawn). */
async function graphGeometry(target: Page) {
  return target.evaluate(() => {
    const within = (inner: DOMRect, outer: DOMRect) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5 && inner.top >= outer.top - 0.5 && inner.bottom <= outer.bottom + 0.5;
    const box = document.querySelector('#graph') as HTMLElement;
    const svg = box.querySelector('svg') as SVGSVGElement;
    const boxRect = box.getBoundingClientRect();
    const nodes = Array.from(svg.querySelectorAll('g[data-state]')).map((group) => {
      const rect = (group.querySelector('rect') as SVGRectElement).getBoundingClientRect();
      const text = group.querySelector('text') as SVGTextElement;
      return {
        state: group.getAttribute('data-state') as string,
        // What the node shows, all lines together: the whole name, no ellipsis.
        label: Array.from(text.querySelectorAll('tspan')).map((line) => line.textContent).join(''),
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
    await page.locator('#graph svg g.visited[data-state="PutOrder"]').waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => (document.querySelector('#projection')?.textContent ?? '').includes('projected in a batch'), null, { timeout: 15_000 });
    expect(await page.textContent('#projection')).toMatch(/projected in a batch of \d+ records?.*\d+ ms, \d+ SQL statements/);
    await page.click('#graph svg g[data-state="PutOrder"]');
    expect(await page.textContent('#state-io')).toContain('"state": "PutOrder"');

    // Queries sent now read the projected totals.
    await page.click('button[data-sample="query-monthly-sales-z3333"]');
    await page.locator('li.item[data-type="orderQuery"] .answer', { hasText: '200, 1 rows' }).waitFor({ timeout: 15_000 });
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

    for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
      // Act
      await page.setViewportSize(viewport);
      // Time to draw again at the new width (a drawing that does not fit is caught below, not here).
      await page
        .waitForFunction(() => {
          const box = document.querySelector('#graph');
          return (box?.querySelector('svg')?.getBoundingClientRect().width ?? Infinity) <= (box?.clientWidth ?? 0);
        }, null, { timeout: 3_000 })
        .catch(() => undefined);
      const graph = await graphGeometry(page);

      // Assess
      expect({ viewport: viewport.width, ...graph.box }).toEqual({ viewport: viewport.width, svgInside: true, scrollsSideways: false });
      expect(graph.nodes.length).toBeGreaterThan(10);
      expect(graph.nodes.filter((node) => !node.insideBox).map((node) => node.state)).toEqual([]);
      expect(graph.nodes.filter((node) => node.label !== node.state || !node.labelInside).map((node) => `${node.state}: "${node.label}"`)).toEqual([]);
      expect(graph.nodes.filter((node) => node.visited).map((node) => node.state)).toEqual(expect.arrayContaining(['CheckEnvelope', 'PutOrder', 'OrderCreated', 'PublishCommandResponse']));
      // The state the execution ended in is marked as such.
      expect(graph.nodes.filter((node) => node.active).map((node) => node.state)).toEqual(['PublishCommandResponse']);
      // The active state can be scrolled to: in the page's width, and shown when scrolled to.
      await page.locator('#graph svg g.active').scrollIntoViewIfNeeded();
      expect(await page.evaluate(() => {
        const rect = (document.querySelector('#graph svg g.active rect') as SVGRectElement).getBoundingClientRect();
        return rect.left >= 0 && rect.right <= window.innerWidth && rect.top >= 0 && rect.bottom <= window.innerHeight;
      })).toBe(true);
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
});
