import { commandWriteOperations } from '../handlers/commands/registry';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import type { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import type { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicPolicy } from '@cdktf/provider-aws/lib/sns-topic-policy';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { PipelineMetric, metricsNamespace, type ResourceNames } from '../config/pipeline';
import { policyDocument } from './constructs/iam';
import type { EncryptedTable } from './constructs/encrypted-table';
import type { FunctionMetric, NodejsFunction } from './constructs/nodejs-function';
import type { RuleTarget } from './workflow-stack';
import { PipelineStack } from './pipeline-stack';

/** Options of {@link MonitoringStack}. */
export interface MonitoringStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly key: KmsKey;
  readonly cluster: RdsCluster;
  /** Every instance of the cluster: capacity is alarmed per instance. */
  readonly instances: readonly RdsClusterInstance[];
  /** The orders table: what its stream must deliver to the projection. */
  readonly ordersTable: EncryptedTable;
  /** The stream → projection mapping (its event-count metrics). */
  readonly streamMapping: LambdaEventSourceMapping;
  readonly functions: readonly NodejsFunction[];
  readonly projection: NodejsFunction;
  readonly queryFunctions: readonly NodejsFunction[];
  readonly stateMachine: SfnStateMachine;
  /** The bus's rules with their targets (the workflow rule's first: the dashboard counts its matches). */
  readonly ruleTargets: readonly RuleTarget[];
  readonly busName: string;
  readonly deadLetterQueues: readonly SqsQueue[];
}

/** One alarm as the stack declares it (the synth tests read these too). */
interface AlarmSpec {
  readonly id: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: 'Sum' | 'Maximum';
  readonly threshold: number;
  /**
   * Consecutive 5-minute periods that must breach. @default 1
   * More for a condition that is normal in a burst and a problem only when it lasts.
   */
  readonly periods?: number;
}

/**
 * What an operator needs on day one: an alarm for every way the pipeline can
 * lose or delay work, each notifying one SNS topic (encrypted with the
 * project key), and one dashboard of the whole flow. Thresholds come from the
 * environment's config.
 */
