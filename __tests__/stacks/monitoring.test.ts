/**
 * Alarms and the dashboard as code: every alarm the operations section
 * promises, with its metric, threshold from config and action; the topic they
 * notify, encrypted with the project key that CloudWatch may use; the
 * dashboard's widgets.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS } from '../../config/environments';
import { FunctionName } from '../../stacks/catalogue';
import { resource, resources, synthesize, type SynthesizedApp } from '../helpers/synth';

let app: SynthesizedApp;

beforeAll(() => {
  app = synthesize({ ...ENVIRONMENTS.prod, alarms: { ...ENVIRONMENTS.prod.alarms, emails: ['oncall@example.com'] } });
});

const alarms = () => resources(app.json.monitoring, 'aws_cloudwatch_metric_alarm');
const alarmOn = (metric: string, dimension: (dimensions: Record<string, string>) => boolean = () => true) =>
  alarms().filter((alarm) => alarm.metric_name === metric && dimension(alarm.dimensions as Record<string, string>));

describe('alarms', () => {
  it('notify the alarm topic, on alarm and on recovery, and treat missing data as fine', () => {
    const topic = `\${aws_sns_topic.${resource(app.json.monitoring, 'aws_sns_topic').__id}.arn}`;
    expect(alarms().length).toBeGreaterThan(20);
    for (const alarm of alarms()) {
      expect(alarm).toMatchObject({
        alarm_actions: [topic],
        ok_actions: [topic],
        treat_missing_data: 'notBreaching',
        comparison_operator: 'GreaterThanThreshold',
      });
      expect(String(alarm.alarm_name)).toMatch(/^order-pipeline-prod-/);
    }
  });

  it("watch every dead-letter queue for any message: the projection's, the workflow rule's and the bus's", () => {
    const depth = alarmOn('ApproximateNumberOfMessagesVisible');
    expect(depth.map((alarm) => [alarm.namespace, alarm.threshold, alarm.statistic])).toEqual([
      ['AWS/SQS', 0, 'Maximum'],
      ['AWS/SQS', 0, 'Maximum'],
      ['AWS/SQS', 0, 'Maximum'],
    ]);
    const queues = depth.map((alarm) => String((alarm.dimensions as Record<string, string>).QueueName).replace(/^.*aws_sqs_queue(.+)name\}$/, '$1')).sort();
    expect(queues).toEqual(['bus-dlq', 'projection-failures', 'workflow-dlq']);
  });

  it('watch the projection lag with the configured threshold', () => {
    expect(alarmOn('IteratorAge')).toEqual([
      expect.objectContaining({ namespace: 'AWS/Lambda', statistic: 'Maximum', threshold: ENVIRONMENTS.prod.alarms.iteratorAgeSeconds * 1000 }),
    ]);
  });

  it('watch every function the compute stack creates for errors and throttles, found from its constructs (no second list)', () => {
    const synthesized = Object.keys(app.json.compute.resource.aws_lambda_function ?? {});
    expect(synthesized).toHaveLength(Object.keys(FunctionName).length);
    for (const metric of ['Errors', 'Throttles']) {
      const alarmed = alarmOn(metric).map((alarm) => (alarm.dimensions as Record<string, string>).FunctionName);
      expect(alarmed).toHaveLength(synthesized.length);
      for (const id of synthesized) expect(alarmed.some((dimension) => String(dimension).includes(id))).toBe(true);
    }
    expect(app.stacks.compute.functions.map((fn) => fn.key).sort()).toEqual(Object.keys(FunctionName).sort());
  });

  it('watch the workflow for failed and timed-out executions, and the rules for failed deliveries', () => {
    expect(alarmOn('ExecutionsFailed')).toHaveLength(1);
    expect(alarmOn('ExecutionsTimedOut')).toHaveLength(1);
    expect(alarmOn('FailedInvocations').map((alarm) => (alarm.dimensions as Record<string, string>).RuleName)).toHaveLength(2);
  });

  it('watch each database instance near the maximum capacity, not the cluster average', () => {
    // A writer at 16 ACU beside an idle reader averages about 8 at cluster level: only a per-instance alarm fires.
    const capacity = alarmOn('ACUUtilization');
    expect(capacity.map((alarm) => [alarm.namespace, alarm.threshold, Object.keys(alarm.dimensions as object)])).toEqual([
      ['AWS/RDS', ENVIRONMENTS.prod.alarms.capacityRatio * 100, ['DBInstanceIdentifier']],
      ['AWS/RDS', ENVIRONMENTS.prod.alarms.capacityRatio * 100, ['DBInstanceIdentifier']],
    ]);
    expect(capacity.map((alarm) => (alarm.dimensions as Record<string, string>).DBInstanceIdentifier)).toEqual([
      expect.stringMatching(/aws_rds_cluster_instanceread-model-instanceidentifier/),
      expect.stringMatching(/aws_rds_cluster_instanceread-model-instance-2identifier/),
    ]);
    expect(alarmOn('ServerlessDatabaseCapacity', (dimensions) => 'DBClusterIdentifier' in dimensions)).toEqual([]);
  });

  it('notice a stalled projection, events lost on the way to a dead-letter queue, and throttled executions', () => {
    const mapping = resource(app.json.compute, 'aws_lambda_event_source_mapping');
    expect(mapping.metrics_config).toEqual({ metrics: ['EventCount'] });
    for (const metric of ['FailedInvokeEventCount', 'DroppedEventCount']) {
      expect(alarmOn(metric)).toEqual([
        expect.objectContaining({
          namespace: 'AWS/Lambda',
          statistic: 'Sum',
          threshold: 0,
          dimensions: { EventSourceMappingUUID: expect.stringMatching(/aws_lambda_event_source_mapping.*uuid/) },
        }),
      ]);
    }
    // Only the workflow rule's target has a dead-letter queue (the responses target has none).
    expect(alarmOn('InvocationsFailedToBeSentToDlq').map((alarm) => (alarm.dimensions as Record<string, string>).RuleName)).toEqual([
      expect.stringMatching(/aws_cloudwatch_event_ruleworkflow-rulename/),
    ]);
    expect(alarmOn('ExecutionThrottled')).toEqual([expect.objectContaining({ namespace: 'AWS/States', threshold: 0 })]);
  });

  it('alarm on throttles only when they last 15 minutes: retried throttles in a burst are back-pressure', () => {
    for (const alarm of alarmOn('Throttles')) expect(alarm).toMatchObject({ period: 300, evaluation_periods: 3, datapoints_to_alarm: 3 });
    for (const alarm of alarmOn('Errors')) expect(alarm).toMatchObject({ evaluation_periods: 1, datapoints_to_alarm: 1 });
  });
});

describe('the alarm topic', () => {
  it('is encrypted with the project key, which lets CloudWatch publish, and only this account’s alarms may publish', () => {
    const topic = resource(app.json.monitoring, 'aws_sns_topic');
    expect(String(topic.kms_master_key_id)).toContain('aws_kms_key');
    const keyPolicy = JSON.parse(resource(app.json.data, 'aws_kms_key').policy as string) as {
      Statement: { Sid: string; Principal: unknown; Action: string[] }[];
    };
    expect(keyPolicy.Statement.find((statement) => statement.Sid === 'CloudWatchAlarmsUseTopicKey')).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    });
    const topicPolicy = JSON.parse(resource(app.json.monitoring, 'aws_sns_topic_policy').policy as string) as {
      Statement: { Condition: Record<string, unknown> }[];
    };
    expect(topicPolicy.Statement[0]?.Condition).toEqual(expect.objectContaining({ StringEquals: expect.any(Object), ArnLike: expect.any(Object) }));
  });

  it('subscribes the emails from config', () => {
    expect(resources(app.json.monitoring, 'aws_sns_topic_subscription').map((subscription) => [subscription.protocol, subscription.endpoint])).toEqual([
      ['email', 'oncall@example.com'],
    ]);
  });
});

describe('the dashboard', () => {
  it('shows the whole flow: commands in, answers by status, projection lag and batches, DLQ depths, database capacity and connections, query latency', () => {
    const body = resource(app.json.monitoring, 'aws_cloudwatch_dashboard').dashboard_body as string;
    const widgets = (JSON.parse(body.replace(/\$\{[^}]+\}/g, 'x')) as { widgets: { properties: { title: string } }[] }).widgets.map(
      (widget) => widget.properties.title,
    );
    expect(widgets).toEqual([
      'Commands in (workflow rule matches)',
      'Command answers by status',
      'Query answers by status',
      'Projection lag (IteratorAge, ms) and batch sizes',
      'Dead-letter queue depths',
      'Database capacity (ACU) and connections',
      'Query latency (ms, p50 and p99)',
    ]);
    for (const metric of [
      'MatchedEvents',
      'CommandsAccepted',
      'CommandsRefused',
      'QueriesAnswered',
      'IteratorAge',
      'ProjectionBatchSize',
      'ApproximateNumberOfMessagesVisible',
      'ServerlessDatabaseCapacity',
      'DatabaseConnections',
      'Duration',
    ]) {
      expect(body).toContain(metric);
    }
  });
});
