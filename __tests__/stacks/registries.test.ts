/**
 * The registries close their lists: a query and a command registered beside
 * the real ones (`__tests__/fixtures/registry-members.ts`, through
 * `registryWith`, no other module edited) reach everything derived from the
 * registries: the synth (a function, its role and alarms, the workflow's
 * routing and invoke grant, validate-request's list, the published schemas,
 * the stream filter), the capacity model (a rate for the query, every figure
 * finite), the IAM inventory of every environment, and the benchmark's query
 * plan; and where a figure is missing, the model says which instead of NaN.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { ENVIRONMENT_NAMES, ENVIRONMENTS } from '../../config/environments';
import { registryWith, REGISTRY } from '../../handlers/registry';
import { argumentSamples, queryBenchPlan } from '../../bench/query-plan';
import { queryChart } from '../../bench/svg';
import { DIST, ROOT } from '../../stacks/bundling/build';
import { zip } from '../../stacks/bundling/zip';
import { FunctionName } from '../../stacks/catalogue';
import { lastBenchmark, runCapacityModel } from '../../analysis/capacity-report';
import { synthesizeInventoryRows } from '../../analysis/iam-inventory-synth';
import { resourcesOf, synthesizeStacks, type StackJson } from '../../stacks/synth-offline';
import { budget } from '../helpers/budget';
import { holdOrderCommand, itemTotalQuery } from '../fixtures/registry-members';

const registry = registryWith({ queries: [itemTotalQuery], commands: [holdOrderCommand] });
let distDir: string;

/** The project's bundles, and the new query's: its declaration in the shared query handler, as the build wraps every query. */
async function bundlesWithTheNewQuery(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'registries-dist-'));
  for (const file of readdirSync(DIST).filter((name) => name.endsWith('.zip'))) copyFileSync(path.join(DIST, file), path.join(dir, file));
  const bundle = await build({
    stdin: {
      contents: `import { createQueryHandler } from './handlers/queries/query-handler';\nimport { itemTotalQuery } from './__tests__/fixtures/registry-members';\nexport const handler = createQueryHandler(itemTotalQuery);\n`,
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
  });
  writeFileSync(
    path.join(dir, `${itemTotalQuery.functionName}.zip`),
    await zip([{ name: 'index.mjs', data: Buffer.from(bundle.outputFiles[0]?.contents ?? []) }]),
  );
  return dir;
}

/** Every number in a value, with where it is. */
function numbers(value: unknown, at = ''): [string, number][] {
  if (typeof value === 'number') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((item, index) => numbers(item, `${at}[${index}]`));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => numbers(item, `${at}.${key}`));
  return [];
}

