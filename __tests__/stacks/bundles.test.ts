/**
 * Layers that only point down, seen from the bundles: each query function
 * carries its own query's module (its declaration and SQL) and no other's,
 * and the functions that answer no query carry none. (When config imported the query registry, every
 * bundle carried every query: validate-request held the orderDetails join.)
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { QUERIES } from '../../handlers/queries/registry';
import { FunctionName, type FunctionKey } from '../../stacks/catalogue';
import { buildHandlers, bundleDir, bundleZip } from '../../stacks/bundling/build';

const outRoot = mkdtempSync(path.join(tmpdir(), 'bundles-'));
const built = buildHandlers({ outRoot });

function javascriptOf(key: FunctionKey): string {
  const dir = bundleDir(key, outRoot);
  const files = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? files(path.join(folder, entry.name)) : entry.name.endsWith('.mjs') ? [path.join(folder, entry.name)] : [],
    );
  return files(dir)
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
}

describe('the bundles', () => {
  // A query module's declaration carries its summary (a string minification keeps) beside its SQL.
  it.each(Object.keys(FunctionName) as FunctionKey[])(
    "of %s carry only their own query's module",
    async (key) => {
      await built;
      const code = javascriptOf(key);
      for (const query of QUERIES) {
        expect({ function: key, query: query.name, carries: code.includes(query.summary) }).toEqual({
          function: key,
          query: query.name,
          carries: query.name === key,
        });
      }
    },
    60_000,
  );

  it.each(Object.keys(FunctionName) as FunctionKey[])(
    'of %s load no SDK client and no mysql2 while their module loads',
    async (key) => {
      await built;
      // The sources of index.mjs and of every chunk it imports statically (what `import` of the function loads before the handler exists).
      const dir = bundleDir(key, outRoot);
      const loaded = new Set<string>();
      const visit = (file: string) => {
        if (loaded.has(file)) return;
        loaded.add(file);
        const code = readFileSync(path.join(dir, file), 'utf8');
        for (const match of code.matchAll(/(?:\bfrom|\bimport)\s*"\.\/(?:chunks\/)?([^"]+\.mjs)"/g))
          visit(path.join('chunks', path.basename(match[1] as string)));
      };
      visit('index.mjs');
      const sources = [...loaded].flatMap((file) => (JSON.parse(readFileSync(path.join(dir, `${file}.map`), 'utf8')) as { sources: string[] }).sources);
      expect({ function: key, loadsSdkClients: sources.filter((source) => /node_modules\/(@aws-sdk\/client-|@smithy\/)/.test(source)) }).toEqual({
        function: key,
        loadsSdkClients: [],
      });
      expect({ function: key, loadsMysql2: sources.filter((source) => source.includes('node_modules/mysql2/')) }).toEqual({ function: key, loadsMysql2: [] });
    },
    60_000,
  );

  it('are rebuilt only where something they are made from changed, to the same bytes', async () => {
    const reports = await built;
    const keys = Object.keys(FunctionName) as FunctionKey[];
    const zipOf = (key: FunctionKey) => ({ bytes: readFileSync(bundleZip(key, outRoot)), modified: statSync(bundleZip(key, outRoot)).mtimeMs });
    const before = Object.fromEntries(keys.map((key) => [key, zipOf(key)]));

    // Nothing changed: nothing is rebuilt. One zip gone: that function alone is rebuilt.
    const again = await buildHandlers({ outRoot });
    const unchanged = keys.filter((key) => zipOf(key).modified === before[key]?.modified);
    rmSync(bundleZip('orderDetails', outRoot));
    await buildHandlers({ outRoot });
    const rebuilt = keys.filter((key) => zipOf(key).modified !== before[key]?.modified);

    expect(again).toEqual(reports);
    expect(unchanged).toEqual(keys);
    expect(rebuilt).toEqual(['orderDetails']);
    expect(zipOf('orderDetails').bytes.equals(before.orderDetails?.bytes as Buffer)).toBe(true);
  }, 60_000);

  it('refuse, naming the module, a mysql2 path the functions never take (here a pool cluster)', async () => {
    await built;
    const chunks = path.join(bundleDir('itemsSalesReport', outRoot), 'chunks');
    const mysql2 = readdirSync(chunks).find((file) => /^promise-.*\.mjs$/.test(file)) as string;
    const attempt = (call: string) =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const mysql = (await import(${JSON.stringify(pathToFileURL(path.join(chunks, mysql2)).href)})).default; try { ${call}; console.log('no error'); } catch (error) { console.log(error.message); }`,
        ],
        { encoding: 'utf8' },
      ).trim();

    expect(attempt('mysql.createPoolCluster({})')).toMatch(/^mysql2\/lib\/create_pool_cluster\.js is not bundled: the functions send text queries only/);
    // What they do use is there: a pool, and client-side escaping for text queries.
    expect(attempt("mysql.createPool({ host: '127.0.0.1', port: 9 }); console.log(mysql.format('SELECT ?', ['x']))")).toBe("SELECT 'x'\nno error");
  }, 60_000);

  it('keep validate-request free of any SQL and of the query registry', async () => {
    await built;
    const code = javascriptOf('validateRequest');
    expect(code).not.toMatch(/\bSELECT\b|\bINSERT INTO\b/);
    // A query module's declaration (its summary string survives minification) is not there either.
    for (const query of QUERIES) expect({ query: query.name, carried: code.includes(query.summary) }).toEqual({ query: query.name, carried: false });
  }, 60_000);
});
