/**
 * `npm run docs:console`: the screenshots of the local console in the docs,
 * taken again. A local runtime on a database of its own (on the `DB_URL`
 * server, dropped afterwards), the three sample events sent from the page's
 * buttons, the order's execution selected; then docs/console.png at 1280×900
 * and docs/console-phone.png at 390×844, scrolled to the execution. The
 * browser is the one the browser test drives (`__tests__/helpers/browser.ts`).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConnection } from 'mysql2/promise';
import { chromium, type Page } from 'playwright-core';
import { BROWSER_ARGS, browserExecutable } from '../__tests__/helpers/browser';
import { dropReadModel } from '../__tests__/helpers/mysql';
import { LocalRuntime } from '../local/runtime';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const server = new URL(process.env.DB_URL ?? 'mysql://root@127.0.0.1:3306');
const database = `console_screenshots_${randomBytes(4).toString('hex')}`;
server.pathname = `/${database}`;

/** Sends a sample from its button and waits for its answer in the timeline. */
async function send(page: Page, sample: string, answer: string): Promise<void> {
  await page.click(`button[data-sample="${sample}"]`);
  await page.locator('li.item .answer', { hasText: answer }).first().waitFor({ timeout: 30_000 });
}

const runtime = await LocalRuntime.start({ port: 0, dbUrl: server.toString(), log: () => undefined });
const browser = await chromium.launch({ executablePath: (await browserExecutable()).path, args: BROWSER_ARGS });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${runtime.endpoint}/_local/`);
  await send(page, 'create-order-6102', 'orderCreated');
  await page.waitForFunction(() => /z3333\s*6/.test(document.querySelector('#items tbody')?.textContent ?? ''), null, { timeout: 30_000 });
  await send(page, 'query-items-sales-report', '200, 2 rows');
  await send(page, 'query-monthly-sales-z3333', '200, 1 rows');
  await page.click('li.item[data-type="orderCommand"]');
  await page.waitForFunction(() => (document.querySelector('#projection')?.textContent ?? '').includes('projected in a batch'), null, { timeout: 30_000 });
  await page.screenshot({ path: path.join(ROOT, 'docs/console.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => {
    const box = document.querySelector('#graph');
    return Number(box?.querySelector('svg')?.getAttribute('width')) === box?.clientWidth;
  });
  await page.evaluate(() => document.querySelector('#execution-panel')?.scrollIntoView());
  await page.screenshot({ path: path.join(ROOT, 'docs/console-phone.png') });
  console.log('wrote docs/console.png and docs/console-phone.png');
} finally {
  await browser.close();
  await runtime.stop();
  const admin = await createConnection({
    host: server.hostname,
    port: Number(server.port || 3306),
    user: decodeURIComponent(server.username || 'root'),
    password: decodeURIComponent(server.password),
  });
  await dropReadModel(admin, database);
  await admin.end();
}
