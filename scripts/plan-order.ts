/**
 * `npm run --silent plan-order [-- cdktf.out]`: prints the synthesized stacks
 * in dependency order (upstream first), one per line with its direct
 * dependencies: `<stack> <dependency> <dependency>...`. Ties are broken by
 * name, so the order is stable. The PR plan and `cdktf destroy` (reversed)
 * follow it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const outdir = process.argv[2] ?? 'cdktf.out';
const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as { stacks: Record<string, { dependencies?: string[] }> };
const pending = new Map(Object.entries(manifest.stacks).map(([name, stack]) => [name, new Set(stack.dependencies ?? [])]));
const ordered: string[] = [];
while (pending.size > 0) {
  const ready = [...pending]
    .filter(([, dependencies]) => [...dependencies].every((dependency) => ordered.includes(dependency)))
    .map(([name]) => name)
    .sort();
  if (ready.length === 0) {
    console.error(`the stacks depend on each other in a cycle: ${[...pending.keys()].join(', ')}`);
    process.exit(1);
  }
  for (const name of ready) {
    ordered.push(name);
    pending.delete(name);
  }
}
for (const name of ordered) console.log([name, ...(manifest.stacks[name]?.dependencies ?? [])].join(' '));
