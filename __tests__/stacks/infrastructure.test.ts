/**
 * Synthesizes the dev environment and asserts the intent of every stack.
 * (Terraform providers cannot be downloaded here, so the synthesized JSON is
 * checked instead of running `terraform validate`.)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CloudwatchEventArchive } from '@cdktf/provider-aws/lib/cloudwatch-event-archive';
import { CloudwatchEventBus } from '@cdktf/provider-aws/lib/cloudwatch-event-bus';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';
import { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { RdsClusterParameterGroup } from '@cdktf/provider-aws/lib/rds-cluster-parameter-group';
import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { beforeAll, describe, expect, it } from '@jest/globals';
import aslValidator from 'asl-validator';
import { Testing } from 'cdktf';
import { ENVIRONMENTS } from '../../config/environments';
import { DEFAULT_STREAM_MAPPING, RESPONSES_RULE_PATTERN, WORKFLOW_RULE_PATTERN, WORKFLOW_TARGET_RETRY } from '../../config/pipeline';
import { FUNCTION_SETTINGS, FunctionName, LAMBDA_MAX_TIMEOUT_SECONDS, type FunctionKey } from '../../stacks/catalogue';
import { SCHEMA_INIT_COMMAND, migrationSetHash } from '../../stacks/compute-stack';
import { resource, resources, synthesize, type SynthesizedApp } from '../helpers/synth';

Testing.setupJest();

let app: SynthesizedApp;

beforeAll(() => {
  app = synthesize(ENVIRONMENTS.dev);
});

describe('app', () => {
  it('synthesizes five stacks with the exact provider versions and a local backend by default', () => {
    expect(readdirSync(path.join(app.outdir, 'stacks')).length).toBe(5);
    for (const stack of Object.values(app.json)) {
      expect(stack.terraform).toMatchObject({
        required_providers: { aws: { source: 'aws', version: '6.25.0' } },
        backend: { local: { path: expect.stringMatching(/^\.\.\/\.\.\/\.\.\/terraform\.order-pipeline-dev-\w+\.tfstate$/) } },
      });
      expect(stack.provider.aws).toEqual([
        expect.objectContaining({ region: 'us-east-1', default_tags: [{ tags: expect.objectContaining({ Project: 'order-pipeline', Environment: 'dev' }) }] }),
      ]);
    }
  });

  it('uses S3 with a lock file when TF_STATE_BUCKET is set', () => {
    const s3 = synthesize(ENVIRONMENTS.prod, { TF_STATE_BUCKET: 'acme-tf-state', TF_STATE_KEY_PREFIX: 'teams/orders', TF_STATE_REGION: 'eu-west-1' });
    expect(s3.json.workflow.terraform.backend).toEqual({
      s3: { bucket: 'acme-tf-state', key: 'teams/orders/prod/order-pipeline-prod-workflow.tfstate', region: 'eu-west-1', encrypt: true, use_lockfile: true },
    });
    expect(s3.json.workflow.data?.terraform_remote_state).toEqual(
      expect.objectContaining({
        'cross-stack-reference-input-order-pipeline-prod-data': expect.objectContaining({
          backend: 's3',
          config: expect.objectContaining({ bucket: 'acme-tf-state', key: 'teams/orders/prod/order-pipeline-prod-data.tfstate' }),
        }),
      }),
    );
  });

  it("encrypts the state with the bootstrap's KMS key when TF_STATE_KMS_KEY_ID is set", () => {
    const key = 'arn:aws:kms:us-east-1:111122223333:key/0f0e0d0c-0000-4000-8000-000000000000';
    const s3 = synthesize(ENVIRONMENTS.prod, { TF_STATE_BUCKET: 'acme-tf-state', TF_STATE_KMS_KEY_ID: key });
    expect(s3.json.data.terraform.backend).toEqual({ s3: expect.objectContaining({ encrypt: true, kms_key_id: key, use_lockfile: true }) });
  });
});

describe('network stack', () => {
  it('spans the configured AZs with private subnets only', () => {
    expect(app.text.network).toHaveResourceWithProperties(Vpc, { cidr_block: '10.40.0.0/16', enable_dns_hostnames: true, enable_dns_support: true });
    const subnets = resources(app.json.network, Subnet.tfResourceType);
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(subnet).toMatchObject({ map_public_ip_on_launch: false, tags: expect.objectContaining({ Tier: 'private' }) });
    expect(resources(app.json.network, 'aws_internet_gateway')).toHaveLength(0);
    expect(resources(app.json.network, 'aws_nat_gateway')).toHaveLength(0);
  });

  it('reaches Secrets Manager and DynamoDB through VPC endpoints, and has none for a service no in-VPC function calls', () => {
    expect(
      resources(app.json.network, VpcEndpoint.tfResourceType)
        .map((endpoint) => String(endpoint.service_name).split('.').pop())
        .sort(),
    ).toEqual(['dynamodb', 'secretsmanager']);
    for (const service of ['secretsmanager']) {
      expect(app.text.network).toHaveResourceWithProperties(VpcEndpoint, {
        service_name: `com.amazonaws.us-east-1.${service}`,
        vpc_endpoint_type: 'Interface',
        private_dns_enabled: true,
      });
    }
    expect(app.text.network).toHaveResourceWithProperties(VpcEndpoint, { service_name: 'com.amazonaws.us-east-1.dynamodb', vpc_endpoint_type: 'Gateway' });
  });

  it('admits MySQL to Aurora from the Lambda security group only', () => {
    const ingress = resources(app.json.network, 'aws_vpc_security_group_ingress_rule');
    const database = resource(app.json.network, 'aws_security_group', (group) => group.name === 'order-pipeline-dev-aurora');
    const lambda = resource(app.json.network, 'aws_security_group', (group) => group.name === 'order-pipeline-dev-lambda');
    const toDatabase = ingress.filter((rule) => rule.security_group_id === `\${aws_security_group.${database.__id}.id}`);
    expect(toDatabase).toEqual([
      expect.objectContaining({ ip_protocol: 'tcp', from_port: 3306, to_port: 3306, referenced_security_group_id: `\${aws_security_group.${lambda.__id}.id}` }),
    ]);
    for (const rule of ingress) expect(rule.cidr_ipv4).toBeUndefined();
    expect(resources(app.json.network, 'aws_security_group').every((group) => group.ingress === undefined && group.egress === undefined)).toBe(true);
  });

  it('can use NAT gateways instead, one per AZ', () => {
    const nat = synthesize({ ...ENVIRONMENTS.dev, egress: 'nat-gateway' });
    expect(resources(nat.json.network, 'aws_nat_gateway')).toHaveLength(2);
    expect(resources(nat.json.network, 'aws_vpc_endpoint')).toHaveLength(0);
    expect(resources(nat.json.network, 'aws_route').filter((route) => route.nat_gateway_id)).toHaveLength(2);
  });
});

describe('data stack', () => {
  it('keeps orders on demand, with a new-image stream, PITR and KMS encryption', () => {
    expect(app.text.data).toHaveResourceWithProperties(DynamodbTable, {
      name: 'order-pipeline-dev-orders',
      billing_mode: 'PAY_PER_REQUEST',
      hash_key: 'orderid',
      attribute: [{ name: 'orderid', type: 'S' }],
      stream_enabled: true,
      stream_view_type: 'NEW_IMAGE',
      point_in_time_recovery: { enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: expect.stringContaining('aws_kms_key') },
    });
  });

  it("caps the orders table's writes and reserves validate-request's concurrency, each environment from its config", () => {
    for (const config of [ENVIRONMENTS.dev, ENVIRONMENTS.prod]) {
      const stacks = config === ENVIRONMENTS.dev ? app : synthesize(config);
      expect(resource(stacks.json.data, 'aws_dynamodb_table', (table) => table.stream_enabled === true).on_demand_throughput).toEqual({
        max_write_request_units: config.intake.ordersMaxWriteRequestUnits,
      });
      expect(resource(stacks.json.data, 'aws_dynamodb_table', (table) => table.stream_enabled !== true).on_demand_throughput).toBeUndefined();
      expect(
        resource(stacks.json.compute, 'aws_lambda_function', (fn) => String(fn.function_name).endsWith('-validate-request')).reserved_concurrent_executions,
      ).toBe(config.intake.validateRequestConcurrency);
    }
  });

  it('keeps idempotency records with a TTL on expiration', () => {
    expect(app.text.data).toHaveResourceWithProperties(DynamodbTable, {
      name: 'order-pipeline-dev-idempotency',
      hash_key: 'id',
      ttl: { attribute_name: 'expiration', enabled: true },
      server_side_encryption: { enabled: true, kms_key_arn: expect.stringContaining('aws_kms_key') },
    });
  });

  it('runs Aurora Serverless v2 MySQL 3, encrypted, with a Secrets Manager-managed password', () => {
    expect(app.text.data).toHaveResourceWithProperties(RdsCluster, {
      engine: 'aurora-mysql',
      engine_mode: 'provisioned',
      engine_version: expect.stringMatching(/^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$/),
      storage_encrypted: true,
      kms_key_id: expect.stringContaining('aws_kms_key'),
      manage_master_user_password: true,
      master_user_secret_kms_key_id: expect.stringContaining('aws_kms_key'),
      serverlessv2_scaling_configuration: { min_capacity: 0, max_capacity: 2, seconds_until_auto_pause: 3600 },
      deletion_protection: false,
      database_name: 'orders',
    });
    const cluster = resource(app.json.data, RdsCluster.tfResourceType);
    expect(cluster.master_password).toBeUndefined();
    expect(app.text.data).toHaveResourceWithProperties(RdsClusterInstance, {
      instance_class: 'db.serverless',
      publicly_accessible: false,
      ca_cert_identifier: 'rds-ca-rsa2048-g1',
    });
  });

  it('requires TLS through the cluster parameter group', () => {
    expect(app.text.data).toHaveResourceWithProperties(RdsClusterParameterGroup, {
      family: 'aurora-mysql8.0',
      parameter: expect.arrayContaining([{ name: 'require_secure_transport', value: 'ON' }]),
    });
    const cluster = resource(app.json.data, RdsCluster.tfResourceType);
    expect(cluster.db_cluster_parameter_group_name).toContain('aws_rds_cluster_parameter_group');
  });

  it('logs slow queries (the slowquery export is on) and closes idle connections so an idle cluster can pause', () => {
    const parameters = resource(app.json.data, RdsClusterParameterGroup.tfResourceType).parameter as { name: string; value: string }[];
    expect(Object.fromEntries(parameters.map((parameter) => [parameter.name, parameter.value]))).toMatchObject({
      slow_query_log: '1',
      long_query_time: String(ENVIRONMENTS.dev.aurora.longQueryTimeSeconds),
      log_output: 'FILE',
      wait_timeout: String(ENVIRONMENTS.dev.aurora.waitTimeoutSeconds),
    });
    expect(resource(app.json.data, RdsCluster.tfResourceType).enabled_cloudwatch_logs_exports).toContain('slowquery');
  });

  it('lets AWS apply minor versions without a later plan proposing a downgrade', () => {
    const lifecycles = [resource(app.json.data, RdsCluster.tfResourceType), ...resources(app.json.data, 'aws_rds_cluster_instance')].map(
      (item) => item.lifecycle,
    );
    for (const lifecycle of lifecycles) expect(lifecycle).toEqual({ ignore_changes: ['engine_version'] });
    for (const instance of resources(app.json.data, 'aws_rds_cluster_instance')) expect(instance.auto_minor_version_upgrade).toBe(true);
  });

  it('gives production a second instance in another availability zone, to fail over to', () => {
    const prod = synthesize(ENVIRONMENTS.prod);
    const instances = resources(prod.json.data, 'aws_rds_cluster_instance');
    expect(instances.map((instance) => [instance.identifier, instance.promotion_tier])).toEqual([
      ['order-pipeline-prod-read-model-1', 0],
      ['order-pipeline-prod-read-model-2', 1],
    ]);
    expect(new Set(instances.map((instance) => instance.availability_zone)).size).toBe(2);
    expect(resources(app.json.data, 'aws_rds_cluster_instance')).toHaveLength(1);
  });

  it('gives the cluster and every instance the maintenance window of config, and the cluster its backup window', () => {
    const prod = synthesize(ENVIRONMENTS.prod);
    for (const [stacks, config] of [
      [app, ENVIRONMENTS.dev],
      [prod, ENVIRONMENTS.prod],
    ] as const) {
      expect(resource(stacks.json.data, 'aws_rds_cluster')).toMatchObject({
        preferred_maintenance_window: config.aurora.maintenanceWindow,
        preferred_backup_window: config.aurora.backupWindow,
      });
      const instances = resources(stacks.json.data, 'aws_rds_cluster_instance');
      expect(instances.map((instance) => instance.preferred_maintenance_window)).toEqual(instances.map(() => config.aurora.maintenanceWindow));
    }
  });

  it('drops a failing stream record while it can still be redriven from the stream, and logs no order content in prod', () => {
    const prod = synthesize(ENVIRONMENTS.prod);
    for (const stacks of [app, prod]) {
      const mapping = resources(stacks.json.compute, 'aws_lambda_event_source_mapping')[0] as unknown as { maximum_record_age_in_seconds: number };
      expect(mapping.maximum_record_age_in_seconds).toBe(6 * 3600);
    }
    const logging = (stacks: typeof app) =>
      (resources(stacks.json.workflow, 'aws_sfn_state_machine')[0] as unknown as { logging_configuration: unknown }).logging_configuration;
    expect(logging(prod)).toMatchObject({ level: 'ERROR', include_execution_data: false });
    expect(logging(app)).toMatchObject({ level: 'ALL', include_execution_data: true });
  });

  it('protects production data from deletion', () => {
    const prod = synthesize(ENVIRONMENTS.prod);
    expect(prod.text.data).toHaveResourceWithProperties(RdsCluster, {
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: 'order-pipeline-prod-read-model-final-${formatdate("YYYYMMDDhhmmss", timestamp())}',
    });
    expect(prod.text.data).toHaveResourceWithProperties(DynamodbTable, { name: 'order-pipeline-prod-orders', deletion_protection_enabled: true });
  });
});

describe('compute stack', () => {
  const keys = Object.keys(FunctionName) as FunctionKey[];

  it.each(keys)('runs %s on nodejs24.x arm64 with tracing, JSON logs and source maps', (key) => {
    expect(app.text.compute).toHaveResourceWithProperties(LambdaFunction, {
      function_name: `order-pipeline-dev-${FunctionName[key]}`,
      runtime: 'nodejs24.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      tracing_config: { mode: 'Active' },
      logging_config: expect.objectContaining({ log_format: 'JSON' }),
      environment: { variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) },
    });
  });

  it.each(keys)('deploys the real %s bundle from dist/', (key) => {
    // Prepare
    const fn = resource(
      app.json.compute,
      LambdaFunction.tfResourceType,
      (properties) => properties.function_name === `order-pipeline-dev-${FunctionName[key]}`,
    );
    const archive = path.join(app.outdir, 'stacks', 'order-pipeline-dev-compute', fn.filename as string);

    // Act
    const deployed = execFileSync('unzip', ['-p', archive, 'index.mjs']);

    // Assess
    expect(deployed.equals(readFileSync(`dist/${FunctionName[key]}/index.mjs`))).toBe(true);
    expect(execFileSync('unzip', ['-l', archive]).toString()).toContain('index.mjs.map');
    expect(fn.source_code_hash).toBe(`\${filebase64sha256("${fn.filename as string}")}`);
  });

  it('gives every function a log group with the configured retention', () => {
    const groups = resources(app.json.compute, 'aws_cloudwatch_log_group');
    expect(groups.map((group) => group.name).sort()).toEqual(keys.map((key) => `/aws/lambda/order-pipeline-dev-${FunctionName[key]}`).sort());
    for (const group of groups) expect(group).toMatchObject({ retention_in_days: 14, kms_key_id: expect.any(String) });
  });

  it('puts the database functions in the private subnets, and only them', () => {
    for (const fn of resources(app.json.compute, LambdaFunction.tfResourceType)) {
      if (fn.function_name === 'order-pipeline-dev-validate-request') expect(fn.vpc_config).toBeUndefined();
      else
        expect(fn.vpc_config).toEqual({ subnet_ids: [expect.any(String), expect.any(String)], security_group_ids: [expect.stringContaining('lambda-sgid')] });
    }
  });

  it('maps the orders stream to the projection with the shared settings', () => {
    expect(app.text.compute).toHaveResourceWithProperties(LambdaEventSourceMapping, {
      event_source_arn: expect.stringContaining('stream_arn'),
      starting_position: 'TRIM_HORIZON',
      batch_size: DEFAULT_STREAM_MAPPING.batchSize,
      maximum_batching_window_in_seconds: DEFAULT_STREAM_MAPPING.maximumBatchingWindowInSeconds,
      bisect_batch_on_function_error: true,
      maximum_retry_attempts: DEFAULT_STREAM_MAPPING.maximumRetryAttempts,
      maximum_record_age_in_seconds: DEFAULT_STREAM_MAPPING.maximumRecordAgeInSeconds,
      function_response_types: ['ReportBatchItemFailures'],
      filter_criteria: { filter: [{ pattern: '{"eventName":["INSERT","MODIFY"]}' }] },
      destination_config: { on_failure: { destination_arn: expect.stringContaining('aws_sqs_queue') } },
    });
  });

  it('initialises the schema at deploy time and fails the apply on a function error', () => {
    const init = resource(app.json.compute, NullResource.tfResourceType);
    expect(init.triggers).toEqual({
      migrations: migrationSetHash(),
      code: expect.stringMatching(/^[0-9a-f]{64}$/),
      function: expect.stringContaining('init-schema'),
      database: expect.stringContaining('aws_rds_clusterread-modelcluster_resource_id'),
    });
    // Online migrations take what Lambda allows at most; no function is given more.
    expect(FUNCTION_SETTINGS.initSchema.timeoutSeconds).toBe(LAMBDA_MAX_TIMEOUT_SECONDS);
    for (const fn of resources(app.json.compute, LambdaFunction.tfResourceType)) expect(Number(fn.timeout)).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_SECONDS);
    // What the command does with each answer of the AWS CLI is run in schema-trigger.test.ts.
    expect(init.provisioner).toEqual([
      {
        'local-exec': {
          command: SCHEMA_INIT_COMMAND,
          interpreter: ['/bin/bash', '-c'],
          environment: {
            FUNCTION_NAME: expect.stringContaining('init-schema'),
            AWS_REGION: 'us-east-1',
            READ_TIMEOUT: String(FUNCTION_SETTINGS.initSchema.timeoutSeconds + 60),
            AWS_MAX_ATTEMPTS: '1',
          },
        },
      },
    ]);
  });

  it('changes the schema trigger when a migration file changes', () => {
    expect(migrationSetHash()).not.toBe(migrationSetHash(path.resolve('handlers/read-model')));
  });
});

describe('workflow stack', () => {
  const definition = () => {
    const machine = resource(app.json.workflow, SfnStateMachine.tfResourceType);
    return { machine, text: machine.definition as string, asl: JSON.parse(machine.definition as string) as Record<string, unknown> };
  };

  it('has the bus, an archive of the requests and the two rules from the shared config', () => {
    expect(app.text.workflow).toHaveResourceWithProperties(CloudwatchEventBus, { name: 'order-pipeline-dev-bus' });
    expect(app.text.workflow).toHaveResourceWithProperties(CloudwatchEventArchive, {
      event_pattern: JSON.stringify(WORKFLOW_RULE_PATTERN),
      retention_days: 30,
    });
    expect(app.text.workflow).toHaveResourceWithProperties(CloudwatchEventRule, {
      name: 'order-pipeline-dev-commands-and-queries',
      event_pattern: JSON.stringify(WORKFLOW_RULE_PATTERN),
    });
    expect(app.text.workflow).toHaveResourceWithProperties(CloudwatchEventRule, {
      name: 'order-pipeline-dev-responses',
      event_pattern: JSON.stringify(RESPONSES_RULE_PATTERN),
    });
  });

  it('targets the state machine through a role, with a retry policy and a dead-letter queue', () => {
    expect(app.text.workflow).toHaveResourceWithProperties(CloudwatchEventTarget, {
      target_id: 'workflow',
      arn: expect.stringContaining('aws_sfn_state_machine'),
      role_arn: expect.stringContaining('aws_iam_role'),
      retry_policy: {
        maximum_retry_attempts: WORKFLOW_TARGET_RETRY.maximumRetryAttempts,
        maximum_event_age_in_seconds: WORKFLOW_TARGET_RETRY.maximumEventAgeInSeconds,
      },
      dead_letter_config: { arn: expect.stringContaining('aws_sqs_queue') },
    });
  });

  it('copies responses to a log group', () => {
    expect(app.text.workflow).toHaveResourceWithProperties(CloudwatchEventTarget, {
      target_id: 'responses-log-group',
      arn: expect.stringContaining('aws_cloudwatch_log_group'),
    });
  });

  it('runs an Express state machine, logging ALL to a log group with retention, traced', () => {
    const { machine } = definition();
    expect(machine).toMatchObject({
      type: 'EXPRESS',
      logging_configuration: { level: 'ALL', include_execution_data: true, log_destination: expect.stringMatching(/aws_cloudwatch_log_group\..*\.arn\}:\*$/) },
      tracing_configuration: { enabled: true },
    });
    expect(
      resource(app.json.workflow, 'aws_cloudwatch_log_group', (group) => group.name === '/aws/vendedlogs/states/order-pipeline-dev-workflow'),
    ).toMatchObject({ retention_in_days: 14 });
  });

  it('renders the ASL with every placeholder supplied and valid under asl-validator', () => {
    const { text, asl } = definition();
    expect(text).not.toMatch(/\$\{(?!data\.|aws_)[A-Za-z]/);
    const result = aslValidator(asl, { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
    expect(text).toMatch(/"FunctionName": "\$\{data\.terraform_remote_state\.[^}]+validate-request[^}]+\}"/);
    expect(text).toMatch(/"TableName": "\$\{data\.terraform_remote_state\.[^}]+orders[^}]+\}"/);
    expect(text).toContain('"EventBusName": "${aws_cloudwatch_event_bus.bus.name}"');
  });

  it('writes orders with a condition and publishes both response types', () => {
    const { asl } = definition();
    const states = asl.States as Record<string, Record<string, unknown>>;
    expect(states.CreateOrder).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:putItem',
      Parameters: expect.objectContaining({ ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': 'orderid' } }),
      Catch: expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'CreateOrderReadBack' })]),
    });
    expect(states.CancelOrder).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:updateItem',
      Parameters: expect.objectContaining({ ConditionExpression: 'attribute_exists(#key) AND (attribute_not_exists(#status) OR #status = :created)' }),
      Catch: expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'CancelOrderReadBack' })]),
    });
    expect(states.PublishCommandResponse?.Parameters).toMatchObject({
      Entries: [expect.objectContaining({ DetailType: 'orderCommandResponse', Source: 'orderPipeline' })],
    });
    expect(states.PublishQueryResponse?.Parameters).toMatchObject({
      Entries: [expect.objectContaining({ DetailType: 'orderQueryResponse', Source: 'orderPipeline' })],
    });
    expect(states.UnroutableEvent).toMatchObject({ Type: 'Fail', Error: 'UnroutableEvent' });
  });

  it('exports exactly the documented outputs, none of them secret', () => {
    expect(
      Object.keys(app.json.workflow.output ?? {})
        .filter((name) => !name.startsWith('cross-stack-output-'))
        .sort(),
    ).toEqual(
      [
        'BusDeadLetterQueueUrl',
        'ConsumerPolicyArn',
        'EventBridgeARN',
        'EventBusName',
        'OrdersTableName',
        'ProducerPolicyArn',
        'ProjectionFailureQueueUrl',
        'ResponsesLogGroup',
        'StateMachineArn',
        'WorkflowDeadLetterQueueUrl',
      ].sort(),
    );
  });
});
