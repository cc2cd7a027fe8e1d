import { CloudwatchEventArchive } from '@cdktf/provider-aws/lib/cloudwatch-event-archive';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchLogResourcePolicy } from '@cdktf/provider-aws/lib/cloudwatch-log-resource-policy';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SchemasRegistry } from '@cdktf/provider-aws/lib/schemas-registry';
import { SchemasSchema } from '@cdktf/provider-aws/lib/schemas-schema';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { DetailType, EVENT_SOURCE, RESPONSES_RULE_PATTERN, WORKFLOW_RULE_PATTERN, WORKFLOW_TARGET_RETRY, type ResourceNames } from '../config/pipeline';
import { renderWorkflow } from '../asl/render';
import { checkTimeBudget } from '../asl/time-budget';
import { asDraft4, eventSchemas } from './event-schemas';
import { REGISTRY, type Registry } from '../handlers/registry';
import { BusRule } from './constructs/bus-rule';
import { DeadLetterQueue } from './constructs/dead-letter-queue';
import { EventBus } from './constructs/event-bus';
import { ExpressWorkflow } from './constructs/express-workflow';
import { keyArnOf, policyDocument } from './constructs/iam';
import type { NodejsFunction } from './constructs/nodejs-function';
import type { OrdersTable } from './constructs/pipeline-tables';
import { ServiceRole } from './constructs/role';
import { PipelineStack } from './pipeline-stack';

/** The encryption context key Step Functions sets on the KMS calls for a state machine's data. */
const STATE_MACHINE_ENCRYPTION_CONTEXT = 'kms:EncryptionContext:aws:states:stateMachineArn';

/** Options of {@link WorkflowStack}. */
export interface WorkflowStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly key: KmsKey;
  readonly ordersTable: OrdersTable;
  readonly validateRequest: NodejsFunction;
  /** The query functions, by query name. */
  readonly queryFunctions: ReadonlyMap<string, NodejsFunction>;
  /** The projection's on-failure queue URL, for the outputs. */
  readonly projectionFailureQueueUrl: string;
  /** The commands and queries the workflow routes and the schemas publish. @default the project's registry */
  readonly registry?: Registry;
}

/**
 * Messaging and workflow: the custom bus and its archive, the rule that starts
 * one Express execution per command or query (retry policy, dead-letter
 * queue), the Express state machine rendered from `asl/`, and the rule that
 * copies every response to a log group. The outputs users need live here.
 */
export class WorkflowStack extends PipelineStack {
  readonly bus: EventBus;
  readonly stateMachine: ExpressWorkflow;
  readonly deadLetterQueue: DeadLetterQueue;
  /** The bus's dead-letter queue: events it could not encrypt or decrypt. */
  readonly busDeadLetterQueue: DeadLetterQueue;
  readonly responsesLogGroup: CloudwatchLogGroup;
  readonly workflowRule: BusRule;
  readonly responsesRule: BusRule;

  constructor(scope: Construct, id: string, options: WorkflowStackOptions) {
    super(scope, id, options.config);
    const { config, names } = options;
    // The workflow rule's dead-letter queue first: the dashboard lists the queues in construct order.
    this.deadLetterQueue = new DeadLetterQueue(this, 'workflow-dlq', { name: names.workflowDeadLetterQueue });
    // Events the bus cannot encrypt or decrypt with its key (a key disabled, a key policy changed)
    // go to the bus's own dead-letter queue instead of being lost.
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-dlq.html
    this.busDeadLetterQueue = new DeadLetterQueue(this, 'bus-dlq', { name: names.busDeadLetterQueue });
    // Commands carry customers' orders: the bus stores them under the project key, not an AWS-owned one.
    this.bus = new EventBus(this, 'bus', { name: names.eventBus, kmsKeyIdentifier: options.key.arn, deadLetterConfig: { arn: this.busDeadLetterQueue.arn } });
    this.busDeadLetterQueue.allowSendFrom(
      'events.amazonaws.com',
      `arn:${this.partition}:events:${config.region}:${this.accountId}:event-bus/${names.eventBus}`,
      'BusDeadLetters',
    );
    this.#schemas(names, options.registry ?? REGISTRY);
    new CloudwatchEventArchive(this, 'archive', {
      name: `${names.prefix}-requests`,
      description: 'Commands and queries, for replay after an incident',
      eventSourceArn: this.bus.arn,
      eventPattern: JSON.stringify(WORKFLOW_RULE_PATTERN),
      retentionDays: config.archiveRetentionDays,
      kmsKeyIdentifier: options.key.arn,
    });
    this.stateMachine = this.#stateMachine(options);
    this.workflowRule = new BusRule(this, 'workflow-rule', {
      name: names.workflowRule,
      description: 'Starts one Express execution per orderCommand or orderQuery',
      eventBusName: this.bus.name,
      busName: names.eventBus,
      eventPattern: WORKFLOW_RULE_PATTERN,
    });
    this.deadLetterQueue.allowSendFrom('events.amazonaws.com', this.workflowRule.arn, 'RuleDeadLetters');
    this.#workflowTarget(names);
    this.responsesLogGroup = new CloudwatchLogGroup(this, 'responses-logs', {
      name: names.responsesLogGroup,
      retentionInDays: config.logRetentionDays,
      kmsKeyId: options.key.arn,
    });
    this.responsesRule = new BusRule(this, 'responses-rule', {
      name: names.responsesRule,
      description: 'Copies every orderCommandResponse and orderQueryResponse to a log group',
      eventBusName: this.bus.name,
      busName: names.eventBus,
      eventPattern: RESPONSES_RULE_PATTERN,
    });
    this.#responsesDelivery(names);
    this.#clientPoliciesAndOutputs(options);
  }

