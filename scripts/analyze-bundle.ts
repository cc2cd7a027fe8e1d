/**
 * Prints a bundle's bytes by package: `npx tsx scripts/analyze-bundle.ts projectOrders`.
 * A development aid for keeping the bundles small; not part of the build.
 */
import { build } from 'esbuild';
import { bundleOptions } from '../stacks/bundling/build';
import type { FunctionKey } from '../stacks/catalogue';
const key = (process.argv[2] ?? 'itemsSalesReport') as FunctionKey;
const r = await build({ ...bundleOptions(key), write: false });
const out = Object.entries(r.metafile!.outputs).find(([k]) => k.endsWith('index.mjs'))![1];
const byPkg: Record<string, number> = {};
for (const [file, info] of Object.entries(out.inputs)) {
  const m = file.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  const k = m ? m[1]! : file.split('/').slice(0, 2).join('/');
  byPkg[k] = (byPkg[k] ?? 0) + info.bytesInOutput;
}
console.log(
  Object.entries(byPkg)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 30)
    .map(([k, v]) => k.padEnd(50) + (v / 1024).toFixed(1))
    .join('\n'),
);
