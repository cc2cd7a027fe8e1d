import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { RdsCluster } from '@cdktf/provider-aws/lib/rds-cluster';
import type { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import type { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Resource as NullResource } from '@cdktf/provider-null/lib/resource';
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Token } from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { metricsNamespace, streamFilterPattern, type ResourceNames } from '../config/pipeline';
import { commandWriteOperations, streamEventNames } from '../handlers/commands/registry';
import { REGISTRY, type Registry } from '../handlers/registry';
import { functionCatalogue } from './catalogue';
import { connectionBudget, type ConnectionBudget } from './connection-budget';
import { MIGRATIONS_DIR } from '../handlers/read-model/migrations';
import type { DatabaseRole } from '../handlers/read-model/users';
import { DeadLetterQueue } from './constructs/dead-letter-queue';
import type { DynamodbPath } from './constructs/gateway-endpoint';
import type { ManagedSecret } from './constructs/managed-secret';
import { NodejsFunction } from './constructs/nodejs-function';
import type { IdempotencyTable, OrdersTable } from './constructs/pipeline-tables';
import { StreamMapping } from './constructs/stream-mapping';
import { PipelineStack } from './pipeline-stack';

/** Options of {@link ComputeStack}. */
export interface ComputeStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  readonly privateSubnets: readonly Subnet[];
  readonly lambdaSecurityGroup: SecurityGroup;
  /** The VPC's DynamoDB gateway endpoint, when egress goes through endpoints: the in-VPC functions' table grants shape its policy. */
  readonly dynamodbEndpoint?: DynamodbPath | undefined;
  readonly key: KmsKey;
  readonly ordersTable: OrdersTable;
  readonly idempotencyTable: IdempotencyTable;
  readonly cluster: RdsCluster;
  readonly dbSecret: ManagedSecret;
  /** The secret of each database role (reader for the queries, writer for the projection). */
  readonly roleSecrets: Readonly<Record<DatabaseRole, ManagedSecret>>;
  /** Where the handler bundles are. @default dist/ */
  readonly distDir?: string;
  /** The queries (one function each) and commands (the stream filter). @default the project's registry */
  readonly registry?: Registry;
}

/**
 * The schema trigger's command: invokes init-schema and fails the apply, with
 * the cause, unless the function ran and returned. `aws lambda invoke` exits 0
 * on a function error, and what it prints follows the caller's configuration
 * (`AWS_DEFAULT_OUTPUT`, a profile's `output = text` or `table`), so the
 * command fixes the shape itself: `--output json` and a `--query` that
 * reduces the answer to `"<StatusCode>|<FunctionError>"`. Only `"200|null"`
 * passes; anything else (a function error, an answer it cannot read) fails.
 * A missing CLI, refused credentials, a function the region does not hold
 * and an unreachable endpoint each fail with a message naming that cause.
 * Written without `${`: Terraform would read it as an interpolation.
 * https://docs.aws.amazon.com/cli/latest/reference/lambda/invoke.html (FunctionError, StatusCode)
 * https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-output-format.html (--output overrides the configured format)
 */
export const SCHEMA_INIT_COMMAND = [
  'set -euo pipefail',
  'fail() { echo "schema initialisation failed: $*" >&2; exit 1; }',
  'command -v aws >/dev/null 2>&1 || fail "no AWS CLI (aws) on the PATH of the machine running terraform: install AWS CLI v2"',
  'response="$(mktemp)"; errors="$(mktemp)"',
  'trap \'rm -f "$response" "$errors"\' EXIT',
  'if ! outcome="$(aws lambda invoke --function-name "$FUNCTION_NAME" --region "$AWS_REGION" --cli-read-timeout "$READ_TIMEOUT" --output json --query "join(\'|\', [to_string(StatusCode), to_string(FunctionError)])" "$response" 2>"$errors")"; then',
  '  cause="$(cat "$errors")"',
  '  case "$cause" in',
  '    *"Unable to locate credentials"*|*UnrecognizedClient*|*InvalidClientTokenId*|*InvalidSignature*|*SignatureDoesNotMatch*|*ExpiredToken*) hint="the AWS credentials are missing, wrong or expired";;',
  '    *AccessDenied*) hint="these AWS credentials may not invoke $FUNCTION_NAME (lambda:InvokeFunction)";;',
  '    *ResourceNotFound*) hint="no function $FUNCTION_NAME in region $AWS_REGION for these credentials: wrong region or account";;',
  '    *"Could not connect"*|*"endpoint URL"*|*"Connect timeout"*) hint="Lambda in region $AWS_REGION cannot be reached: a wrong region name, or no network";;',
  '    *) hint="the AWS CLI failed";;',
  '  esac',
  '  fail "$hint: $cause"',
  'fi',
  'cat "$response"; echo',
  '[[ "$outcome" == \'"200|null"\' ]] || fail "init-schema reported an error (status|error: $outcome); its log group is /aws/lambda/$FUNCTION_NAME"',
].join('\n');

/**
 * What the CLI waits for the invocation's answer beyond the function's timeout.
 * The CLI's attempts are 1 (`AWS_MAX_ATTEMPTS`): a read timeout must not invoke
 * the function a second time.
 */
