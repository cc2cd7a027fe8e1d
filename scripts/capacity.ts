/**
 * `npm run capacity -- --env <env> [--json]`: where the pipeline saturates on
 * AWS and what a million orders cost, from the environment's synthesized
 * stacks, the last benchmark and config/aws-facts.json (see stacks/capacity.ts).
 */
import { readFileSync } from 'node:fs';
import { ENVIRONMENT_NAMES, ENVIRONMENTS, type EnvironmentName } from '../config/environments';
import { QUERIES } from '../handlers/queries/registry';
import { loadAwsFacts } from '../stacks/aws-facts';
import { capacityModel, designFromSynth, measuredFromBench, originalDesign, type CapacityReport } from '../stacks/capacity';
import { synthesizeStacks } from '../stacks/synth-offline';

const args = process.argv.slice(2);
const environment = (args.includes('--env') ? args[args.indexOf('--env') + 1] : process.env.CQRS_ENV ?? 'dev') as EnvironmentName;
if (!ENVIRONMENT_NAMES.includes(environment)) {
  console.error(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got ${JSON.stringify(environment)}`);
  process.exit(2);
}

const facts = loadAwsFacts();
const design = designFromSynth(ENVIRONMENTS[environment], synthesizeStacks(ENVIRONMENTS[environment]), Object.fromEntries(QUERIES.map((query) => [query.name, query.functionName])));
const bench = JSON.parse(readFileSync(new URL('../bench/results/latest.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const measured = measuredFromBench(bench, design.batchSize);
const report = capacityModel(design, measured, facts);
const original = capacityModel(originalDesign(design), measured, facts, true);

if (args.includes('--json')) {
  console.log(JSON.stringify({ ...report, original }, null, 2));
} else {
  const usd = (value: number) => `$${value < 10 ? value.toFixed(4) : value.toFixed(2)}`;
  const rate = (value: number) => Math.round(value).toLocaleString('en');
  const side = (title: string, ours: CapacityReport['components'], theirs: CapacityReport['components']) => {
    console.log(`\n${title}\n`);
    console.log('| component | this project | original |\n|---|---:|---:|');
    const names = [...new Set([...ours.map((component) => component.name), ...theirs.map((component) => component.name)])];
    const cell = (components: CapacityReport['components'], name: string) => {
      const found = components.find((component) => component.name === name);
      return found ? `${usd(found.usd)}${found.detail ? ` (${found.detail})` : ''}` : 'none';
    };
    for (const name of names) console.log(`| ${name} | ${cell(ours, name)} | ${cell(theirs, name)} |`);
  };
  console.log(`capacity and cost: ${environment} (${facts.region}, arm64); prices ${report.prices.source}, read ${report.prices.date}; measured: ${report.measured}\n`);
  console.log('| stage | orders/s | original | assumption |\n|---|---:|---:|---|');
  for (const stage of report.stages) {
    const theirs = original.stages.find((candidate) => candidate.name === stage.name);
    console.log(`| ${stage.name}${stage.name === report.bottleneck ? ' **(bottleneck)**' : ''} | ${rate(stage.ordersPerSecond)} | ${theirs ? rate(theirs.ordersPerSecond) : 'no such stage'}${theirs?.name === original.bottleneck ? ' (bottleneck)' : ''} | ${stage.assumption} |`);
  }
  console.log('\n| query | answers/s | original | assumption |\n|---|---:|---:|---|');
  for (const query of report.queries) {
    const theirs = original.queries.find((candidate) => candidate.name === query.name);
    console.log(`| ${query.name} | ${rate(query.perSecond)} | ${theirs ? rate(theirs.perSecond) : 'no such query'} | ${query.assumption} |`);
  }
  side(`cost per million orders: ${usd(report.costPerMillionOrdersUsd)} (original ${usd(original.costPerMillionOrdersUsd)})`, report.components, original.components);
  side(`cost per million queries: ${usd(report.costPerMillionQueriesUsd)} (original ${usd(original.costPerMillionQueriesUsd)})`, report.queryComponents, original.queryComponents);
  side(`monthly floor: ${usd(report.monthlyFloorUsd)} (original ${usd(original.monthlyFloorUsd)})`, report.floorComponents, original.floorComponents);
}
