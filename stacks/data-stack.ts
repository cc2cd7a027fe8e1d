import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { DbSubnetGroup } from '@cdktf/provider-aws/lib/db-subnet-group';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import type { RdsClusterInstance } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import { RdsClusterParameterGroup } from '@cdktf/provider-aws/lib/rds-cluster-parameter-group';
import type { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import type { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Fn } from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { DB_CA, IDEMPOTENCY_TABLE, ORDERS_STREAM_VIEW_TYPE, ORDERS_TABLE_KEY, READ_MODEL_DATABASE, type ResourceNames } from '../config/pipeline';
import { IdempotencyTable, OrdersTable } from './constructs/pipeline-tables';
import { ReadModelInstance } from './constructs/read-model-instance';
import { policyDocument, type PolicyStatement } from './constructs/iam';
import { ManagedSecret } from './constructs/managed-secret';
import { SecretsmanagerSecret } from '@cdktf/provider-aws/lib/secretsmanager-secret';
import type { DatabaseRole } from '../handlers/read-model/users';
import { PipelineStack } from './pipeline-stack';

/** Options of {@link DataStack}. */
export interface DataStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly privateSubnets: readonly Subnet[];
  readonly databaseSecurityGroup: SecurityGroup;
}

/** How the creation time is written into the final snapshot's name (Terraform `formatdate`: 14 digits, UTC). */
const FINAL_SNAPSHOT_TIME_FORMAT = 'YYYYMMDDhhmmss';

/**
 * The name of the snapshot RDS takes when the cluster is destroyed: the
 * cluster's identifier, `-final-`, and the time the cluster was created
 * (Terraform's `timestamp()`, kept by `ignore_changes`). A static name would
 * collide on the second destroy of a re-created environment: the first
 * destroy's snapshot still holds it, and the destroy fails.
 */
function finalSnapshotIdentifier(clusterIdentifier: string): string {
  return `${clusterIdentifier}-final-${Fn.formatdate(FINAL_SNAPSHOT_TIME_FORMAT, Fn.timestamp())}`;
}

/**
 * What is wrong with a final snapshot identifier, as RDS constrains it
 * (DeleteDBCluster, `FinalDBSnapshotIdentifier`: 1 to 255 letters, digits or
 * hyphens, a letter first, no two hyphens in a row, no hyphen at the end:
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBCluster.html).
 * Empty when it is valid.
 */
export function snapshotIdentifierProblems(identifier: string): string[] {
  const problems: string[] = [];
  if (identifier.length < 1 || identifier.length > 255) problems.push(`must be 1 to 255 characters, has ${identifier.length}`);
  if (!/^[A-Za-z0-9-]*$/.test(identifier)) problems.push('may hold only letters, digits and hyphens');
  if (!/^[A-Za-z]/.test(identifier)) problems.push('must start with a letter');
  if (identifier.includes('--')) problems.push('must not hold two hyphens in a row');
  if (identifier.endsWith('-')) problems.push('must not end with a hyphen');
  return problems;
}

/** The actions the account keeps on its key, delegated to IAM policies (no `kms:*`). */
const KEY_ADMIN_AND_USE_ACTIONS = [
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
  'kms:ListResourceTags',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateKeyDescription',
  'kms:CreateAlias',
  'kms:UpdateAlias',
  'kms:DeleteAlias',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:CreateGrant',
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:RetireGrant',
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
];

/**
 * The stores: a customer managed KMS key for the pipeline's data, the orders
 * table (the command side, with its stream), the Powertools idempotency table,
 * and Aurora Serverless v2 MySQL (the read model): private, encrypted, TLS
 * only, its master password managed by Secrets Manager.
 */
export class DataStack extends PipelineStack {
  readonly key: KmsKey;
  readonly ordersTable: OrdersTable;
  readonly idempotencyTable: IdempotencyTable;
  readonly cluster: RdsCluster;
  /** The writer (first) instance. */
  readonly instance: RdsClusterInstance;
  /** Every instance, one per availability zone. */
  readonly instances: RdsClusterInstance[];
  /** The Aurora-managed master user secret (its ARN, never its value): init-schema and the rebuild only. */
  readonly dbSecret: ManagedSecret;
  /**
   * One secret per database role (`users.ts`): created empty, filled by
   * init-schema with a user it creates, so no password is in Terraform state.
   */
  readonly roleSecrets: Readonly<Record<DatabaseRole, ManagedSecret>>;

