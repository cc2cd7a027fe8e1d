/**
 * The alarm for a projection that stopped (a disabled stream mapping, a role
 * or key it lost): Lambda then publishes nothing for the projection, so the
 * alarm compares the orders written with the projection's invocations in
 * metric math. Its synthesized expression is evaluated over sample data
 * points with a small evaluator of CloudWatch metric math.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS, type EnvironmentConfig } from '../../config/environments';
import { alarmFires, evaluateMetricMath, type Series, type SynthesizedAlarm } from '../helpers/metric-math';
import { resource, resources, synthesize } from '../helpers/synth';

const withSubscriber = (config: EnvironmentConfig): EnvironmentConfig => ({ ...config, alarms: { ...config.alarms, emails: ['oncall@example.com'] } });

/** The synthesized alarm of an environment, with what its metrics must point at. */
function stoppedProjectionAlarm(config: EnvironmentConfig) {
  const app = synthesize(withSubscriber(config));
  const alarm = resource(app.json.monitoring, 'aws_cloudwatch_metric_alarm', (properties) =>
    Array.isArray(properties.metric_query),
  ) as unknown as SynthesizedAlarm & Record<string, unknown>;
  const ordersTable = resource(app.json.data, 'aws_dynamodb_table', (table) => table.stream_enabled === true);
  const projection = resource(app.json.compute, 'aws_lambda_function', (fn) => String(fn.function_name).endsWith('project-orders'));
  return { alarm, ordersTableId: ordersTable.__id, projectionId: projection.__id };
}

type Role = 'commandsIn' | 'invocations';

/**
 * The series of each metric query by what it measures: successful `PutItem`s on the orders table
 * (each one an INSERT its stream must deliver), the projection function's invocations.
 */
function sampleData(ids: { ordersTableId: string; projectionId: string }, samples: Record<Role, Series> & { changesIn?: Series }) {
  return (metric: NonNullable<SynthesizedAlarm['metric_query'][number]['metric']>): Series => {
    if (
      metric.namespace === 'AWS/DynamoDB' &&
      metric.metric_name === 'SuccessfulRequestLatency' &&
      metric.stat === 'SampleCount' &&
      (metric.dimensions.Operation === 'PutItem' || metric.dimensions.Operation === 'UpdateItem') &&
      metric.dimensions.TableName?.includes(`aws_dynamodb_table${ids.ordersTableId}name`)
    ) {
      // Creates (PutItem) carry the commands in; cancels (UpdateItem) none unless given.
      return metric.dimensions.Operation === 'PutItem' ? samples.commandsIn : (samples.changesIn ?? samples.commandsIn.map(() => null));
    }
    if (
      metric.namespace === 'AWS/Lambda' &&
      metric.metric_name === 'Invocations' &&
      metric.stat === 'Sum' &&
      metric.dimensions.FunctionName?.includes(`aws_lambda_function${ids.projectionId}function_name`)
    ) {
      return samples.invocations;
    }
    throw new Error(`the alarm reads a metric the test has no samples for: ${JSON.stringify(metric)}`);
  };
}

const none: Series = [null, null, null];

describe('the stopped-projection alarm', () => {
  it.each(Object.keys(ENVIRONMENTS) as (keyof typeof ENVIRONMENTS)[])(
    'exists in %s, over the metrics of the synthesized resources (creates, cancels, invocations)',
    (name) => {
      const { alarm, ...ids } = stoppedProjectionAlarm(ENVIRONMENTS[name]);
      expect(alarm.metric_query.filter((query) => query.metric)).toHaveLength(3);
      // Cancels alone, with the projection stopped, fire it too.
      expect(alarmFires(alarm, sampleData(ids, { commandsIn: none, changesIn: [1, 1, 1], invocations: none }))).toBe(true);
      // Every metric query resolves to one of the two roles (sampleData throws otherwise).
      expect(alarmFires(alarm, sampleData(ids, { commandsIn: [1, 1, 1], invocations: none }))).toBe(true);
      const periods = alarm.metric_query.flatMap((query) => (query.metric ? [query.metric.period] : []));
      expect(new Set(periods).size).toBe(1);
      expect((periods[0] as number) % 60).toBe(0);
      expect(periods[0] as number).toBeGreaterThanOrEqual(2 * ENVIRONMENTS[name].stream.maximumBatchingWindowInSeconds + 60);
    },
  );

  let alarm: ReturnType<typeof stoppedProjectionAlarm>['alarm'];
  let ids: { ordersTableId: string; projectionId: string };
  beforeAll(() => {
    ({ alarm, ...ids } = stoppedProjectionAlarm(ENVIRONMENTS.prod));
  });
  const fires = (samples: Record<Role, Series>) => alarmFires(alarm, sampleData(ids, samples));

  it('fires when commands come in and the projection is never invoked (a disabled mapping publishes no Lambda metric at all)', () => {
    expect(fires({ commandsIn: [12, 9, 14], invocations: none })).toBe(true);
  });

  it('fires when a working projection stops while commands keep coming', () => {
    expect(fires({ commandsIn: [12, 9, 14], invocations: [4, null, null] })).toBe(true);
  });

  it('stays quiet when commands come in and the projection is invoked', () => {
    expect(fires({ commandsIn: [12, 9, 14], invocations: [3, 2, 4] })).toBe(false);
  });

  it('stays quiet when no command comes in (neither metric has a data point)', () => {
    expect(fires({ commandsIn: none, invocations: none })).toBe(false);
  });

  it('stays quiet for an order written at the end of a period and projected in the next', () => {
    expect(fires({ commandsIn: [1, null, null], invocations: [null, 1, null] })).toBe(false);
    expect(fires({ commandsIn: [null, 3, 2], invocations: [null, null, 5] })).toBe(false);
  });

  it('is the expression the evaluator models, point by point', () => {
    const expression = alarm.metric_query.find((query) => query.return_data)?.expression as string;
    const [orders, changes, invocations] = alarm.metric_query.filter((query) => query.metric).map((query) => query.id) as [string, string, string];
    // The evaluator itself: a missing point stays missing through arithmetic, FILL fills it.
    expect(evaluateMetricMath(`${orders} + 1`, { [orders]: [1, null], [invocations]: [null, null] })).toEqual([2, null]);
    expect(evaluateMetricMath(`FILL(${orders}, 0) * 2`, { [orders]: [1, null], [invocations]: [null, null] })).toEqual([2, 0]);
    expect(() => evaluateMetricMath('RATE(x)', { x: [1] })).toThrow('not modelled');
    // The alarm's own expression, with the metrics in either order of its queries.
    const byRole = (commandsIn: Series, invoked: Series) => ({ [orders]: commandsIn, [changes]: commandsIn.map(() => null), [invocations]: invoked });
    expect(evaluateMetricMath(expression, byRole([5, 5, null, null], [null, 2, 2, null]))).toEqual([1, 0, 0, 0]);
  });

  it('notifies the alarm topic like every other alarm', () => {
    const app = synthesize(withSubscriber(ENVIRONMENTS.prod));
    const topic = `\${aws_sns_topic.${resource(app.json.monitoring, 'aws_sns_topic').__id}.arn}`;
    expect(alarm).toMatchObject({ alarm_actions: [topic], ok_actions: [topic], alarm_name: 'order-pipeline-prod-projection-stopped' });
    expect(resources(app.json.monitoring, 'aws_cloudwatch_metric_alarm').filter((each) => Array.isArray(each.metric_query))).toHaveLength(1);
  });
});