const SCHEMA_INIT_READ_MARGIN_SECONDS = 60;

/** SHA-256 over the migration files (names and contents), the schema trigger's first input. */
export function migrationSetHash(dir: string = MIGRATIONS_DIR): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort()) {
    hash.update(file).update(readFileSync(path.join(dir, file)));
  }
  return hash.digest('hex');
}

/**
 * The functions: command/query validation, the projection with its stream
 * mapping and on-failure queue, the two queries, and schema initialisation run
 * at deploy time. Each function has a role of its own with named actions on
 * named resources.
 */
export class ComputeStack extends PipelineStack {
  readonly validateRequest: NodejsFunction;
  readonly projectOrders: NodejsFunction;
  /** One function per query of the registry, by query name. */
  readonly queryFunctions: ReadonlyMap<string, NodejsFunction>;
  readonly initSchema: NodejsFunction;
  readonly rebuildReadModel: NodejsFunction;
  readonly failureQueue: DeadLetterQueue;
  readonly streamMapping: StreamMapping;
  readonly schemaInit: NullResource;
  /** Every function of the stack, found from its constructs: monitoring alarms on each, so a new one cannot be forgotten. */
  get functions(): NodejsFunction[] {
    return this.node.findAll().filter((construct): construct is NodejsFunction => construct instanceof NodejsFunction);
  }
  /** What the functions that reach Aurora may hold at most, against its limit. */
  readonly connectionBudget: ConnectionBudget;

  readonly #ordersTable: OrdersTable;

  constructor(scope: Construct, id: string, options: ComputeStackOptions) {
    super(scope, id, options.config);
    this.#ordersTable = options.ordersTable;
    new NullProvider(this, 'null');
    const { config, names } = options;
    const registry = options.registry ?? REGISTRY;
    const { vpc, common, database } = this.#functionParts(options, registry);
    this.validateRequest = new NodejsFunction(this, 'validate-request', {
      ...common,
      key: 'validateRequest',
      functionName: names.function('validateRequest'),
      // Every command goes through it: reserved, a flood neither starves it nor takes the account's concurrency.
      reservedConcurrency: config.intake.validateRequestConcurrency,
      environment: { SUPPORTED_QUERIES: registry.queries.map((query) => query.name).join(',') },
    });
    this.projectOrders = new NodejsFunction(this, 'project-orders', {
      ...common,
      key: 'projectOrders',
      functionName: names.function('projectOrders'),
      reservedConcurrency: projectionConcurrency(config),
      environment: {
        ...database(options.cluster.endpoint, 'projectOrders', options.roleSecrets.writer),
        IDEMPOTENCY_TABLE: options.idempotencyTable.table.name,
      },
      vpc,
    });
    // Queries read the reader endpoint: they never need the writer.
    this.queryFunctions = new Map(
      registry.queries.map((query) => [
        query.name,
        new NodejsFunction(this, query.functionName, {
          ...common,
          key: query.name,
          functionName: names.function(query.name),
          environment: database(options.cluster.readerEndpoint, query.name, options.roleSecrets.reader),
          vpc,
        }),
      ]),
    );
    this.initSchema = new NodejsFunction(this, 'init-schema', {
      ...common,
      key: 'initSchema',
      functionName: names.function('initSchema'),
      environment: {
        ...database(options.cluster.endpoint, 'initSchema', options.dbSecret),
        DB_READER_SECRET_ID: options.roleSecrets.reader.arn,
        DB_WRITER_SECRET_ID: options.roleSecrets.writer.arn,
      },
      vpc,
    });

    this.rebuildReadModel = new NodejsFunction(this, 'rebuild-read-model', {
      ...common,
      key: 'rebuildReadModel',
      functionName: names.function('rebuildReadModel'),
      environment: { ...database(options.cluster.endpoint, 'rebuildReadModel', options.dbSecret), ORDERS_TABLE: options.ordersTable.table.name },
      vpc,
    });
    options.ordersTable.grantScanOrders(this.rebuildReadModel);

    this.connectionBudget = this.#grantDatabaseAccess(options);

    this.failureQueue = new DeadLetterQueue(this, 'projection-failures', { name: names.projectionFailureQueue });
    options.idempotencyTable.grantIdempotencyRecords(this.projectOrders);

    this.streamMapping = this.#projectionFeed(config, registry.commands);

    this.schemaInit = this.#schemaTrigger(config, options.cluster);
  }