/** Every string in a value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

beforeAll(
  async () => {
    distDir = await bundlesWithTheNewQuery();
  },
  budget({ seconds: 5 }),
);

afterAll(() => rmSync(distDir, { recursive: true, force: true }));

describe('a query and a command added to the registries', () => {
  it('refuses a registry that names a query or a command twice', () => {
    expect(() => registryWith({ queries: [itemTotalQuery, itemTotalQuery] })).toThrow('the registry has more than one query named itemTotal');
    expect(() => registryWith({ commands: [REGISTRY.commands[0] as typeof holdOrderCommand] })).toThrow(
      `more than one command named ${REGISTRY.commands[0]?.name}`,
    );
  });

  describe('in the synth', () => {
    let stacks: Record<string, StackJson>;
    beforeAll(
      () => {
        stacks = synthesizeStacks(ENVIRONMENTS.dev, { registry, distDir });
      },
      budget({ seconds: 10 }),
    );
    const functionNamed = (name: string) => resourcesOf(stacks, 'aws_lambda_function').find((fn) => fn.function_name === `order-pipeline-dev-${name}`);

    it('deploys a function for the query, with its settings and the read model environment, beside every other', () => {
      // Act
      const deployed = resourcesOf(stacks, 'aws_lambda_function').map((fn) => String(fn.function_name).replace('order-pipeline-dev-', ''));
      const fn = functionNamed(itemTotalQuery.functionName) as {
        memory_size: number;
        timeout: number;
        reserved_concurrent_executions: number;
        environment: { variables: Record<string, string> };
      };

      // Assess
      expect(deployed.sort()).toEqual([...Object.values(FunctionName), itemTotalQuery.functionName].sort());
      expect([fn.memory_size, fn.timeout, fn.reserved_concurrent_executions]).toEqual([384, 20, 2]);
      expect(Object.keys(fn.environment.variables)).toEqual(expect.arrayContaining(['DB_SECRET_ID', 'DB_HOST', 'DB_CONNECTION_LIMIT']));
    });

    it('lets validate-request accept the query and routes both in the workflow, which may invoke the new function', () => {
      const validate = functionNamed('validate-request') as { environment: { variables: Record<string, string> } };
      const machine = resourcesOf(stacks, 'aws_sfn_state_machine')[0] as { definition: string };
      const states = (
        JSON.parse(machine.definition) as {
          States: Record<string, { Choices?: { StringEquals?: string; And?: { StringEquals?: string }[] }[]; Parameters?: { FunctionName?: string } }>;
        }
      ).States;
      const routed = (state: string) =>
        (states[state]?.Choices ?? []).map((choice) => choice.StringEquals ?? choice.And?.find((rule) => rule.StringEquals)?.StringEquals);
      const statements = resourcesOf(stacks, 'aws_iam_role_policy').flatMap(
        (policy) => (JSON.parse(String(policy.policy)) as { Statement: { Sid: string; Resource: string[] }[] }).Statement,
      );
      const invoke = statements.find((statement) => statement.Sid === 'InvokePipelineFunctions');

      expect(validate.environment.variables.SUPPORTED_QUERIES?.split(',')).toEqual(registry.queries.map((query) => query.name));
      expect(routed('RouteQuery')).toEqual(registry.queries.map((query) => query.name));
      expect(routed('RouteCommand')).toEqual(registry.commands.map((command) => command.name));
      expect(states.ItemTotal?.Parameters?.FunctionName).toMatch(/item-total/);
      expect(invoke?.Resource).toHaveLength(1 + registry.queries.length);
      expect(invoke?.Resource.some((arn) => arn.includes('item-total'))).toBe(true);
    });

    it('publishes both in the schemas, alarms on the new function and gives its role the reader secret', () => {
      type Schema = { properties: { detail: { oneOf: { title: string }[] } } };
      const schemas: Record<string, Schema> = Object.fromEntries(
        resourcesOf(stacks, 'aws_schemas_schema').map((schema): [string, Schema] => [
          String(schema.name).split('@')[1] as string,
          JSON.parse(String(schema.content)) as Schema,
        ]),
      );
      const alarms = resourcesOf(stacks, 'aws_cloudwatch_metric_alarm').map((alarm) => String(alarm.alarm_description));
      const role = resourcesOf(stacks, 'aws_iam_role_policy').find((policy) => String(policy.role).includes('item-total')) as { policy: string };
      const reads = (JSON.parse(role.policy) as { Statement: { Action: string[] }[] }).Statement.flatMap((statement) => statement.Action);

      expect(schemas.orderQuery?.properties.detail.oneOf.map((entry) => entry.title)).toContain('itemTotal');
      expect(schemas.orderCommand?.properties.detail.oneOf.map((entry) => entry.title)).toContain('holdOrder');
      expect(alarms.filter((description) => description.startsWith('item-total '))).toHaveLength(2);
      expect(reads).toContain('secretsmanager:GetSecretValue');
    });
  });

  describe('in the capacity model', () => {
    // A benchmark run with the query registered records its times as it does every query's;
    // here, the committed run's figures of monthlySalesByItem (the same kind of read) stand in for them.
    const bench = lastBenchmark();
    const timed = {
      ...bench,
      queries: (bench.queries as Record<string, unknown>[]).map((step) => ({ ...step, itemTotal: step.monthlySalesByItem })),
      queryTls: {
        ...(bench.queryTls as object),
        perQuery: {
          ...(bench.queryTls as { perQuery: object }).perQuery,
          itemTotal: (bench.queryTls as { perQuery: Record<string, unknown> }).perQuery.monthlySalesByItem,
        },
      },
    };

    it(
      'rates the new query, and every figure of the report is a finite number',
      () => {
        // Act
        const run = runCapacityModel('prod', { registry, distDir }, timed);

        // Assess
        expect(run.report.queries.map((query) => query.name)).toEqual(registry.queries.map((query) => query.name));
        const itemTotal = run.report.queries.find((query) => query.name === 'itemTotal');
        expect(itemTotal?.perSecond).toBeGreaterThan(0);
        expect(itemTotal?.assumption).toMatch(/^2 concurrent executions/);
        for (const report of [run.report, run.original]) {
          expect(numbers(report).filter(([, value]) => !Number.isFinite(value))).toEqual([]);
          expect(strings(report).filter((text) => /NaN|undefined|Infinity/.test(text))).toEqual([]);
        }
      },
      budget({ seconds: 10 }),
    );

    it("draws the new query's line in the latency chart, beside the original's and ours", () => {
      const chart = queryChart(timed.queries as unknown as Parameters<typeof queryChart>[0], registry.queries);

      expect(chart).toContain('>itemTotal (aggregates)</text>');
      expect(chart).toContain('>original itemsSalesReport (GROUP BY)</text>');
      expect(chart.match(/<polyline /g)).toHaveLength(registry.queries.length + 2);
      expect(chart).not.toMatch(/NaN|undefined|Infinity/);
    });

    it(
      'names the query when the benchmark has no time for it, rather than printing NaN',
      () => {
        expect(() => runCapacityModel('prod', { registry, distDir }, bench)).toThrow('the benchmark has no time for the query itemTotal');
      },
      budget({ seconds: 10 }),
    );
  });

  it(
    'appears in the IAM inventory of every environment, with no problem in any statement',
    () => {
      // Act
      const inventory = synthesizeInventoryRows({ registry, distDir });

      // Assess
      expect(Object.keys(inventory)).toEqual([...ENVIRONMENT_NAMES]);
      for (const [environment, rows] of Object.entries(inventory)) {
        const identities = new Set(rows.map((row) => row.identity));
        for (const name of [...Object.values(FunctionName), itemTotalQuery.functionName])
          expect(identities).toContain(`order-pipeline-${environment}-${name}-role`);
        expect(rows.filter((row) => row.identity === `order-pipeline-${environment}-item-total-role`).length).toBeGreaterThan(2);
        expect(rows.flatMap((row) => row.problems)).toEqual([]);
      }
    },
    budget({ seconds: 5 * ENVIRONMENT_NAMES.length }),
  );

  it("is timed by the benchmark, asked with values of the data's own, and a query with an argument the data cannot sample is named", () => {
    // Act
    const plan = queryBenchPlan(registry.queries, argumentSamples({ itemCount: 500, orderIds: ['q10000-1'] }));

    // Assess
    expect(plan.map((entry) => entry.query.name)).toEqual(registry.queries.map((query) => query.name));
    for (const { query, detail } of plan) expect(() => query.parse(detail())).not.toThrow();
    expect(plan.find((entry) => entry.query.name === 'itemTotal')?.detail()).toEqual({ query: 'itemTotal', itemid: expect.stringMatching(/^item-\d{3}$/) });
    const colour = { ...itemTotalQuery, name: 'itemsByColour', arguments: ['colour'] };
    expect(() => queryBenchPlan([...registry.queries, colour], argumentSamples({ itemCount: 500, orderIds: [] }))).toThrow(
      "the benchmark has no sample value for itemsByColour's argument colour",
    );
  });
});
