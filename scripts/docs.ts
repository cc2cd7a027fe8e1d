/**
 * `npm run docs [-- --check]`: rewrites the generated figures of the README
 * and docs/ (the benchmark's tables and the capacity model) from
 * bench/results and the model; `--check` changes nothing and exits 1 naming
 * each block that is out of date. See bench/generated-docs.ts.
 */
import { refreshDocuments } from '../bench/generated-docs';

const check = process.argv.includes('--check');
const stale = refreshDocuments({ check });
if (check && stale.length > 0) {
  console.error(`out of date (run npm run docs):\n${stale.map((block) => `  ${block}`).join('\n')}`);
  process.exit(1);
}
console.log(check ? 'the generated figures are current' : stale.length > 0 ? `rewrote ${stale.join(', ')}` : 'nothing to rewrite');
