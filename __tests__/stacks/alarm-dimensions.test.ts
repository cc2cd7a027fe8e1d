/**
 * Every alarm watches something the synth creates: each dimension of each
 * alarm (and of each metric a metric-math alarm reads), resolved the way
 * Terraform resolves it (the local runtime's reader of the synthesized stacks,
 * cross-stack references included), names a resource of the stacks of the
 * kind the dimension means. A dead-letter alarm of a rule exists only when
 * that rule's target has a dead-letter queue.
 */
import { describe, expect, it } from '@jest/globals';
import { ENVIRONMENT_NAMES, ENVIRONMENTS } from '../../config/environments';
import { LOCAL_TYPES } from '../../local/services';
import { readSynthesizedStacks, TerraformModel, type TerraformResource } from '../../local/terraform';
import { budget } from '../helpers/budget';
import { synthesize } from '../helpers/synth';

const context = {
  region: 'us-east-1',
  account: '123456789012',
  endpoint: 'http://127.0.0.1:4566',
  database: { host: '127.0.0.1', port: 3306, name: 'orders' },
};

/** Dimension → the resource type and the attribute its value is. */
const DIMENSION_RESOURCES: Readonly<Record<string, { readonly type: string; readonly attribute: string }>> = {
  FunctionName: { type: 'aws_lambda_function', attribute: 'function_name' },
  QueueName: { type: 'aws_sqs_queue', attribute: 'name' },
  RuleName: { type: 'aws_cloudwatch_event_rule', attribute: 'name' },
  EventBusName: { type: 'aws_cloudwatch_event_bus', attribute: 'name' },
  StateMachineArn: { type: 'aws_sfn_state_machine', attribute: 'arn' },
  EventSourceMappingUUID: { type: 'aws_lambda_event_source_mapping', attribute: 'uuid' },
  DBInstanceIdentifier: { type: 'aws_rds_cluster_instance', attribute: 'identifier' },
  TableName: { type: 'aws_dynamodb_table', attribute: 'name' },
};

/** Dimensions that name no resource: a value of an enumeration. */
const VALUE_DIMENSIONS: Readonly<Record<string, readonly string[]>> = { Operation: ['PutItem', 'UpdateItem', 'DeleteItem', 'GetItem'] };

/** One metric an alarm reads: its name and dimensions, resolved. */
interface WatchedMetric {
  readonly alarm: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
}

function watchedMetrics(model: TerraformModel): WatchedMetric[] {
  return model.resources('aws_cloudwatch_metric_alarm').flatMap((alarm): WatchedMetric[] => {
    const name = model.string(alarm, 'alarm_name');
    const queries = (model.field(alarm, 'metric_query') as { metric?: { metric_name: string; dimensions?: Record<string, string> } }[] | undefined) ?? [];
    if (queries.length > 0)
      return queries
        .filter((query) => query.metric)
        .map((query) => ({ alarm: name, metricName: String(query.metric?.metric_name), dimensions: query.metric?.dimensions ?? {} }));
    return [
      {
        alarm: name,
        metricName: model.string(alarm, 'metric_name'),
        dimensions: (model.field(alarm, 'dimensions') as Record<string, string> | undefined) ?? {},
      },
    ];
  });
}

/** The value of a resource's attribute: a local attribute, else the argument of that name. */
function attributeOf(model: TerraformModel, resource: TerraformResource, attribute: string): unknown {
  return model.attributes(resource)[attribute] ?? model.field(resource, attribute);
}

/** What is wrong with one watched metric (nothing: an empty list). */
function problems(model: TerraformModel, watched: WatchedMetric): string[] {
  const found: string[] = [];
  for (const [dimension, value] of Object.entries(watched.dimensions)) {
    if (dimension in VALUE_DIMENSIONS) {
      if (!VALUE_DIMENSIONS[dimension]?.includes(value))
        found.push(`${watched.alarm}: ${dimension}=${value} is not one of ${VALUE_DIMENSIONS[dimension]?.join(', ')}`);
      continue;
    }
    const kind = DIMENSION_RESOURCES[dimension];
    if (!kind) {
      found.push(`${watched.alarm}: dimension ${dimension} is not known to this test (add what it names to DIMENSION_RESOURCES)`);
      continue;
    }
    if (!model.resources(kind.type).some((resource) => attributeOf(model, resource, kind.attribute) === value))
      found.push(`${watched.alarm}: ${dimension}=${value} names no ${kind.type} of the synth`);
  }
  if (watched.metricName === 'InvocationsFailedToBeSentToDlq') {
    const targets = model.resources('aws_cloudwatch_event_target').filter((target) => model.field(target, 'rule') === watched.dimensions.RuleName);
    if (!targets.some((target) => typeof model.field(target, 'dead_letter_config', 'arn') === 'string'))
      found.push(`${watched.alarm}: the rule ${watched.dimensions.RuleName} has no target with a dead-letter queue`);
  }
  return found;
}

function modelOf(environment: (typeof ENVIRONMENT_NAMES)[number]): TerraformModel {
  const config = ENVIRONMENTS[environment];
  const app = synthesize({ ...config, alarms: { ...config.alarms, emails: ['oncall@example.com'] } });
  return new TerraformModel(readSynthesizedStacks(app.outdir), context, LOCAL_TYPES);
}

describe('every alarm', () => {
  it.each(ENVIRONMENT_NAMES)(
    'names, in each of its dimensions, a resource the %s synth creates',
    (environment) => {
      // Prepare
      const model = modelOf(environment);

      // Act
      const watched = watchedMetrics(model);

      // Assess
      expect(watched.length).toBeGreaterThan(20);
      expect(watched.flatMap((metric) => problems(model, metric))).toEqual([]);
    },
    budget({ seconds: 20 }),
  );

  it('is checked: a dead-letter alarm on a rule whose target has no dead-letter queue, or a dimension naming nothing, is found', () => {
    // Prepare
    const model = modelOf('prod');
    const responsesRule = model
      .resources('aws_cloudwatch_event_rule')
      .map((rule) => model.string(rule, 'name'))
      .find((name) => name.endsWith('-responses')) as string;

    // Act
    const found = [
      ...problems(model, {
        alarm: 'invented-dlq',
        metricName: 'InvocationsFailedToBeSentToDlq',
        dimensions: { RuleName: responsesRule, EventBusName: 'order-pipeline-prod-bus' },
      }),
      ...problems(model, {
        alarm: 'invented-queue',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: 'order-pipeline-prod-responses-dlq' },
      }),
    ];

    // Assess
    expect(found).toEqual([
      `invented-dlq: the rule ${responsesRule} has no target with a dead-letter queue`,
      'invented-queue: QueueName=order-pipeline-prod-responses-dlq names no aws_sqs_queue of the synth',
    ]);
  });

  it('includes the dead-letter alarm of the workflow rule, whose target has its queue', () => {
    const watched = watchedMetrics(modelOf('prod')).filter((metric) => metric.metricName === 'InvocationsFailedToBeSentToDlq');
    expect(watched.map((metric) => metric.dimensions.RuleName)).toEqual(['order-pipeline-prod-commands-and-queries']);
  });
});
