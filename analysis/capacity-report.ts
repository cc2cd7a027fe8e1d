/**
 * The capacity and cost model of one environment, computed and written as
 * Markdown: what `npm run capacity` prints and what the docs embed (generated,
 * never copied by hand; see bench/generated-docs.ts).
 */
import { readFileSync } from 'node:fs';
import { ENVIRONMENTS, type EnvironmentName } from '../config/environments';
import { loadAwsFacts, type AwsFacts } from './aws-facts';
import { capacityModel, designFromSynth, measuredFromBench, originalDesign, type CapacityReport } from './capacity';
import type { PipelineOptions } from '../stacks/app';
import { synthesizeStacks } from '../stacks/synth-offline';
import { REGISTRY } from '../handlers/registry';

/** The model of an environment and of the original design under the same inputs. */
export interface CapacityRun {
  readonly environment: EnvironmentName;
  readonly facts: AwsFacts;
  readonly report: CapacityReport;
  readonly original: CapacityReport;
}

/**
 * Runs the model: the environment's synthesized stacks (with the project's
 * registry and bundles unless `options` says otherwise), a benchmark's
 * results (the last one's, bench/results/latest.json), config/aws-facts.json.
 */
export function runCapacityModel(environment: EnvironmentName, options: PipelineOptions = {}, bench: Record<string, unknown> = lastBenchmark()): CapacityRun {
  const facts = loadAwsFacts();
  const queries = (options.registry ?? REGISTRY).queries;
  const design = designFromSynth(
    ENVIRONMENTS[environment],
    synthesizeStacks(ENVIRONMENTS[environment], options),
    Object.fromEntries(queries.map((query) => [query.name, query.functionName])),
  );
  const measured = measuredFromBench(bench, design.batchSize);
  return { environment, facts, report: capacityModel(design, measured, facts), original: capacityModel(originalDesign(design), measured, facts, true) };
}

/** The last benchmark's results (bench/results/latest.json). */
export function lastBenchmark(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../bench/results/latest.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

const usd = (value: number) => `$${value < 10 ? value.toFixed(4) : value.toFixed(2)}`;
const rate = (value: number) => Math.round(value).toLocaleString('en');

function side(title: string, ours: CapacityReport['components'], theirs: CapacityReport['components']): string[] {
  const names = [...new Set([...ours.map((component) => component.name), ...theirs.map((component) => component.name)])];
  const cell = (components: CapacityReport['components'], name: string) => {
    const found = components.find((component) => component.name === name);
    return found ? `${usd(found.usd)}${found.detail ? ` (${found.detail})` : ''}` : 'none';
  };
  return [
    '',
    title,
    '',
    '| component | this project | original |',
    '|---|---:|---:|',
    ...names.map((name) => `| ${name} | ${cell(ours, name)} | ${cell(theirs, name)} |`),
  ];
}

/** The model as Markdown tables: stages, queries, and the three costs beside the original's. */
export function capacityMarkdown({ environment, facts, report, original }: CapacityRun): string {
  const lines = [
    `capacity and cost: ${environment} (${facts.region}, arm64); prices ${report.prices.source}, read ${report.prices.date}; measured: ${report.measured}`,
    '',
  ];
  lines.push('| stage | orders/s | original | assumption |', '|---|---:|---:|---|');
  for (const stage of report.stages) {
    const theirs = original.stages.find((candidate) => candidate.name === stage.name);
    lines.push(
      `| ${stage.name}${stage.name === report.bottleneck ? ' **(bottleneck)**' : ''} | ${rate(stage.ordersPerSecond)} | ${theirs ? rate(theirs.ordersPerSecond) : 'no such stage'}${theirs?.name === original.bottleneck ? ' (bottleneck)' : ''} | ${stage.assumption} |`,
    );
  }
  lines.push('', '| query | answers/s | original | assumption |', '|---|---:|---:|---|');
  for (const query of report.queries) {
    const theirs = original.queries.find((candidate) => candidate.name === query.name);
    lines.push(`| ${query.name} | ${rate(query.perSecond)} | ${theirs ? rate(theirs.perSecond) : 'no such query'} | ${query.assumption} |`);
  }
  lines.push(
    ...side(
      `cost per million orders: ${usd(report.costPerMillionOrdersUsd)} (original ${usd(original.costPerMillionOrdersUsd)})`,
      report.components,
      original.components,
    ),
  );
  lines.push(
    ...side(
      `cost per million queries: ${usd(report.costPerMillionQueriesUsd)} (original ${usd(original.costPerMillionQueriesUsd)})`,
      report.queryComponents,
      original.queryComponents,
    ),
  );
  lines.push(
    ...side(`monthly floor: ${usd(report.monthlyFloorUsd)} (original ${usd(original.monthlyFloorUsd)})`, report.floorComponents, original.floorComponents),
  );
  return lines.join('\n');
}

/** One paragraph: the bottleneck, the cost of a million orders and queries, the monthly floor. */
export function capacitySummary({ environment, report, original }: CapacityRun): string {
  const bottleneck = report.stages.find((stage) => stage.name === report.bottleneck);
  return (
    `${environment}: bottleneck \`${report.bottleneck}\` at ${rate(bottleneck?.ordersPerSecond ?? 0)} orders/s; ` +
    `**${usd(report.costPerMillionOrdersUsd)} per million orders** (original ${usd(original.costPerMillionOrdersUsd)}), ` +
    `${usd(report.costPerMillionQueriesUsd)} per million queries (original ${usd(original.costPerMillionQueriesUsd)}), ` +
    `a monthly floor of **${usd(report.monthlyFloorUsd)}** (original ${usd(original.monthlyFloorUsd)}).`
  );
}
