import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { AssetType, Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { LAMBDA_RUNTIME, SERVICE_NAME } from '../../config/pipeline';
import { CATALOGUE, type FunctionCatalogue, type FunctionSettings } from '../catalogue';
import { zipOfFunction } from '../bundling/build';
import type { DynamodbPath } from './gateway-endpoint';
import type { PolicyStatement } from './iam';
import type { AlarmSink, Alarmed, Metric } from './alarms';
import { ServiceRole, type Grantee } from './role';

/** Options of {@link NodejsFunction}. */
export interface NodejsFunctionOptions {
  /** The function's key in {@link catalogue}: a core function's, or a query's name. */
  readonly key: string;
  /** Where the function's settings, environment and bundle name come from. @default the project's catalogue */
  readonly catalogue?: FunctionCatalogue;
  readonly functionName: string;
  /** Variables the function reads; checked against the shared config's list. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionDays: number;
  /** Encrypts the log group and the environment variables. */
  readonly kmsKeyArn: string;
  /** Runs the function in these private subnets with these security groups. */
  readonly vpc?: {
    readonly subnetIds: string[];
    readonly securityGroupIds: string[];
    /** The gateway endpoint the function reaches DynamoDB through (egress `vpc-endpoints`). */
    readonly dynamodbEndpoint?: DynamodbPath | undefined;
  };
  /** Overrides the catalogue's reserved concurrency (the projection's follows the stream's shards, from config). */
  readonly reservedConcurrency?: number;
  /** Where the bundles are. @default dist/ */
  readonly distDir?: string;
  /** CloudWatch namespace of the function's embedded-format metrics. */
  readonly metricsNamespace: string;
}

/** A CloudWatch metric of a function, as alarms and dashboards name it. */
export type FunctionMetric = Metric & { readonly statistic: 'Sum' | 'Maximum' };

/**
 * One Lambda function from its esbuild bundle: the asset, `nodejs24.x` on
 * arm64, a log group with retention (JSON logs), X-Ray tracing, source maps,
 * VPC placement, and a role of its own whose policy grows through {@link grant}.
 */
export class NodejsFunction extends Construct implements Grantee, Alarmed {
  readonly key: string;
  readonly settings: FunctionSettings;
  /** The variables the function reads (before the runtime's own). */
  readonly environment: Readonly<Record<string, string>>;
  readonly function: LambdaFunction;
  readonly role: ServiceRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly asset: TerraformAsset;
  /** SHA-256 of the deployment zip, known at synth time. */
  readonly bundleHash: string;
  readonly dynamodbPath: DynamodbPath | undefined;

  constructor(scope: Construct, id: string, options: NodejsFunctionOptions) {
    super(scope, id);
    this.key = options.key;
    const catalogue: FunctionCatalogue = options.catalogue ?? CATALOGUE;
    const [catalogued, expected, bundleName] = [catalogue.settings[options.key], catalogue.environment[options.key], catalogue.names[options.key]];
    if (!catalogued || !expected || !bundleName)
      throw new Error(`function ${options.functionName}: no function ${options.key} in the catalogue (${Object.keys(catalogue.names).join(', ')})`);
    this.settings = { ...catalogued, ...(options.reservedConcurrency !== undefined ? { reservedConcurrency: options.reservedConcurrency } : {}) };
    this.environment = options.environment;
    this.dynamodbPath = options.vpc?.dynamodbEndpoint;
    const missing = expected.filter((name) => !(name in options.environment));
    const extra = Object.keys(options.environment).filter((name) => !expected.includes(name));
    if (missing.length > 0 || extra.length > 0) {
      throw new Error(
        `function ${options.functionName}: environment must be exactly ${expected.join(', ') || 'empty'} (missing: ${missing.join(', ') || 'none'}; unexpected: ${extra.join(', ') || 'none'})`,
      );
    }

    // The build writes a deterministic zip: same code, same hash, no plan noise.
    const archive = zipOfFunction(bundleName, options.distDir);
    let bytes: Buffer;
    try {
      bytes = readFileSync(archive);
    } catch {
      throw new Error(`bundle ${archive} is missing; run npm run build first`);
    }
    this.bundleHash = createHash('sha256').update(bytes).digest('hex');
    this.asset = new TerraformAsset(this, 'bundle', { path: archive, type: AssetType.FILE });

    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: `/aws/lambda/${options.functionName}`,
      retentionInDays: options.logRetentionDays,
      kmsKeyId: options.kmsKeyArn,
    });

    this.role = new ServiceRole(this, 'role', { policyId: 'policy', name: `${options.functionName}-role`, assumedBy: 'lambda.amazonaws.com' });
    this.grant({ Sid: 'WriteOwnLogs', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [`${this.logGroup.arn}:*`] });
    this.grant({ Sid: 'Tracing', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: ['*'] });
    if (options.vpc) {
      this.grant({
        Sid: 'VpcNetworkInterfaces',
        // As AWS's current AWSLambdaVPCAccessExecutionRole.
        Action: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        Resource: ['*'],
      });
    }

    const settings = this.settings;
    this.function = new LambdaFunction(this, 'function', {
      functionName: options.functionName,
      role: this.role.role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: ['arm64'],
      handler: 'index.handler',
      filename: this.asset.path,
      sourceCodeHash: Fn.filebase64sha256(this.asset.path),
      memorySize: settings.memoryMb,
      timeout: settings.timeoutSeconds,
      ...(settings.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: settings.reservedConcurrency } : {}),
      kmsKeyArn: options.kmsKeyArn,
      environment: {
        variables: {
          ...options.environment,
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: options.metricsNamespace,
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
      loggingConfig: { logFormat: 'JSON', logGroup: this.logGroup.name },
      tracingConfig: { mode: 'Active' },
      ...(options.vpc ? { vpcConfig: { subnetIds: options.vpc.subnetIds, securityGroupIds: options.vpc.securityGroupIds } } : {}),
      dependsOn: [this.logGroup, this.role.policy],
    });
  }

  /** The function's errors (Lambda `Errors`, summed): what an alarm on its failures watches. */
  metricErrors(): FunctionMetric {
    return { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: this.function.functionName }, statistic: 'Sum' };
  }

  /**
   * The function's invocations (Lambda `Invocations`, summed): published only when it runs, so a
   * function nobody invokes has no data point at all.
   * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
   */
  metricInvocations(): FunctionMetric {
    return { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: { FunctionName: this.function.functionName }, statistic: 'Sum' };
  }

  /** The function's throttles (Lambda `Throttles`, summed): invocations refused at its reserved concurrency. */
  metricThrottles(): FunctionMetric {
    return { namespace: 'AWS/Lambda', metricName: 'Throttles', dimensions: { FunctionName: this.function.functionName }, statistic: 'Sum' };
  }

  /** The age of the last record a stream mapping gave the function (Lambda `IteratorAge`, maximum, ms). */
  metricIteratorAge(): FunctionMetric {
    return { namespace: 'AWS/Lambda', metricName: 'IteratorAge', dimensions: { FunctionName: this.function.functionName }, statistic: 'Maximum' };
  }

  /** Adds a statement to the function's own policy. */
  grant(statement: PolicyStatement): void {
    this.role.grant(statement);
  }

  /** Errors above the environment's threshold; throttling that lasts. */
  addAlarms(sink: AlarmSink): void {
    const { alarms } = sink.config;
    sink.alarm({
      id: `${this.node.id}-errors`,
      description: `${this.node.id} failed (errors per 5 minutes above ${alarms.functionErrors})`,
      ...this.metricErrors(),
      threshold: alarms.functionErrors,
    });
    // A throttled stream batch or workflow task is retried, so a burst of throttles is
    // back-pressure; throttling that lasts 15 minutes means the concurrency is too low.
    sink.alarm({
      id: `${this.node.id}-throttles`,
      description: `${this.node.id} has been throttled at its reserved concurrency for 15 minutes: raise it (for project-orders, projection.expectedShards) within the connection budget`,
      ...this.metricThrottles(),
      threshold: alarms.functionThrottles,
      periods: 3,
    });
  }
}
