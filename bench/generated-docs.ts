/**
 * The figures the docs show, generated from what measured or computed them
 * (bench/results/latest.json and latest.md, and the capacity model), never
 * copied by hand. A document marks each block:
 *
 *   <!-- generated:<name> -->
 *   …
 *   <!-- /generated:<name> -->
 *
 * `npm run docs` rewrites every block; `npm run docs -- --check` (and a test)
 * fails naming each block that is out of date.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { capacityMarkdown, capacitySummary, runCapacityModel, type CapacityRun } from '../analysis/capacity-report';
import { eventSchemas } from '../stacks/event-schemas';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The documents that carry generated blocks. */
export const GENERATED_DOCUMENTS = ['README.md', 'docs/performance.md', 'docs/capacity.md'];

interface SoakResults {
  readonly date: string;
  readonly commands: number;
  readonly paddingBytes: number;
  readonly throughBusMb: number;
  readonly equivalentSmallCommands: number;
  readonly sendSeconds: number;
  readonly samples: readonly { sent: number; rssMb: number; heapMb: number; journalMb: number }[];
  readonly journalMb: { max: number; afterStop: number; compactions: number };
  readonly restart: { readySeconds: number; rssMb: number; journalMb: number };
}

/** The soak run (bench/results/soak.json) as a paragraph and a table. */
function soakMarkdown(soak: SoakResults): string {
  const count = (value: number) => value.toLocaleString('en-US');
  return [
    `Last \`npm run soak\` (${soak.date.slice(0, 10)}, \`bench/results/soak.json\`): ${count(soak.commands)} commands of ${Math.round(soak.paddingBytes / 1024)} KB, ${soak.throughBusMb} MB through a \`--data\` runtime (the bytes of ${count(soak.equivalentSmallCommands)} small commands), at most 200 unanswered at a time, in ${soak.sendSeconds} s; the bus journal peaked at ${soak.journalMb.max} MB (${soak.journalMb.compactions} compactions while running).`,
    '',
    '| after | runtime heap after a full GC | process RSS (function workers included) | bus journal |',
    '|---|---:|---:|---:|',
    ...soak.samples.map(
      (sample) =>
        `| ${sample.sent === 0 ? 'the start' : `${count(sample.sent)} commands`} | ${sample.heapMb} MB | ${sample.rssMb} MB | ${sample.journalMb} MB |`,
    ),
    `| a restart on the same folder | | ${soak.restart.rssMb} MB (ready in ${soak.restart.readySeconds} s) | ${soak.restart.journalMb} MB |`,
  ].join('\n');
}

interface BenchResults {
  readonly machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; mysql: string };
  readonly date: string;
  readonly durationSeconds?: number;
  readonly targets?: readonly { target: string; measured: string; met: boolean }[];
}

/** Every generated block's content, by name. */
export function generatedBlocks(root = ROOT): Record<string, string> {
  const bench = JSON.parse(readFileSync(path.join(root, 'bench/results/latest.json'), 'utf8')) as BenchResults;
  const latest = readFileSync(path.join(root, 'bench/results/latest.md'), 'utf8').trim();
  const { machine } = bench;
  const runs: Record<string, CapacityRun> = {};
  const capacity = (environment: 'prod' | 'dev') => (runs[environment] ??= runCapacityModel(environment));
  return {
    'bench-machine': `Last run of \`npm run bench\` (${bench.date.slice(0, 10)}, \`bench/results/latest.json\`): ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.mysql}.`,
    // latest.md as the benchmark wrote it, its machine line aside.
    'bench-tables': latest.split('\n').slice(1).join('\n').trim(),
    'bench-targets': [
      '| target | measured | met |',
      '|---|---|:---:|',
      ...(bench.targets ?? []).map((line) => `| ${line.target} | ${line.measured} | ${line.met ? 'yes' : '**no**'} |`),
    ].join('\n'),
    soak: soakMarkdown(JSON.parse(readFileSync(path.join(root, 'bench/results/soak.json'), 'utf8')) as SoakResults),
    'capacity-prod': capacityMarkdown(capacity('prod')),
    'capacity-prod-summary': capacitySummary(capacity('prod')),
    'capacity-dev-summary': capacitySummary(capacity('dev')),
  };
}

const BLOCK = /(<!-- generated:([a-z-]+) -->)\n([\s\S]*?)\n?(<!-- \/generated:\2 -->)/g;

/** A document with its blocks regenerated, and the names of the blocks that changed (or are unknown). */
export function regenerate(text: string, blocks: Record<string, string>): { text: string; stale: string[] } {
  const stale: string[] = [];
  const next = text.replace(BLOCK, (whole, open: string, name: string, content: string, close: string) => {
    const fresh = blocks[name];
    if (fresh === undefined) {
      stale.push(`${name} (no such generated block)`);
      return whole;
    }
    if (content !== fresh) stale.push(name);
    return `${open}\n${fresh}\n${close}`;
  });
  return { text: next, stale };
}

/** Regenerates (or, with `check`, only compares) every document's blocks; returns the stale ones as `file: block`. */
export function refreshDocuments(options: { check: boolean; root?: string }): string[] {
  const root = options.root ?? ROOT;
  const blocks = generatedBlocks(root);
  const stale: string[] = [];
  for (const document of GENERATED_DOCUMENTS) {
    const file = path.join(root, document);
    const { text, stale: changed } = regenerate(readFileSync(file, 'utf8'), blocks);
    stale.push(...changed.map((name) => `${document}: ${name}`));
    if (!options.check && changed.length > 0) writeFileSync(file, text);
  }
  // The published event schemas, one file per detail type (stacks/event-schemas.ts).
  for (const [detailType, schema] of Object.entries(eventSchemas())) {
    const file = path.join(root, SCHEMAS_DIRECTORY, `${detailType}.schema.json`);
    const text = `${JSON.stringify(schema, null, 2)}\n`;
    if ((existsSync(file) ? readFileSync(file, 'utf8') : '') === text) continue;
    stale.push(`${SCHEMAS_DIRECTORY}/${detailType}.schema.json`);
    if (!options.check) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
  }
  return stale;
}

/** Where the published event schemas live. */
export const SCHEMAS_DIRECTORY = 'docs/schemas';