  constructor(scope: Construct, id: string, options: DataStackOptions) {
    super(scope, id, options.config);
    const { config, names } = options;
    this.key = new KmsKey(this, 'key', {
      description: `${names.prefix}: orders, idempotency records, read model, the bus and its archive, the workflow, logs`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyDocument(this.#keyStatements(config, names)),
    });
    new KmsAlias(this, 'key-alias', { name: `alias/${names.prefix}`, targetKeyId: this.key.keyId });

    this.ordersTable = new OrdersTable(this, 'orders', {
      key: this.key,
      region: config.region,
      name: names.ordersTable,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: ORDERS_TABLE_KEY,
      attribute: [{ name: ORDERS_TABLE_KEY, type: 'S' }],
      streamEnabled: true,
      streamViewType: ORDERS_STREAM_VIEW_TYPE,
      // Writes past the cap are throttled (ThrottlingException): a producer's flood cannot run the
      // table, its stream and the projection past what config allows.
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html
      onDemandThroughput: { maxWriteRequestUnits: config.intake.ordersMaxWriteRequestUnits },
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: config.deletionProtection,
    });

    this.idempotencyTable = new IdempotencyTable(this, 'idempotency', {
      key: this.key,
      region: config.region,
      name: names.idempotencyTable,
      billingMode: 'PAY_PER_REQUEST',
      hashKey: IDEMPOTENCY_TABLE.key,
      attribute: [{ name: IDEMPOTENCY_TABLE.key, type: 'S' }],
      ttl: { attributeName: IDEMPOTENCY_TABLE.ttlAttribute, enabled: true },
    });

    const { cluster, instances } = this.#readModel(options);
    this.cluster = cluster;
    this.instances = instances;
    this.instance = this.instances[0] as RdsClusterInstance;
    this.dbSecret = new ManagedSecret(this.cluster.masterUserSecret.get(0).secretArn, this.key, config.region);
    const roleSecret = (role: DatabaseRole, purpose: string) =>
      new ManagedSecret(
        new SecretsmanagerSecret(this, `${role}-secret`, {
          name: `${names.dbSecret}-${role}`,
          description: `Read-model credentials of the ${role} user (${purpose}); written by init-schema`,
          kmsKeyId: this.key.arn,
          recoveryWindowInDays: config.deletionProtection ? 30 : 0,
        }).arn,
        this.key,
        config.region,
      );
    this.roleSecrets = {
      reader: roleSecret('reader', 'SELECT only: the query functions'),
      writer: roleSecret('writer', 'SELECT, INSERT, UPDATE: the projection'),
    };
  }

  /** The key policy: the account delegates to IAM; the services that encrypt with the key on their own behalf, each for this pipeline only. */
  #keyStatements(config: EnvironmentConfig, names: ResourceNames): PolicyStatement[] {
    const logGroupArn = (pattern: string) => `arn:${this.partition}:logs:${config.region}:${this.accountId}:log-group:${pattern}`;
    return [
      {
        Sid: 'AccountDelegatesToIam',
        Principal: { AWS: `arn:${this.partition}:iam::${this.accountId}:root` },
        Action: KEY_ADMIN_AND_USE_ACTIONS,
        Resource: ['*'],
      },
      {
        // The alarm topic is encrypted with this key; CloudWatch must be able to publish to it (SNS developer guide).
        Sid: 'CloudWatchAlarmsUseTopicKey',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: ['*'],
      },
      // The bus and its archive are encrypted with this key; EventBridge uses it as its own service
      // principal, only for this bus (the encryption context it sets) and this account.
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-cmkey.html (encryption context)
      // https://docs.aws.amazon.com/eventbridge/latest/userguide/encryption-archives.html (kms:ReEncrypt* for archives)
      {
        Sid: 'EventBridgeDescribesKey',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:DescribeKey'],
        Resource: ['*'],
      },
      {
        Sid: 'EventBridgeEncryptsPipelineBus',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        Resource: ['*'],
        Condition: {
          StringEquals: {
            'kms:EncryptionContext:aws:events:event-bus:arn': `arn:${this.partition}:events:${config.region}:${this.accountId}:event-bus/${names.eventBus}`,
            'aws:SourceAccount': this.accountId,
          },
        },
      },
      // The state machine is encrypted with this key and logs to a log group: Step Functions uses the
      // key with its execution role (whose policy grants it), and CloudWatch Logs' delivery service
      // decrypts what it delivers.
      // https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html
      {
        Sid: 'LogDeliveryForEncryptedWorkflow',
        Principal: { Service: 'delivery.logs.amazonaws.com' },
        Action: ['kms:Decrypt'],
        Resource: ['*'],
        Condition: { StringEquals: { 'aws:SourceAccount': this.accountId } },
      },
      {
        Sid: 'CloudWatchLogsForPipelineLogGroups',
        Principal: { Service: `logs.${config.region}.amazonaws.com` },
        Action: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:GenerateDataKeyWithoutPlaintext',
          'kms:DescribeKey',
        ],
        Resource: ['*'],
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': [
              logGroupArn(`/aws/lambda/${names.prefix}-*`),
              logGroupArn(`/aws/vendedlogs/states/${names.prefix}-*`),
              logGroupArn(`/aws/events/${names.prefix}-*`),
              logGroupArn(`/aws/rds/cluster/${names.prefix}-*`),
            ],
          },
        },
      },
    ];
  }

  /** Aurora Serverless v2 MySQL: subnets, parameters (TLS only), exported logs, the cluster and one instance per availability zone. */
  #readModel(options: DataStackOptions): { cluster: RdsCluster; instances: RdsClusterInstance[] } {
    const { config, names } = options;
    const subnetGroup = new DbSubnetGroup(this, 'db-subnets', {
      name: `${names.prefix}-read-model`,
      description: 'Private subnets of the read model',
      subnetIds: options.privateSubnets.map((subnet) => subnet.id),
    });
    const parameters = new RdsClusterParameterGroup(this, 'db-parameters', {
      name: `${names.prefix}-read-model`,
      family: 'aurora-mysql8.0',
      description:
        config.aurora.tls === 'required'
          ? 'Read model: TLS only, slow query log, idle connections closed'
          : 'Read model: slow query log, idle connections closed',
      parameter: [
        { name: 'require_secure_transport', value: config.aurora.tls === 'required' ? 'ON' : 'OFF' },
        { name: 'tls_version', value: 'TLSv1.2,TLSv1.3', applyMethod: 'pending-reboot' },
        // The slowquery export is on: without these it would export an empty log.
        { name: 'slow_query_log', value: '1' },
        { name: 'long_query_time', value: String(config.aurora.longQueryTimeSeconds) },
        { name: 'log_output', value: 'FILE' },
        // A frozen Lambda sandbox cannot close its connections; the server does, so an idle cluster can pause.
        { name: 'wait_timeout', value: String(config.aurora.waitTimeoutSeconds) },
      ],
    });

    const clusterIdentifier = `${names.prefix}-read-model`;
    // The name the final snapshot gets, with the 14 digits its creation time adds, must be one RDS accepts.
    const snapshotProblems = snapshotIdentifierProblems(`${clusterIdentifier}-final-${'0'.repeat(FINAL_SNAPSHOT_TIME_FORMAT.length)}`);
    if (config.finalSnapshot && snapshotProblems.length > 0)
      throw new Error(`the final snapshot identifier of ${clusterIdentifier} ${snapshotProblems.join('; ')}`);
    const exportedLogs = ['error', 'slowquery'];
    const dbLogGroups = exportedLogs.map(
      (log) =>
        new CloudwatchLogGroup(this, `db-logs-${log}`, {
          name: `/aws/rds/cluster/${clusterIdentifier}/${log}`,
          retentionInDays: config.logRetentionDays,
          kmsKeyId: this.key.arn,
        }),
    );
    const cluster = new RdsCluster(this, 'read-model', {
      clusterIdentifier,
      engine: 'aurora-mysql',
      engineMode: 'provisioned',
      engineVersion: config.aurora.engineVersion,
      databaseName: READ_MODEL_DATABASE,
      masterUsername: 'pipeline_admin',
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.key.arn,
      storageEncrypted: true,
      kmsKeyId: this.key.arn,
      port: 3306,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [options.databaseSecurityGroup.id],
      dbClusterParameterGroupName: parameters.name,
      serverlessv2ScalingConfiguration: {
        minCapacity: config.aurora.minCapacity,
        maxCapacity: config.aurora.maxCapacity,
        ...(config.aurora.minCapacity === 0 ? { secondsUntilAutoPause: 3600 } : {}),
      },
      backupRetentionPeriod: config.aurora.backupRetentionDays,
      // Both windows from config (validated there), in UTC; without them RDS picks each at random.
      preferredBackupWindow: config.aurora.backupWindow,
      preferredMaintenanceWindow: config.aurora.maintenanceWindow,
      copyTagsToSnapshot: true,
      deletionProtection: config.deletionProtection,
      skipFinalSnapshot: !config.finalSnapshot,
      ...(config.finalSnapshot ? { finalSnapshotIdentifier: finalSnapshotIdentifier(clusterIdentifier) } : {}),
      enabledCloudwatchLogsExports: exportedLogs,
      dependsOn: dbLogGroups,
      // AWS applies minor versions itself (auto_minor_version_upgrade): the
      // configured version is the floor at creation, and a later plan must not
      // propose the downgrade RDS would refuse. The final snapshot's name is
      // fixed when the cluster is created (its timestamp), not re-evaluated by
      // every plan.
      lifecycle: { ignoreChanges: ['engine_version', ...(config.finalSnapshot ? ['final_snapshot_identifier'] : [])] },
    });
    const instances = Array.from(
      { length: config.aurora.instances },
      (_, index) =>
        new ReadModelInstance(this, index === 0 ? 'read-model-instance' : `read-model-instance-${index + 1}`, index + 1, {
          identifier: `${clusterIdentifier}-${index + 1}`,
          clusterIdentifier: cluster.id,
          instanceClass: 'db.serverless',
          engine: 'aurora-mysql',
          engineVersion: config.aurora.engineVersion,
          // One instance per availability zone: the second is the reader a failover promotes.
          availabilityZone: (options.privateSubnets[index % options.privateSubnets.length] as Subnet).availabilityZone,
          promotionTier: index,
          publiclyAccessible: false,
          caCertIdentifier: DB_CA.identifier,
          dbSubnetGroupName: subnetGroup.name,
          autoMinorVersionUpgrade: true,
          // An instance has a maintenance window of its own (its patches, minor versions): the cluster's.
          preferredMaintenanceWindow: config.aurora.maintenanceWindow,
          lifecycle: { ignoreChanges: ['engine_version'] },
        }),
    );
    return { cluster, instances };
  }
}
