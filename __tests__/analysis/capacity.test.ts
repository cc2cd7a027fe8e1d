/**
 * The capacity and cost model's arithmetic and its direction, on the real
 * synthesized designs and AWS facts, with fixed measurements (so the tests do
 * not move with each benchmark run); and the CLI on the committed benchmark.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ENVIRONMENT_NAMES, ENVIRONMENTS } from '../../config/environments';
import type { EnvironmentConfig } from '../../config/environments';
import { QUERIES } from '../../handlers/queries/registry';
import { loadAwsFacts, type AwsFacts } from '../../analysis/aws-facts';
import { capacityModel, designFromSynth, originalDesign, type Measured } from '../../analysis/capacity';
import { synthesizeStacks } from '../../stacks/synth-offline';
import { budget } from '../helpers/budget';

const facts = loadAwsFacts();
const queryFunctions = Object.fromEntries(QUERIES.map((query) => [query.name, query.functionName]));
const design = (config: EnvironmentConfig) => designFromSynth(config, synthesizeStacks(config), queryFunctions);
const measured: Measured = {
  batchWriteSeconds: 2,
  originalRecordSeconds: 0.001,
  writerOrdersPerSecond: 20_000,
  originalWriterOrdersPerSecond: 1_000,
  // Every registered query has a time (a new one gets the default), itemsSalesReport its own.
  queryMs: { ...Object.fromEntries(QUERIES.map((query) => [query.name, 1])), itemsSalesReport: 2 },
  queryTlsMs: { ...Object.fromEntries(QUERIES.map((query) => [query.name, 0.1])), itemsSalesReport: 0.5 },
  originalQueryMs: { itemsSalesReport: 4_500, monthlySalesByItem: 600, orderDetails: 1 },
  commandExecutionMs: 40,
  functionMs: { 'validate-request': 5 },
  statementsPerCreateBatch: 7,
  requestEventBytes: 600,
  logBytesPerOrder: 1_500,
  workflowLogBytesAllWithData: 6_000,
  source: 'fixed figures for the test',
};
const stage = (report: ReturnType<typeof capacityModel>, name: string) => report.stages.find((candidate) => candidate.name === name)?.ordersPerSecond as number;

describe('the capacity model', () => {
  it("raises the projection stage with the projection's concurrency, and no other stage", () => {
    const base = capacityModel(design(ENVIRONMENTS.prod), measured, facts);
    const doubled = capacityModel(design({ ...ENVIRONMENTS.prod, projection: { ...ENVIRONMENTS.prod.projection, parallelizationFactor: 2 } }), measured, facts);

    expect(stage(doubled, 'stream → projection')).toBeGreaterThan(stage(base, 'stream → projection'));
    for (const other of base.stages.filter((candidate) => candidate.name !== 'stream → projection')) {
      // The reservation comes out of the unreserved pool: validate-request may only fall, by a little.
      expect(stage(doubled, other.name)).toBeLessThanOrEqual(other.ordersPerSecond);
      expect(stage(doubled, other.name)).toBeGreaterThan(other.ordersPerSecond * 0.99);
    }
  });

  it("caps validate-request by Lambda's request rate (10 × concurrency), below what its duration alone allows", () => {
    const report = capacityModel(design(ENVIRONMENTS.prod), measured, facts);
    const rps = stage(report, 'Lambda requests per second');
    // 5 ms per call would allow 200 per second per unit of concurrency; Lambda allows 10.
    expect(rps).toBeLessThan(stage(report, 'validate-request'));
    expect(rps % 10).toBe(0);
    expect(rps).toBeLessThanOrEqual(10 * 1000);
  });

  it("takes the intake from the synth: validate-request's reserved concurrency and the orders table's write cap", () => {
    const config = ENVIRONMENTS.prod;
    const report = capacityModel(design(config), measured, facts);
    const raised = capacityModel(design({ ...config, intake: { ordersMaxWriteRequestUnits: 8_000, validateRequestConcurrency: 800 } }), measured, facts);
    const original = capacityModel(originalDesign(design(config)), measured, facts, true);

    expect(stage(report, 'Lambda requests per second')).toBe(10 * config.intake.validateRequestConcurrency);
    expect(stage(report, 'validate-request')).toBe(Math.floor(config.intake.validateRequestConcurrency / (5 / 1000)));
    expect(stage(report, 'orders table write')).toBe(config.intake.ordersMaxWriteRequestUnits);
    expect(stage(raised, 'Lambda requests per second')).toBe(8_000);
    expect(stage(raised, 'orders table write')).toBe(8_000);
    // The original's table had no cap: the per-table quota bounds it.
    expect(stage(original, 'orders table write')).toBe(facts.quotas.items.dynamodbTableWriteUnitsPerSecond?.value);
  });

  it('names as bottleneck the stage with the lowest figure', () => {
    for (const name of ENVIRONMENT_NAMES) {
      const report = capacityModel(design(ENVIRONMENTS[name]), measured, facts);
      const lowest = Math.min(...report.stages.map((candidate) => candidate.ordersPerSecond));
      expect(stage(report, report.bottleneck)).toBe(lowest);
    }
  });

  it("lowers the logs' cost when the workflow logs no execution data", () => {
    const withData = capacityModel(design(ENVIRONMENTS.dev), measured, facts);
    const without = capacityModel(design({ ...ENVIRONMENTS.dev, workflowLogs: { level: 'ALL', includeExecutionData: false } }), measured, facts);
    const logs = (report: typeof withData) => report.components.find((component) => component.name.startsWith('CloudWatch Logs'))?.usd as number;
    expect(logs(without)).toBeLessThan(logs(withData));
    expect(without.costPerMillionOrdersUsd).toBeLessThan(withData.costPerMillionOrdersUsd);
  });

  it('raises the monthly floor with more instances', () => {
    const one = capacityModel(design({ ...ENVIRONMENTS.staging, aurora: { ...ENVIRONMENTS.staging.aurora, instances: 1 } }), measured, facts);
    const two = capacityModel(design({ ...ENVIRONMENTS.staging, aurora: { ...ENVIRONMENTS.staging.aurora, instances: 2 } }), measured, facts);
    expect(two.monthlyFloorUsd).toBeGreaterThan(one.monthlyFloorUsd);
  });

  it('adds its components up to each total', () => {
    const report = capacityModel(design(ENVIRONMENTS.prod), measured, facts);
    const total = (components: { usd: number }[]) => Math.round(components.reduce((sum, component) => sum + component.usd, 0) * 10_000) / 10_000;
    expect(total([...report.components])).toBeCloseTo(report.costPerMillionOrdersUsd, 3);
    expect(total([...report.queryComponents])).toBeCloseTo(report.costPerMillionQueriesUsd, 3);
    expect(total([...report.floorComponents])).toBeCloseTo(report.monthlyFloorUsd, 3);
  });

  it('takes every price from the data file: doubling them doubles every cost, and a missing one is named', () => {
    const doubledFacts: AwsFacts = {
      ...facts,
      prices: {
        ...facts.prices,
        items: Object.fromEntries(Object.entries(facts.prices.items).map(([name, item]) => [name, { ...item, usd: (item.usd as number) * 2 }])),
      },
    };
    const base = capacityModel(design(ENVIRONMENTS.prod), measured, facts);
    const doubled = capacityModel(design(ENVIRONMENTS.prod), measured, doubledFacts);
    expect(doubled.costPerMillionOrdersUsd).toBeCloseTo(base.costPerMillionOrdersUsd * 2, 2);
    expect(doubled.costPerMillionQueriesUsd).toBeCloseTo(base.costPerMillionQueriesUsd * 2, 2);
    expect(doubled.monthlyFloorUsd).toBeCloseTo(base.monthlyFloorUsd * 2, 2);
    const { natGatewayHour: _, ...withoutNat } = facts.prices.items;
    expect(() => capacityModel(design(ENVIRONMENTS.prod), measured, { ...facts, prices: { ...facts.prices, items: withoutNat } })).toThrow(
      'config/aws-facts.json has no price natGatewayHour',
    );
  });

  it('prices X-Ray per traced request at the default sampling rate, and nothing when no resource traces', () => {
    const traced = design(ENVIRONMENTS.prod);
    const xray = (report: ReturnType<typeof capacityModel>, list: 'components' | 'queryComponents') =>
      report[list].find((component) => component.name.startsWith('X-Ray'))?.usd as number;
    const report = capacityModel(traced, measured, facts);
    // A query is one traced execution: 5% of a million at $5 per million recorded traces.
    expect(xray(report, 'queryComponents')).toBeCloseTo(0.05 * 5, 4);
    // An order adds the projection's invocation per batch of its stream.
    expect(xray(report, 'components')).toBeCloseTo(0.05 * 5 * (1 + 1 / traced.batchSize), 4);
    const untraced = capacityModel({ ...traced, tracing: { stateMachine: false, functions: [] } }, measured, facts);
    expect(xray(untraced, 'components')).toBe(0);
    expect(untraced.costPerMillionOrdersUsd).toBeLessThan(report.costPerMillionOrdersUsd);
  });

  it('prices the archive from the measured event size and the synthesized retention', () => {
    const ours = design(ENVIRONMENTS.prod);
    const archive = (report: ReturnType<typeof capacityModel>) =>
      report.components.find((component) => component.name.startsWith('EventBridge archive'))?.usd as number;
    const kept = (days: number) => archive(capacityModel({ ...ours, archiveRetentionDays: days }, measured, facts));
    expect(ours.archiveRetentionDays).toBe(ENVIRONMENTS.prod.archiveRetentionDays);
    // A million 600-byte events: 0.559 GB archived at $0.10 and stored at $0.023 a GB-month.
    const gb = (600 * 1_000_000) / 1024 ** 3;
    expect(kept(365 / 12)).toBeCloseTo(gb * 0.1 + gb * 0.023 * (365 / 12 / (730 / 24)), 4);
    expect(kept(365)).toBeGreaterThan(kept(30));
    expect(archive(capacityModel(ours, { ...measured, requestEventBytes: 1_200 }, facts))).toBeCloseTo(archive(capacityModel(ours, measured, facts)) * 2, 3);
    expect(archive(capacityModel({ ...ours, archiveRetentionDays: undefined }, measured, facts))).toBe(0);
  });

  it("counts the projection's statements per order from the measured batch", () => {
    const ours = design(ENVIRONMENTS.prod);
    const writer = (statements: number) =>
      capacityModel(ours, { ...measured, statementsPerCreateBatch: statements }, facts).stages.find((candidate) => candidate.name === 'Aurora writer')
        ?.assumption as string;
    expect(writer(7)).toContain(`${Math.round((7 / ours.batchSize) * 1000)} per 1,000 orders`);
    expect(writer(12)).toContain(`${Math.round((12 / ours.batchSize) * 1000)} per 1,000 orders`);
  });

  it('rates each query by its handler time plus what TLS adds to it', () => {
    const ours = design(ENVIRONMENTS.prod);
    const rate = (figures: Measured) =>
      capacityModel(ours, figures, facts).queries.find((query) => query.name === 'itemsSalesReport') as { perSecond: number; assumption: string };
    const concurrency = ours.functions[ours.queryFunctions.itemsSalesReport as string]?.reserved as number;
    expect(rate(measured).perSecond).toBe(Math.floor(concurrency / ((2 + 0.5) / 1000)));
    expect(rate({ ...measured, queryTlsMs: { ...measured.queryTlsMs, itemsSalesReport: 2 } }).perSecond).toBe(Math.floor(concurrency / (4 / 1000)));
    expect(rate(measured).assumption).toContain('plus 0.5 ms that TLS adds');
  });

  it('refuses to rate a deployed query the benchmark never timed, naming it', () => {
    const { orderDetails: _, ...withoutDetails } = measured.queryMs;
    expect(() => capacityModel(design(ENVIRONMENTS.prod), { ...measured, queryMs: withoutDetails }, facts)).toThrow(
      'the benchmark has no time for the query orderDetails',
    );
  });

  it('puts the original design through the same model: slower where it invokes per record, dearer per order and per query', () => {
    const ours = design(ENVIRONMENTS.prod);
    const report = capacityModel(ours, measured, facts);
    const original = capacityModel(originalDesign(ours), measured, facts, true);
    expect(original.bottleneck).toBe('stream → projection');
    expect(stage(original, 'stream → projection')).toBeLessThan(stage(report, 'stream → projection'));
    expect(original.costPerMillionQueriesUsd).toBeGreaterThan(report.costPerMillionQueriesUsd);
    expect(original.floorComponents.find((component) => component.name.startsWith('NAT gateways'))?.usd).toBeGreaterThan(0);
  });
});

describe('npm run capacity', () => {
  it.each([...ENVIRONMENT_NAMES])(
    'prints the model of %s as JSON with every key the contract names',
    async (environment) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/capacity.ts', '--env', environment, '--json'], {
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const report = JSON.parse(stdout) as Record<string, unknown> & {
        stages: { name: string; ordersPerSecond: number; assumption: string }[];
        components: { name: string; usd: number }[];
        original: Record<string, unknown>;
      };
      for (const key of [
        'environment',
        'bottleneck',
        'stages',
        'costPerMillionOrdersUsd',
        'components',
        'costPerMillionQueriesUsd',
        'monthlyFloorUsd',
        'prices',
        'original',
      ])
        expect(report).toHaveProperty(key);
      expect(report.environment).toBe(environment);
      expect(report.prices).toEqual({ source: facts.prices.source, date: facts.prices.date });
      for (const key of [
        'environment',
        'bottleneck',
        'stages',
        'costPerMillionOrdersUsd',
        'components',
        'costPerMillionQueriesUsd',
        'monthlyFloorUsd',
        'prices',
      ])
        expect(report.original).toHaveProperty(key);
      for (const entry of report.stages)
        expect(entry).toEqual({ name: expect.any(String), ordersPerSecond: expect.any(Number), assumption: expect.any(String) });
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );

  it(
    'prints the tables without --json',
    async () => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/capacity.ts', '--env', 'prod'], {
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(stdout).toContain('**(bottleneck)**');
      expect(stdout).toContain('cost per million orders');
      expect(stdout).toContain('monthly floor');
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );
});
