/**
 * `npm run iam-inventory`: writes docs/least-privilege.md, every role's
 * actions and resources in every environment (see analysis/iam-inventory.ts).
 *
 *   npm run iam-inventory            write the file
 *   npm run iam-inventory -- --check exit 1 when the file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesizeInventory } from '../analysis/iam-inventory-synth';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../docs/least-privilege.md');
const markdown = synthesizeInventory();
if (process.argv.includes('--check')) {
  const current = readFileSync(file, 'utf8');
  if (current !== markdown) {
    console.error('docs/least-privilege.md is out of date: run npm run iam-inventory');
    process.exitCode = 1;
  }
} else {
  writeFileSync(file, markdown);
  console.log(`wrote ${file}`);
}
