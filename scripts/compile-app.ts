/**
 * `node --import tsx scripts/compile-app.ts <entry.ts> <outDir>`: compiles a
 * TypeScript entry point for `scripts/compiled.mjs` (see
 * stacks/bundling/compiled-app.ts), which runs it when the compiled module is
 * missing or out of date.
 */
import { compileApp } from '../stacks/bundling/compiled-app';

const [entry, outDir] = process.argv.slice(2);
if (!entry || !outDir) {
  console.error('usage: compile-app.ts <entry.ts> <outDir>');
  process.exit(2);
}
await compileApp(entry, outDir);
