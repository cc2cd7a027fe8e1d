import { CloudwatchEventArchive } from '@cdktf/provider-aws/lib/cloudwatch-event-archive';
import { CloudwatchEventBus } from '@cdktf/provider-aws/lib/cloudwatch-event-bus';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogResourcePolicy } from '@cdktf/provider-aws/lib/cloudwatch-log-resource-policy';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SchemasRegistry } from '@cdktf/provider-aws/lib/schemas-registry';
import { SchemasSchema } from '@cdktf/provider-aws/lib/schemas-schema';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { QueryName } from '../handlers/queries/registry';
import type { EnvironmentConfig } from '../config/environments';
import { DetailType, EVENT_SOURCE, RESPONSES_RULE_PATTERN, WORKFLOW_RULE_PATTERN, WORKFLOW_TARGET_RETRY, type ResourceNames } from '../config/pipeline';
import { renderWorkflow } from '../asl/render';
import { asDraft4, eventSchemas } from './event-schemas';
import { ordersTableActions } from '../handlers/commands/registry';
import type { EncryptedTable } from './constructs/encrypted-table';
import { keyArnOf, policyDocument } from './constructs/iam';
import type { NodejsFunction } from './constructs/nodejs-function';
import { ServiceRole } from './constructs/role';
import { PipelineStack } from './pipeline-stack';

/** The encryption context key Step Functions sets on the KMS calls for a state machine's data. */
export const STATE_MACHINE_ENCRYPTION_CONTEXT = 'kms:EncryptionContext:aws:states:stateMachineArn';

/** A rule and the target it delivers to. */
export interface RuleTarget {
  readonly rule: CloudwatchEventRule;
  readonly target: CloudwatchEventTarget;
}

/** Options of {@link WorkflowStack}. */
export interface WorkflowStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly key: KmsKey;
  readonly ordersTable: EncryptedTable;
  readonly validateRequest: NodejsFunction;
  /** The query functions, by query name. */
  readonly queryFunctions: ReadonlyMap<QueryName, NodejsFunction>;
  /** The projection's on-failure queue URL, for the outputs. */
  readonly projectionFailureQueueUrl: string;
}

/**
 * Messaging and workflow: the custom bus and its archive, the rule that starts
 * one Express execution per command or query (retry policy, dead-letter
 * queue), the Express state machine rendered from `asl/`, and the rule that
 * copies every response to a log group. The outputs users need live here.
 */
export class WorkflowStack extends PipelineStack {
  readonly bus: CloudwatchEventBus;
  readonly stateMachine: SfnStateMachine;
  readonly deadLetterQueue: SqsQueue;
  /** The bus's dead-letter queue: events it could not encrypt or decrypt. */
  readonly busDeadLetterQueue: SqsQueue;
  readonly responsesLogGroup: CloudwatchLogGroup;
  readonly workflowRule: CloudwatchEventRule;
  readonly responsesRule: CloudwatchEventRule;
  /** Each rule with its target: monitoring alarms on what each target really has (a dead-letter queue or not). */
  readonly ruleTargets: readonly RuleTarget[];