export class MonitoringStack extends PipelineStack {
  readonly topic: SnsTopic;
  readonly alarms: CloudwatchMetricAlarm[] = [];
  readonly alarmSpecs: AlarmSpec[] = [];
  readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, options: MonitoringStackOptions) {
    super(scope, id, options.config);
    const { config, names } = options;

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
    config.alarms.emails.forEach((email, index) => new SnsTopicSubscription(this, `alarms-email-${index}`, { topicArn: this.topic.arn, protocol: 'email', endpoint: email }));

    const alarm = (spec: AlarmSpec) => {
      this.alarmSpecs.push(spec);
      this.alarms.push(
        new CloudwatchMetricAlarm(this, spec.id, {
          alarmName: `${names.prefix}-${spec.id}`,
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
    };

    for (const queue of options.deadLetterQueues) {
      alarm({
        id: `${queue.friendlyUniqueId}-not-empty`,
        description: `${queue.name} holds messages: work was not done; fix the cause, then npm run redrive`,
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: queue.name },
        statistic: 'Maximum',
        threshold: 0,
      });
    }
    alarm({
      id: 'projection-lag',
      description: `the read model is more than ${config.alarms.iteratorAgeSeconds} s behind the orders table (stream IteratorAge)`,
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensions: { FunctionName: options.projection.function.functionName },
      statistic: 'Maximum',
      threshold: config.alarms.iteratorAgeSeconds * 1000,
    });
    for (const fn of options.functions) {
      alarm({
        id: `${fn.node.id}-errors`,
        description: `${fn.node.id} failed (errors per 5 minutes above ${config.alarms.functionErrors})`,
        ...fn.metricErrors(),
        threshold: config.alarms.functionErrors,
      });
      // A throttled stream batch or workflow task is retried, so a burst of throttles is
      // back-pressure; throttling that lasts 15 minutes means the concurrency is too low.
      alarm({
        id: `${fn.node.id}-throttles`,
        description: `${fn.node.id} has been throttled at its reserved concurrency for 15 minutes: raise it (for project-orders, projection.expectedShards) within the connection budget`,
        ...fn.metricThrottles(),
        threshold: config.alarms.functionThrottles,
        periods: 3,
      });
    }
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      alarm({
        id: `workflow-${metricName.toLowerCase()}`,
        description: `workflow executions ${metricName === 'ExecutionsFailed' ? 'failed (unroutable input, or a response that could not be published)' : 'timed out'}`,
        namespace: 'AWS/States',
        metricName,
        dimensions: { StateMachineArn: options.stateMachine.arn },
        statistic: 'Sum',
        threshold: config.alarms.executionsFailed,
      });
    }
    alarm({
      id: 'workflow-executionthrottled',
      description: 'Step Functions throttled workflow executions (the StartExecution quota): commands and queries wait in the rule\'s retries',
      namespace: 'AWS/States',
      metricName: 'ExecutionThrottled',
      dimensions: { StateMachineArn: options.stateMachine.arn },
      statistic: 'Sum',
      threshold: 0,
    });
    // A mapping that stops invoking (disabled, a lost permission) publishes no IteratorAge
    // and no Errors; its event counts still say what happened to the records.
    // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html (event source mapping metrics)
    for (const [metricName, meaning] of [
      ['FailedInvokeEventCount', 'the stream mapping could not invoke the projection (throttled, a lost permission, a deleted function)'],
      ['DroppedEventCount', 'the stream mapping dropped records (past their age or retries): redrive them from the on-failure queue'],
    ] as const) {
      alarm({
        id: `projection-${metricName.replace('EventCount', '').toLowerCase()}-events`,
        description: meaning,
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: { EventSourceMappingUUID: options.streamMapping.uuid },
        statistic: 'Sum',
        threshold: 0,
      });
    }
    this.alarms.push(projectionStoppedAlarm(this, { config, names, topicArn: this.topic.arn, ordersTable: options.ordersTable, projection: options.projection }));
    for (const { rule, target } of options.ruleTargets) {
      // Only a target with a dead-letter queue can fail to send to one (the responses target has none:
      // a failed delivery to its log group shows in FailedInvocations).
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html (InvocationsFailedToBeSentToDlq)
      if (target.deadLetterConfigInput?.arn !== undefined) {
        alarm({
          id: `${rule.friendlyUniqueId}-dlq-send-failed`,
          description: `the rule ${rule.name} could not put a failed event on its dead-letter queue: the event is lost (queue policy or key problem)`,
          namespace: 'AWS/Events',
          metricName: 'InvocationsFailedToBeSentToDlq',
          dimensions: { RuleName: rule.name, EventBusName: options.busName },
          statistic: 'Sum',
          threshold: 0,
        });
      }
      alarm({
        id: `${rule.friendlyUniqueId}-failed-invocations`,
        description: `the rule ${rule.name} could not deliver to its target (role, target or quota problem)`,
        namespace: 'AWS/Events',
        metricName: 'FailedInvocations',
        dimensions: { RuleName: rule.name, EventBusName: options.busName },
        statistic: 'Sum',
        threshold: 0,
      });
    }
    // Per instance: at cluster level the capacity metric averages the instances, so a writer
    // at its maximum beside an idle reader would never cross the threshold. ACUUtilization is
    // an instance's capacity as a percentage of the cluster's maximum.
    // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
    options.instances.forEach((instance, index) => {
      alarm({
        id: `database-capacity-${index + 1}`,
        description: `read-model instance ${index + 1} runs above ${Math.round(config.alarms.capacityRatio * 100)}% of the maximum capacity (${config.aurora.maxCapacity} ACU): raise aurora.maxCapacity`,
        namespace: 'AWS/RDS',
        metricName: 'ACUUtilization',
        dimensions: { DBInstanceIdentifier: instance.identifier },
        statistic: 'Maximum',
        threshold: config.alarms.capacityRatio * 100,
      });
    });

    const namespace = metricsNamespace(config.environment);
    const widget = (title: string, metrics: unknown[][], extra: Record<string, unknown> = {}) => ({
      type: 'metric',
      width: 12,
      height: 6,
      properties: { title, region: config.region, view: 'timeSeries', stat: 'Sum', period: 300, metrics, ...extra },
    });
    this.dashboard = new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: names.prefix,
      dashboardBody: JSON.stringify({
        widgets: [
          widget('Commands in (workflow rule matches)', [['AWS/Events', 'MatchedEvents', 'RuleName', options.ruleTargets[0]?.rule.name ?? '', 'EventBusName', options.busName]]),
          widget('Command answers by status', [
            [namespace, PipelineMetric.commandsAccepted, 'service', 'order-pipeline'],
            [{ expression: `SEARCH('{${namespace},errorCode,service} MetricName="${PipelineMetric.commandsRefused}"', 'Sum', 300)`, label: 'refused by code' }],
          ]),
          widget('Query answers by status', [[{ expression: `SEARCH('{${namespace},query,queryStatus,service} MetricName="${PipelineMetric.queriesAnswered}"', 'Sum', 300)`, label: 'answers' }]]),
          widget('Projection lag (IteratorAge, ms) and batch sizes', [
            ['AWS/Lambda', 'IteratorAge', 'FunctionName', options.projection.function.functionName, { stat: 'Maximum' }],
            [namespace, PipelineMetric.batchSize, 'service', 'order-pipeline', { stat: 'Average', yAxis: 'right' }],
            [namespace, PipelineMetric.ordersProjected, 'service', 'order-pipeline', { yAxis: 'right' }],
            [namespace, PipelineMetric.duplicatesSkipped, 'service', 'order-pipeline', { yAxis: 'right' }],
          ]),
          widget(
            'Dead-letter queue depths',
            options.deadLetterQueues.map((queue) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue.name, { stat: 'Maximum' }]),
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
      }),
    });

    new TerraformOutput(this, 'AlarmTopicArn', { value: this.topic.arn, description: 'Subscribe on-call here (email subscriptions come from config)' });
    new TerraformOutput(this, 'DashboardName', { value: this.dashboard.dashboardName });
  }
}

