/**
 * `npm run build`: bundles every Lambda handler (see stacks/bundling/build.ts).
 *
 *   npm run build            all handlers
 *   npm run build -- --naive the same entry points without this project's size trims (bench only)
 */
import path from 'node:path';
import { buildHandlers, DIST } from '../stacks/bundling/build';

const naive = process.argv.includes('--naive');
const started = performance.now();
const reports = await buildHandlers({ naive, ...(naive ? { outRoot: path.join(DIST, 'naive') } : {}) });
for (const report of reports) {
  console.log(
    `${report.function.padEnd(24)} ${(report.bytes / 1000).toFixed(1).padStart(7)} KB minified (entry ${(report.entryBytes / 1000).toFixed(1).padStart(6)} KB), ${(report.zipBytes / 1000).toFixed(1).padStart(6)} KB zipped`,
  );
}
console.log(`built ${reports.length} bundles in ${Math.round(performance.now() - started)} ms`);