  constructor(scope: Construct, id: string, options: WorkflowStackOptions) {
    super(scope, id, options.config);
    const { config, names } = options;

    // Events the bus cannot encrypt or decrypt with its key (a key disabled, a key policy changed)
    // go to the bus's own dead-letter queue instead of being lost.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-dlq.html
    this.busDeadLetterQueue = new SqsQueue(this, 'bus-dlq', {
      name: names.busDeadLetterQueue,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    this.bus = new CloudwatchEventBus(this, 'bus', {
      name: names.eventBus,
      // Commands carry customers' orders: the bus stores them under the project key, not an AWS-owned one.
      kmsKeyIdentifier: options.key.arn,
      deadLetterConfig: { arn: this.busDeadLetterQueue.arn },
    });
    const busArn = `arn:${this.partition}:events:${config.region}:${this.accountId}:event-bus/${names.eventBus}`;
    new SqsQueuePolicy(this, 'bus-dlq-policy', {
      queueUrl: this.busDeadLetterQueue.url,
      policy: policyDocument([
        {
          Sid: 'BusDeadLetters',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['sqs:SendMessage'],
          Resource: [this.busDeadLetterQueue.arn],
          Condition: { ArnEquals: { 'aws:SourceArn': busArn } },
        },
      ]),
    });
    // The published contract, for clients to browse and generate code from (the same documents as docs/schemas).
    const registry = new SchemasRegistry(this, 'schemas', { name: `${names.prefix}-events`, description: 'The events the order pipeline accepts and emits' });
    for (const [detailType, schema] of Object.entries(eventSchemas())) {
      new SchemasSchema(this, `schema-${detailType}`, {
        name: `${EVENT_SOURCE}@${detailType}`,
        registryName: registry.name,
        type: 'JSONSchemaDraft4',
        content: JSON.stringify(asDraft4(schema)),
        description: String(schema.description),
      });
    }
    new CloudwatchEventArchive(this, 'archive', {
      name: `${names.prefix}-requests`,
      description: 'Commands and queries, for replay after an incident',
      eventSourceArn: this.bus.arn,
      eventPattern: JSON.stringify(WORKFLOW_RULE_PATTERN),
      retentionDays: config.archiveRetentionDays,
      kmsKeyIdentifier: options.key.arn,
    });

    const stateMachineLogs = new CloudwatchLogGroup(this, 'workflow-logs', {
      name: `/aws/vendedlogs/states/${names.stateMachine}`,
      retentionInDays: config.logRetentionDays,
      kmsKeyId: options.key.arn,
    });
    // Against the cross-service confused deputy: only this account's state
    // machine of this name, and only this stack's rule, may use the roles.
    const stateMachineArn = `arn:${this.partition}:states:${config.region}:${this.accountId}:stateMachine:${names.stateMachine}`;
    const stateMachineRole = new ServiceRole(this, 'workflow-role', {
      name: `${names.stateMachine}-role`,
      policyId: 'workflow-policy',
      assumedBy: 'states.amazonaws.com',
      trustConditions: { StringEquals: { 'aws:SourceAccount': this.accountId }, ArnLike: { 'aws:SourceArn': stateMachineArn } },
    });
    stateMachineRole.grant({
      Sid: 'InvokePipelineFunctions',
      Action: ['lambda:InvokeFunction'],
      Resource: [options.validateRequest.function.arn, ...[...options.queryFunctions.values()].map((fn) => fn.function.arn)],
    });
    options.ordersTable.grant(stateMachineRole, 'WriteAndReadOrders', ordersTableActions());
    stateMachineRole.grant({
      Sid: 'PublishResponses',
      Action: ['events:PutEvents'],
      Resource: [this.bus.arn],
      // Only answers: the workflow can never publish a command or a query.
      Condition: onlyEntries([DetailType.commandResponse, DetailType.queryResponse]),
    });
    stateMachineRole.grant({
      Sid: 'ExecutionLogging',
      Action: [
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ],
      Resource: ['*'],
    });
    stateMachineRole.grant({ Sid: 'Tracing', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], Resource: ['*'] });
    // The definition and every execution's data are encrypted with the project key, which Step
    // Functions uses with this role: only for this state machine (the encryption context it sets),
    // and, for the execution logs it delivers, for this account's log groups.
    // https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html
    stateMachineRole.grant({
      Sid: 'WorkflowDataKey',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: [keyArnOf(options.key)],
      Condition: { StringEquals: { [STATE_MACHINE_ENCRYPTION_CONTEXT]: stateMachineArn } },
    });
    if (config.workflowLogs.level !== 'OFF') {
      stateMachineRole.grant({
        Sid: 'WorkflowLogsDataKey',
        Action: ['kms:GenerateDataKey'],
        Resource: [keyArnOf(options.key)],
        Condition: { StringEquals: { 'kms:EncryptionContext:SourceArn': `arn:${this.partition}:logs:${config.region}:${this.accountId}:*` } },
      });
    }
    this.stateMachine = new SfnStateMachine(this, 'workflow', {
      name: names.stateMachine,
      type: 'EXPRESS',
      roleArn: stateMachineRole.role.arn,
      definition: renderWorkflow({
        eventBusName: this.bus.name,
        ordersTableName: options.ordersTable.table.name,
        validateRequestFunctionArn: options.validateRequest.function.arn,
        queryFunctionArns: Object.fromEntries([...options.queryFunctions].map(([name, fn]) => [name, fn.function.arn])) as Record<QueryName, string>,
      }),
      loggingConfiguration: { logDestination: `${stateMachineLogs.arn}:*`, includeExecutionData: config.workflowLogs.includeExecutionData, level: config.workflowLogs.level },
      tracingConfiguration: { enabled: true },
      // Step Functions asks KMS for a new data key at most this often (60 to 900 s; its default is 300).
      // https://docs.aws.amazon.com/step-functions/latest/apireference/API_EncryptionConfiguration.html
      encryptionConfiguration: { type: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: options.key.arn, kmsDataKeyReusePeriodSeconds: 300 },
      dependsOn: [stateMachineRole.policy],
    });

    this.deadLetterQueue = new SqsQueue(this, 'workflow-dlq', {
      name: names.workflowDeadLetterQueue,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    this.workflowRule = new CloudwatchEventRule(this, 'workflow-rule', {
      name: names.workflowRule,
      description: 'Starts one Express execution per orderCommand or orderQuery',
      eventBusName: this.bus.name,
      eventPattern: JSON.stringify(WORKFLOW_RULE_PATTERN),
    });
    new SqsQueuePolicy(this, 'workflow-dlq-policy', {
      queueUrl: this.deadLetterQueue.url,
      policy: policyDocument([
        {
          Sid: 'RuleDeadLetters',
          Principal: { Service: 'events.amazonaws.com' },
          Action: ['sqs:SendMessage'],
          Resource: [this.deadLetterQueue.arn],
          Condition: { ArnEquals: { 'aws:SourceArn': this.workflowRule.arn } },
        },
      ]),
    });
    const targetRole = new ServiceRole(this, 'workflow-target-role', {
      name: `${names.workflowRule}-target`,
      policyId: 'workflow-target-policy',
      assumedBy: 'events.amazonaws.com',
      trustConditions: { StringEquals: { 'aws:SourceAccount': this.accountId }, ArnEquals: { 'aws:SourceArn': this.workflowRule.arn } },
    });
    targetRole.grant({ Sid: 'StartWorkflow', Action: ['states:StartExecution'], Resource: [this.stateMachine.arn] });
    const workflowTarget = new CloudwatchEventTarget(this, 'workflow-target', {
      rule: this.workflowRule.name,
      eventBusName: this.bus.name,
      targetId: 'workflow',
      arn: this.stateMachine.arn,
      roleArn: targetRole.role.arn,
      retryPolicy: {
        maximumRetryAttempts: WORKFLOW_TARGET_RETRY.maximumRetryAttempts,
        maximumEventAgeInSeconds: WORKFLOW_TARGET_RETRY.maximumEventAgeInSeconds,
      },
      deadLetterConfig: { arn: this.deadLetterQueue.arn },
    });

    this.responsesLogGroup = new CloudwatchLogGroup(this, 'responses-logs', {
      name: names.responsesLogGroup,
      retentionInDays: config.logRetentionDays,
      kmsKeyId: options.key.arn,
    });
    this.responsesRule = new CloudwatchEventRule(this, 'responses-rule', {
      name: names.responsesRule,
      description: 'Copies every orderCommandResponse and orderQueryResponse to a log group',
      eventBusName: this.bus.name,
      eventPattern: JSON.stringify(RESPONSES_RULE_PATTERN),
    });
    new CloudwatchLogResourcePolicy(this, 'responses-logs-policy', {
      policyName: `${names.responsesRule}-delivery`,
      policyDocument: policyDocument([
        // EventBridge creates the log stream without a source ARN in the request
        // context, so only PutLogEvents is conditioned (AWS serverless-patterns,
        // eventbridge-cloudwatch).
        {
          Sid: 'ResponsesRuleCreatesStreams',
          Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
          Action: ['logs:CreateLogStream'],
          Resource: [`${this.responsesLogGroup.arn}:*`],
        },
        {
          Sid: 'ResponsesRuleWritesLogs',
          Principal: { Service: ['events.amazonaws.com', 'delivery.logs.amazonaws.com'] },
          Action: ['logs:PutLogEvents'],
          Resource: [`${this.responsesLogGroup.arn}:*`],
          Condition: { ArnEquals: { 'aws:SourceArn': this.responsesRule.arn } },
        },
      ]),
    });
    const responsesTarget = new CloudwatchEventTarget(this, 'responses-target', {
      rule: this.responsesRule.name,
      eventBusName: this.bus.name,
      targetId: 'responses-log-group',
      arn: this.responsesLogGroup.arn,
    });
    this.ruleTargets = [
      { rule: this.workflowRule, target: workflowTarget },
      { rule: this.responsesRule, target: responsesTarget },
    ];

    // What client teams attach: producers may put only commands and queries,
    // so nobody outside the workflow can forge a response; consumers read the answers.
    const producerPolicy = new IamPolicy(this, 'producer-policy', {
      name: `${names.prefix}-producer`,
      description: 'Put orderCommand and orderQuery events (source orderPipeline) on the order pipeline bus, nothing else',
      policy: policyDocument([
        {
          Sid: 'PutCommandsAndQueries',
          Action: ['events:PutEvents'],
          Resource: [this.bus.arn],
          Condition: onlyEntries([DetailType.command, DetailType.query]),
        },
      ]),
    });
    const consumerPolicy = new IamPolicy(this, 'consumer-policy', {
      name: `${names.prefix}-consumer`,
      description: 'Read the order pipeline responses (orderCommandResponse, orderQueryResponse) from their log group',
      policy: policyDocument([
        {
          Sid: 'ReadResponses',
          Action: ['logs:FilterLogEvents', 'logs:GetLogEvents', 'logs:DescribeLogStreams'],
          Resource: [this.responsesLogGroup.arn, `${this.responsesLogGroup.arn}:*`],
        },
      ]),
    });
    new TerraformOutput(this, 'ProducerPolicyArn', { value: producerPolicy.arn, description: 'Attach to a client that sends commands and queries' });
    new TerraformOutput(this, 'ConsumerPolicyArn', { value: consumerPolicy.arn, description: 'Attach to a client that reads the responses' });
    new TerraformOutput(this, 'EventBridgeARN', { value: this.bus.arn, description: 'The bus to put orderCommand and orderQuery events on' });
    new TerraformOutput(this, 'EventBusName', { value: this.bus.name });
    new TerraformOutput(this, 'OrdersTableName', { value: options.ordersTable.table.name });
    new TerraformOutput(this, 'StateMachineArn', { value: this.stateMachine.arn });
    new TerraformOutput(this, 'ResponsesLogGroup', { value: this.responsesLogGroup.name, description: 'Every response, for npm run query against the cloud' });
    new TerraformOutput(this, 'WorkflowDeadLetterQueueUrl', { value: this.deadLetterQueue.url });
    new TerraformOutput(this, 'BusDeadLetterQueueUrl', { value: this.busDeadLetterQueue.url, description: 'Events the bus could not encrypt or decrypt with its key' });
    new TerraformOutput(this, 'ProjectionFailureQueueUrl', { value: options.projectionFailureQueueUrl });
  }
}

/**
 * The condition that lets a `PutEvents` call through only when **every**
 * entry has source `orderPipeline` and one of `detailTypes`.
 *
 * `events:source` and `events:detail-type` are multivalued (`ArrayOfString` in
 * the Service Authorization Reference for EventBridge): one `PutEvents` call
 * is authorized once, with the values of all its entries. `ForAnyValue` would
 * let a command through with a forged response beside it; `ForAllValues`
 * requires every value to match, and the `Null` guard refuses a request
 * without the keys (which `ForAllValues` alone would allow).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
function onlyEntries(detailTypes: readonly string[]): Record<string, Record<string, string | string[]>> {
  return {
    'ForAllValues:StringEquals': { 'events:source': [EVENT_SOURCE], 'events:detail-type': [...detailTypes] },
    Null: { 'events:source': 'false', 'events:detail-type': 'false' },
  };
}