/** The math of {@link projectionStoppedAlarm}: the query ids and the expression over them. */
const PROJECTION_STOPPED = {
  invocationsId: 'projections',
  /**
   * 1 in a period with orders written and no projection invocation, else 0. Both metrics are
   * published only when something happens, so FILL makes an absent one 0; a comparison is 1 or 0
   * and IF picks its value by it (CloudWatch metric math functions and operators:
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
   */
  expression: (writeIds: readonly string[]) => `IF((${writeIds.map((id) => `FILL(${id}, 0)`).join(' + ')}) > 0 AND FILL(projections, 0) == 0, 1, 0)`,
  /** Of the last three periods, two must breach: an order written in a period's last seconds is projected in the next. */
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
} as const;

/**
 * A period that holds two batching windows of the stream mapping and a minute for the stream,
 * at least 5 minutes: a working projection invokes in every period that has orders but, at most,
 * the one whose orders came in its last seconds.
 */
function projectionStoppedPeriod(config: EnvironmentConfig): number {
  return Math.max(300, Math.ceil((2 * config.stream.maximumBatchingWindowInSeconds + 60) / 60) * 60);
}

/**
 * The alarm for a projection that stopped: a disabled stream mapping, an execution role or key
 * the mapping lost. Lambda publishes `IteratorAge`, `Errors` and `Invocations` only when it
 * invokes, so none of the other alarms sees it; this one compares the orders written (each
 * command's conditional write: a stream record the mapping must deliver) with the projection's invocations, with metric math.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html
 */
function projectionStoppedAlarm(
  scope: Construct,
  options: { config: EnvironmentConfig; names: ResourceNames; topicArn: string; ordersTable: EncryptedTable; projection: NodejsFunction },
): CloudwatchMetricAlarm {
  const period = projectionStoppedPeriod(options.config);
  // Each command's write makes a stream record the mapping must deliver (creates INSERT, cancels MODIFY).
  const writes = commandWriteOperations();
  const writeId = (operation: string) => `writes_${operation.toLowerCase()}`;
  const metric = (id: string, source: FunctionMetric | ReturnType<EncryptedTable['metricSuccessfulRequests']>) => ({
    id,
    returnData: false,
    metric: { namespace: source.namespace, metricName: source.metricName, dimensions: source.dimensions, stat: source.statistic, period },
  });
  return new CloudwatchMetricAlarm(scope, 'projection-stopped', {
    alarmName: `${options.names.prefix}-projection-stopped`,
    alarmDescription: `orders were written but the projection was not invoked in ${PROJECTION_STOPPED.datapointsToAlarm} of the last ${PROJECTION_STOPPED.evaluationPeriods} periods of ${period / 60} minutes: the stream mapping is disabled or cannot invoke (its role, the table key); the read model is falling behind`,
    metricQuery: [
      { id: 'stopped', expression: PROJECTION_STOPPED.expression(writes.map(writeId)), label: 'orders written, projection not invoked', returnData: true },
      ...writes.map((operation) => metric(writeId(operation), options.ordersTable.metricSuccessfulRequests(operation))),
      metric(PROJECTION_STOPPED.invocationsId, options.projection.metricInvocations()),
    ],
    evaluationPeriods: PROJECTION_STOPPED.evaluationPeriods,
    datapointsToAlarm: PROJECTION_STOPPED.datapointsToAlarm,
    threshold: 0,
    comparisonOperator: 'GreaterThanThreshold',
    treatMissingData: 'notBreaching',
    alarmActions: [options.topicArn],
    okActions: [options.topicArn],
  });
}
