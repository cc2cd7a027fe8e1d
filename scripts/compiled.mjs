/**
 * `node scripts/compiled.mjs <entry.ts> [args]`: runs a TypeScript entry point
 * of the tools compiled into one ES module (stacks/bundling/compiled-app.ts),
 * instead of through the TypeScript loader. `npm run synth` and the cdktf
 * app command use it (through `scripts/node.sh --compiled`).
 *
 * Plain JavaScript on purpose: it runs before any TypeScript loader, and not
 * loading one is the point. The compiled module is kept in dist/.compiled/ and
 * used while every file it
 * was made from (the sources it bundles, the compiler, tsconfig.json,
 * package-lock.json) has the content it had; otherwise it is compiled again
 * first, by stacks/bundling/compiled-app.ts (itself compiled by esbuild's
 * transform: it imports nothing but Node and esbuild).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entryArgument, ...args] = process.argv.slice(2);
if (!entryArgument) {
  console.error('usage: node scripts/compiled.mjs <entry.ts> [args]');
  process.exit(2);
}
const entry = path.relative(root, path.resolve(entryArgument));
// Kept in dist/ beside the bundles (a full handler build leaves dist/.compiled/ alone): rm -rf dist starts clean.
const outDir = path.join(root, 'dist', '.compiled', entry.replace(/\.ts$/, '').replaceAll(path.sep, '__'));

/** Whether the compiled module was made from the files as they are now. */
function current() {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(path.join(outDir, 'inputs.json'), 'utf8'));
  } catch {
    return false;
  }
  if (inputs.entry !== entry) return false;
  for (const [file, sha256] of Object.entries(inputs.files)) {
    let content;
    try {
      content = readFileSync(path.join(root, file));
    } catch {
      return false;
    }
    if (createHash('sha256').update(content).digest('hex') !== sha256) return false;
  }
  return true;
}

if (!current()) {
  // The compiler (TypeScript, Node and esbuild only) through esbuild's transform: no loader, no second process.
  const { transform } = await import('esbuild');
  const compilerSource = path.join(root, 'stacks', 'bundling', 'compiled-app.ts');
  const { code } = await transform(readFileSync(compilerSource, 'utf8'), { loader: 'ts', format: 'esm', sourcefile: compilerSource });
  const compiler = path.join(path.dirname(outDir), `compiler.${process.pid}.mjs`);
  mkdirSync(path.dirname(compiler), { recursive: true });
  writeFileSync(compiler, code);
  try {
    const { compileApp } = await import(pathToFileURL(compiler).href);
    await compileApp(root, entry, outDir);
  } finally {
    rmSync(compiler, { force: true });
  }
}

// Stack traces name the TypeScript sources; the packages' own maps are not read (nothing here needs them).
// (module.setSourceMapsSupport: Node 22.14 and later.)
if (typeof nodeModule.setSourceMapsSupport === 'function') nodeModule.setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
else process.setSourceMapsEnabled(true);
process.argv = [process.argv[0], path.join(root, entry), ...args];
await import(pathToFileURL(path.join(outDir, 'app.mjs')).href);
