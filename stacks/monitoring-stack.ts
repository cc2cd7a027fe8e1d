import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { TerraformOutput } from 'cdktf';
import type { Construct, IConstruct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { PipelineMetric, metricsNamespace, type ResourceNames } from '../config/pipeline';
import { alarmedConstructs, type AlarmSink, type AlarmSpec, type MathAlarmSpec } from './constructs/alarms';
import type { BusRule } from './constructs/bus-rule';
import { DeadLetterQueue } from './constructs/dead-letter-queue';
import { policyDocument } from './constructs/iam';
import type { NodejsFunction } from './constructs/nodejs-function';
import { PipelineStack } from './pipeline-stack';

/** Options of {@link MonitoringStack}. */
export interface MonitoringStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly key: KmsKey;
  /**
   * The stacks to watch: every construct in them that offers alarms (functions, queues, rules, the
   * stream mapping, the state machine, the database instances) gets them, found from the construct
   * tree, so nothing keeps a second list.
   */
  readonly watch: readonly IConstruct[];
  /** What the dashboard shows by name. */
  readonly cluster: RdsCluster;
  readonly projection: NodejsFunction;
  readonly queryFunctions: readonly NodejsFunction[];
  /** The rule that takes commands and queries in (the dashboard counts its matches). */
  readonly intakeRule: BusRule;
}

/**
 * What an operator needs on day one: an alarm for every way the pipeline can
 * lose or delay work, each notifying one SNS topic (encrypted with the
 * project key), and one dashboard of the whole flow. Thresholds come from the
 * environment's config.
 */
export class MonitoringStack extends PipelineStack implements AlarmSink {
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  readonly alarmSpecs: AlarmSpec[] = [];
  readonly dashboard: CloudwatchDashboard;
  readonly #names: ResourceNames;

  constructor(scope: Construct, id: string, options: MonitoringStackOptions) {
    super(scope, id, options.config);
    const { config, names } = options;
    this.#names = names;
    this.topic = new SnsTopic(this, 'alarms', { name: `${names.prefix}-alarms`, kmsMasterKeyId: options.key.arn });
    new SnsTopicPolicy(this, 'alarms-policy', {
      arn: this.topic.arn,
      policy: policyDocument([
        {
          Sid: 'PipelineAlarmsPublish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['sns:Publish'],
          Resource: [this.topic.arn],
          Condition: {
            StringEquals: { 'aws:SourceAccount': this.accountId },
            ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${config.region}:${this.accountId}:alarm:${names.prefix}-*` },
          },
        },
      ]),
    });
    config.alarms.emails.forEach(
      (email, index) => new SnsTopicSubscription(this, `alarms-email-${index}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email }),
    );

    // Every resource that knows how it fails says so: found from the construct tree, never listed here.
    for (const resource of alarmedConstructs(options.watch)) resource.addAlarms(this);
    const deadLetterQueues = options.watch.flatMap((stack) =>
      stack.node.findAll().filter((construct): construct is DeadLetterQueue => construct instanceof DeadLetterQueue),
    );
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', { dashboardName: names.prefix, dashboardBody: dashboardBody(options, deadLetterQueues) });

    new TerraformOutput(this, 'AlarmTopicArn', { value: this.topic.arn, description: 'Subscribe on-call here (email subscriptions come from config)' });
    new TerraformOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }

  /** Adds a threshold alarm over 5-minute periods, notifying the topic on alarm and on recovery. */
  alarm(spec: AlarmSpec): void {
    this.alarmSpecs.push(spec);
    this.alarms.push(
      new CloudwatchMetricAlarm(this, spec.id, {
        alarmName: `${this.#names.prefix}-${spec.id}`,
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        dimensions: spec.dimensions,
        statistic: spec.statistic,
        period: 300,
        evaluationPeriods: spec.periods ?? 1,
        datapointsToAlarm: spec.periods ?? 1,
        threshold: spec.threshold,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [this.topic.arn],
        okActions: [this.topic.arn],
      }),
    );
  }

  /** Adds an alarm over metric math (breaching above 0), notifying the topic on alarm and on recovery. */
  mathAlarm(spec: MathAlarmSpec): void {
    this.alarms.push(
      new CloudwatchMetricAlarm(this, spec.id, {
        alarmName: `${this.#names.prefix}-${spec.id}`,
        alarmDescription: spec.description,
        metricQuery: [...spec.metricQuery],
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [this.topic.arn],
        okActions: [this.topic.arn],
      }),
    );
  }
}

/** The dashboard of the whole flow: intake, answers, projection, dead letters, database, query latency. */
function dashboardBody(options: MonitoringStackOptions, deadLetterQueues: readonly DeadLetterQueue[]): string {
  const { config } = options;
  const namespace = metricsNamespace(config.environment);
  const widget = (title: string, metrics: unknown[][], extra: Record<string, unknown> = {}) => ({
    type: 'metric',
    width: 12,
    height: 6,
    properties: { title, region: config.region, view: 'timeSeries', stat: 'Sum', period: 300, metrics, ...extra },
  });
  const matched = options.intakeRule.metric('MatchedEvents');
  return JSON.stringify({
    widgets: [
      widget('Commands in (workflow rule matches)', [
        [matched.namespace, matched.metricName, 'RuleName', options.intakeRule.name, 'EventBusName', options.intakeRule.busName],
      ]),
      widget('Command answers by status', [
        [namespace, PipelineMetric.commandsAccepted, 'service', 'order-pipeline'],
        [{ expression: `SEARCH('{${namespace},errorCode,service} MetricName="${PipelineMetric.commandsRefused}"', 'Sum', 300)`, label: 'refused by code' }],
      ]),
      widget('Query answers by status', [
        [{ expression: `SEARCH('{${namespace},query,queryStatus,service} MetricName="${PipelineMetric.queriesAnswered}"', 'Sum', 300)`, label: 'answers' }],
      ]),
      widget('Projection lag (IteratorAge, ms) and batch sizes', [
        ['AWS/Lambda', 'IteratorAge', 'FunctionName', options.projection.function.functionName, { stat: 'Maximum' }],
        [namespace, PipelineMetric.batchSize, 'service', 'order-pipeline', { stat: 'Average', yAxis: 'right' }],
        [namespace, PipelineMetric.ordersProjected, 'service', 'order-pipeline', { yAxis: 'right' }],
        [namespace, PipelineMetric.duplicatesSkipped, 'service', 'order-pipeline', { yAxis: 'right' }],
      ]),
      widget(
        'Dead-letter queue depths',
        deadLetterQueues.map((queue) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue.name, { stat: 'Maximum' }]),
      ),
      widget('Database capacity (ACU) and connections', [
        ['AWS/RDS', 'ServerlessDatabaseCapacity', 'DBClusterIdentifier', options.cluster.clusterIdentifier, { stat: 'Maximum' }],
        ['AWS/RDS', 'DatabaseConnections', 'DBClusterIdentifier', options.cluster.clusterIdentifier, { stat: 'Maximum', yAxis: 'right' }],
      ]),
      widget(
        'Query latency (ms, p50 and p99)',
        options.queryFunctions.flatMap((fn) => [
          ['AWS/Lambda', 'Duration', 'FunctionName', fn.function.functionName, { stat: 'p50', label: `${fn.node.id} p50` }],
          ['AWS/Lambda', 'Duration', 'FunctionName', fn.function.functionName, { stat: 'p99', label: `${fn.node.id} p99` }],
        ]),
      ),
    ],
  });
}