  /** What the functions share: the VPC placement, the common settings, and a read-model connection's environment. */
  #functionParts(options: ComputeStackOptions, registry: Registry) {
    const { config } = options;
    const vpc = {
      subnetIds: options.privateSubnets.map((subnet) => subnet.id),
      securityGroupIds: [options.lambdaSecurityGroup.id],
      dynamodbEndpoint: options.dynamodbEndpoint,
    };
    const common = {
      logRetentionDays: config.logRetentionDays,
      kmsKeyArn: options.key.arn,
      metricsNamespace: metricsNamespace(config.environment),
      catalogue: functionCatalogue(registry.queries),
      ...(options.distDir ? { distDir: options.distDir } : {}),
    };
    // Host, port and database come from the cluster's attributes, so the local
    // runtime resolves them to DB_URL exactly as Terraform resolves them on AWS.
    const database = (host: string, key: string, secret: ManagedSecret) => ({
      DB_SECRET_ID: secret.arn,
      DB_HOST: host,
      DB_PORT: Token.asString(options.cluster.port),
      DB_NAME: options.cluster.databaseName,
      DB_TLS: config.aurora.tls,
      DB_CONNECTION_LIMIT: String(common.catalogue.settings[key]?.databaseConnections ?? 1),
    });
    return { vpc, common, database };
  }

  /** The orders stream feeding the projection (batching, retries, bisect, partial batch responses, the on-failure queue). */
  #projectionFeed(config: EnvironmentConfig, commands: Registry['commands']): StreamMapping {
    const mapping = config.stream;
    // Grants the projection the stream (and its key) and the on-failure queue.
    return new StreamMapping(this, 'orders-stream', {
      table: this.#ordersTable,
      function: this.projectOrders,
      onFailure: this.failureQueue,
      writeOperations: commandWriteOperations(commands),
      alarmPrefix: 'projection',
      startingPosition: 'TRIM_HORIZON',
      batchSize: mapping.batchSize,
      maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
      bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
      parallelizationFactor: config.projection.parallelizationFactor,
      // Event counts (polled, invoked, failed, dropped) even when the mapping stops invoking.
      metricsConfig: { metrics: ['EventCount'] },
      maximumRetryAttempts: mapping.maximumRetryAttempts,
      maximumRecordAgeInSeconds: mapping.maximumRecordAgeInSeconds,
      functionResponseTypes: ['ReportBatchItemFailures'],
      filterCriteria: { filter: [{ pattern: JSON.stringify(streamFilterPattern(streamEventNames(commands))) }] },
    });
  }

  /** Each function reads only its own role's secret; init-schema writes the role secrets. Fails the synth when the connection budget does not fit. */
  #grantDatabaseAccess(options: ComputeStackOptions): ConnectionBudget {
    const { config } = options;
    const databaseUsers = [this.projectOrders, ...this.queryFunctions.values(), this.initSchema, this.rebuildReadModel];
    // Each function may read only its own role's secret; only init-schema writes the role secrets (and reads them, to rotate).
    for (const fn of this.queryFunctions.values()) options.roleSecrets.reader.grantRead(fn);
    options.roleSecrets.writer.grantRead(this.projectOrders);
    for (const fn of [this.initSchema, this.rebuildReadModel]) options.dbSecret.grantRead(fn);
    options.roleSecrets.reader.grantWrite(this.initSchema, 'WriteReaderSecret');
    options.roleSecrets.writer.grantWrite(this.initSchema, 'WriteWriterSecret');
    // A rotation reads which of the role's two users the secret names, to renew the other one.
    options.roleSecrets.reader.grantRead(this.initSchema, 'ReadReaderSecret');
    options.roleSecrets.writer.grantRead(this.initSchema, 'ReadWriterSecret');
    // Fails the synth, with the numbers, when the functions could hold more connections than Aurora allows.
    return connectionBudget(
      config,
      databaseUsers.map((fn) => ({
        function: fn.key,
        reservedConcurrency: fn.settings.reservedConcurrency,
        poolSize: Number(fn.environment.DB_CONNECTION_LIMIT),
        endpoint: this.queryFunctions.has(fn.key) ? 'reader' : 'writer',
      })),
    );
  }

  /** Runs init-schema at apply time whenever the migrations, its code, or the cluster change. */
  #schemaTrigger(config: EnvironmentConfig, cluster: RdsCluster): NullResource {
    return new NullResource(this, 'schema-init', {
      triggers: {
        migrations: migrationSetHash(),
        code: this.initSchema.bundleHash,
        function: this.initSchema.function.arn,
        // The cluster's immutable id, not its name: a cluster replaced or restored from a
        // snapshot or a point in time keeps its identifier (so its ARN) but gets a new
        // resource id, and needs the schema and fresh role passwords (its users hold the
        // passwords of the snapshot's time, the secrets the latest ones).
        // https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBCluster.html (DbClusterResourceId)
        database: cluster.clusterResourceId,
      },
      provisioners: [
        {
          type: 'local-exec',
          interpreter: ['/bin/bash', '-c'],
          command: SCHEMA_INIT_COMMAND,
          environment: {
            FUNCTION_NAME: this.initSchema.function.functionName,
            AWS_REGION: config.region,
            READ_TIMEOUT: String(this.initSchema.settings.timeoutSeconds + SCHEMA_INIT_READ_MARGIN_SECONDS),
            AWS_MAX_ATTEMPTS: '1',
          },
        },
      ],
      dependsOn: [this.initSchema.function],
    });
  }
}

/** The projection's reserved concurrency: one invocation per stream shard, times the parallelization factor. */
function projectionConcurrency(config: EnvironmentConfig): number {
  return config.projection.expectedShards * config.projection.parallelizationFactor;
}