  /** The published contract, for clients to browse and generate code from (the same documents as docs/schemas). */
  #schemas(names: ResourceNames, members: Registry): void {
    const registry = new SchemasRegistry(this, 'schemas', { name: `${names.prefix}-events`, description: 'The events the order pipeline accepts and emits' });
    for (const [detailType, schema] of Object.entries(eventSchemas(members))) {
      new SchemasSchema(this, `schema-${detailType}`, {
        name: `${EVENT_SOURCE}@${detailType}`,
        registryName: registry.name,
        type: 'JSONSchemaDraft4',
        content: JSON.stringify(asDraft4(schema)),
        description: String(schema.description),
      });
    }
  }

  /** The Express state machine, its log group and its execution role. */
  #stateMachine(options: WorkflowStackOptions): ExpressWorkflow {
    const { config, names } = options;
    const stateMachineLogs = new CloudwatchLogGroup(this, 'workflow-logs', {
      name: `/aws/vendedlogs/states/${names.stateMachine}`,
      retentionInDays: config.logRetentionDays,
      kmsKeyId: options.key.arn,
    });
    const role = this.#stateMachineRole(options);
    // Each read of an ARN is a new token: read once, so the time budget finds each function's timeout by it.
    const arnOf = new Map([options.validateRequest, ...options.queryFunctions.values()].map((fn) => [fn, fn.function.arn]));
    const timeoutOf = new Map([...arnOf].map(([fn, arn]) => [arn, fn.settings.timeoutSeconds]));
    const definition = renderWorkflow(
      {
        eventBusName: this.bus.name,
        ordersTableName: options.ordersTable.table.name,
        validateRequestFunctionArn: arnOf.get(options.validateRequest) as string,
        queryFunctionArns: Object.fromEntries([...options.queryFunctions].map(([name, fn]) => [name, arnOf.get(fn) as string])),
      },
      options.registry ?? REGISTRY,
    );
    checkTimeBudget(JSON.parse(definition) as Parameters<typeof checkTimeBudget>[0], (arn) => timeoutOf.get(arn));
    return new ExpressWorkflow(this, 'workflow', {
      name: names.stateMachine,
      type: 'EXPRESS',
      roleArn: role.role.arn,
      definition,
      loggingConfiguration: {
        logDestination: `${stateMachineLogs.arn}:*`,
        includeExecutionData: config.workflowLogs.includeExecutionData,
        level: config.workflowLogs.level,
      },
      tracingConfiguration: { enabled: true },
      // Step Functions asks KMS for a new data key at most this often (60 to 900 s; its default is 300).
      // https://docs.aws.amazon.com/step-functions/latest/apireference/API_EncryptionConfiguration.html
      encryptionConfiguration: { type: 'CUSTOMER_MANAGED_KMS_KEY', kmsKeyId: options.key.arn, kmsDataKeyReusePeriodSeconds: 300 },
      dependsOn: [role.policy],
    });
  }

  /**
   * The state machine's role. Against the cross-service confused deputy: only this account's state
   * machine of this name may use it.
   */
  #stateMachineRole(options: WorkflowStackOptions): ServiceRole {
    const { config, names } = options;
    const stateMachineArn = `arn:${this.partition}:states:${config.region}:${this.accountId}:stateMachine:${names.stateMachine}`;
    const role = new ServiceRole(this, 'workflow-role', {
      name: `${names.stateMachine}-role`,
      policyId: 'workflow-policy',
      assumedBy: 'states.amazonaws.com',
      trustConditions: { StringEquals: { 'aws:SourceAccount': this.accountId }, ArnLike: { 'aws:SourceArn': stateMachineArn } },
    });
    role.grant({
      Sid: 'InvokePipelineFunctions',
      Action: ['lambda:InvokeFunction'],
      Resource: [options.validateRequest.function.arn, ...[...options.queryFunctions.values()].map((fn) => fn.function.arn)],
    });
    options.ordersTable.grantWriteOrders(role, (options.registry ?? REGISTRY).commands);
    // Only answers: the workflow can never publish a command or a query.
    this.bus.grantPut(role, 'PublishResponses', [DetailType.commandResponse, DetailType.queryResponse]);
    role.grant({
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
    role.grant({
      Sid: 'Tracing',
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'],
      Resource: ['*'],
    });
    // The definition and every execution's data are encrypted with the project key, which Step
    // Functions uses with this role: only for this state machine (the encryption context it sets),
    // and, for the execution logs it delivers, for this account's log groups.
    // https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html
    role.grant({
      Sid: 'WorkflowDataKey',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: [keyArnOf(options.key)],
      Condition: { StringEquals: { [STATE_MACHINE_ENCRYPTION_CONTEXT]: stateMachineArn } },
    });
    if (config.workflowLogs.level !== 'OFF') {
      role.grant({
        Sid: 'WorkflowLogsDataKey',
        Action: ['kms:GenerateDataKey'],
        Resource: [keyArnOf(options.key)],
        Condition: { StringEquals: { 'kms:EncryptionContext:SourceArn': `arn:${this.partition}:logs:${config.region}:${this.accountId}:*` } },
      });
    }
    return role;
  }

  /** The workflow rule's target: the state machine, through a role only this rule may use, with retries and the dead-letter queue. */
  #workflowTarget(names: ResourceNames): void {
    const targetRole = new ServiceRole(this, 'workflow-target-role', {
      name: `${names.workflowRule}-target`,
      policyId: 'workflow-target-policy',
      assumedBy: 'events.amazonaws.com',
      trustConditions: { StringEquals: { 'aws:SourceAccount': this.accountId }, ArnEquals: { 'aws:SourceArn': this.workflowRule.arn } },
    });
    targetRole.grant({ Sid: 'StartWorkflow', Action: ['states:StartExecution'], Resource: [this.stateMachine.arn] });
    this.workflowRule.addTarget('workflow-target', {
      targetId: 'workflow',
      arn: this.stateMachine.arn,
      roleArn: targetRole.role.arn,
      retryPolicy: {
        maximumRetryAttempts: WORKFLOW_TARGET_RETRY.maximumRetryAttempts,
        maximumEventAgeInSeconds: WORKFLOW_TARGET_RETRY.maximumEventAgeInSeconds,
      },
      deadLetterConfig: { arn: this.deadLetterQueue.arn },
    });
  }

  /** The responses rule's delivery to its log group, and the log group's policy that lets only this rule write. */
  #responsesDelivery(names: ResourceNames): void {
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
    this.responsesRule.addTarget('responses-target', { targetId: 'responses-log-group', arn: this.responsesLogGroup.arn });
  }

  /**
   * What client teams attach: producers may put only commands and queries,
   * so nobody outside the workflow can forge a response; consumers read the answers.
   * And the outputs users need.
   */
  #clientPoliciesAndOutputs(options: WorkflowStackOptions): void {
    const { names } = options;
    const producerPolicy = new IamPolicy(this, 'producer-policy', {
      name: `${names.prefix}-producer`,
      description: 'Put orderCommand and orderQuery events (source orderPipeline) on the order pipeline bus, nothing else',
      policy: policyDocument([this.bus.putStatement('PutCommandsAndQueries', [DetailType.command, DetailType.query])]),
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
    new TerraformOutput(this, 'BusDeadLetterQueueUrl', {
      value: this.busDeadLetterQueue.url,
      description: 'Events the bus could not encrypt or decrypt with its key',
    });
    new TerraformOutput(this, 'ProjectionFailureQueueUrl', { value: options.projectionFailureQueueUrl });
  }
}
