/**
 * Typed configuration of one deployment environment, validated at synth time.
 * `main.ts` picks the environment from `CQRS_ENV` (default `dev`); a few fields
 * can be overridden from the environment for a one-off deployment.
 */
import { windowProblems } from './maintenance-windows';
import { DEFAULT_STREAM_MAPPING, type StreamMappingSettings } from './pipeline';

/**
 * The environments: three deployed to AWS, and `local`, the same stacks
 * synthesized for the local runtime (`npm start`, the tests, the bench).
 */
export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod', 'local'] as const;

/** One of {@link ENVIRONMENT_NAMES}. */
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** How private Lambdas reach AWS APIs. */
type Egress = 'vpc-endpoints' | 'nat-gateway';

/** Everything that differs between environments. */
export interface EnvironmentConfig {
  readonly environment: EnvironmentName;
  readonly region: string;
  /** Availability zones the VPC spans (subnets, Aurora). @default 2 */
  readonly azCount: number;
  readonly vpcCidr: string;
  /** VPC endpoints (no internet path at all) or one NAT gateway per AZ. @default vpc-endpoints */
  readonly egress: Egress;
  readonly aurora: {
    /** A current Aurora MySQL 3 engine version. */
    readonly engineVersion: string;
    /** Serverless v2 capacity range in ACUs. */
    readonly minCapacity: number;
    readonly maxCapacity: number;
    readonly backupRetentionDays: number;
    /**
     * Whether clients must use TLS. Always `required` on AWS; `off` only for
     * `local`, whose read model is the plain MySQL server at `DB_URL`.
     */
    readonly tls: 'required' | 'off';
    /** Instances in the cluster, each in its own availability zone (2 or more: a reader to fail over to). */
    readonly instances: number;
    /** Queries slower than this many seconds go to the slow query log (exported to CloudWatch). */
    readonly longQueryTimeSeconds: number;
    /**
     * Seconds an idle connection lives on the server. A frozen Lambda sandbox
     * cannot close its pool, so this is what lets an idle cluster reach zero
     * connections and auto-pause.
     */
    readonly waitTimeoutSeconds: number;
    /**
     * The weekly window in which RDS may patch the cluster and its instances
     * (`ddd:hh24:mi-ddd:hh24:mi`, UTC, at least 30 minutes): an engine patch
     * restarts them, so pick the quietest half hour. Without it AWS picks one
     * at random. Checked by `maintenance-windows.ts`.
     */
    readonly maintenanceWindow: string;
    /** The daily window of the automated backup (`hh24:mi-hh24:mi`, UTC, at least 30 minutes, apart from the maintenance window). */
    readonly backupWindow: string;
  };
  /** Alarm thresholds and where alarms go. */
  readonly alarms: {
    /** Projection lag (stream IteratorAge, maximum) that alarms, in seconds. */
    readonly iteratorAgeSeconds: number;
    /** Errors of any function per 5 minutes that alarm (0: the first error alarms). */
    readonly functionErrors: number;
    /** Throttles of any function per 5 minutes that alarm. */
    readonly functionThrottles: number;
    /** Failed or timed-out workflow executions per 5 minutes that alarm. */
    readonly executionsFailed: number;
    /** Share of the maximum capacity (ACU) that alarms, e.g. 0.8. */
    readonly capacityRatio: number;
    /** Email addresses subscribed to the alarm topic (each confirms by mail). */
    readonly emails: readonly string[];
  };
  /** The stream → projection event source mapping (one name per setting, from {@link StreamMappingSettings}). */
  readonly stream: StreamMappingSettings;
  /**
   * The stream → projection sizing. Lambda runs one invocation per stream
   * shard at a time, times the parallelization factor, so the projection's
   * reserved concurrency is `expectedShards × parallelizationFactor`: fewer
   * and it throttles as soon as the table has more shards. The assumption is
   * `expectedShards`: a DynamoDB stream has a shard per table partition, and
   * a new on-demand table may start with several partitions. After the first
   * deploy read the real count (`aws dynamodbstreams describe-stream`) and
   * resize here (README, "First deploy to a new account").
   * https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html (parallelization factor, 1 to 10)
   */
  readonly projection: { readonly expectedShards: number; readonly parallelizationFactor: number };
  /**
   * What a producer's flood can take, so it cannot starve the rest of the
   * pipeline or the account: the orders table's on-demand write cap
   * (DynamoDB throttles writes past it, the workflow retries them and, past
   * its retries, answers `ServiceUnavailable`), and validate-request's
   * reserved concurrency (every command goes through it: reserved, it always
   * has that much, and never more, whatever else the account runs). Lambda
   * serves at most 10 requests per second per unit of concurrency, so
   * validation keeps up with the table's cap when 10 × concurrency ≥ the cap.
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode-max-throughput.html
   * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (10 requests per second per concurrency)
   */
  readonly intake: {
    /** The orders table's `on_demand_throughput.max_write_request_units` (write request units per second). */
    readonly ordersMaxWriteRequestUnits: number;
    /** validate-request's reserved concurrency (its request rate is at most 10 × this). */
    readonly validateRequestConcurrency: number;
  };
  /** CloudWatch Logs retention of every log group, in days. */
  readonly logRetentionDays: number;
  /**
   * What the state machine logs: `ALL`, `ERROR`, `FATAL` or `OFF`, and whether
   * each entry carries the execution's data (every order's content, which is
   * personal data and costs ingestion).
   */
  readonly workflowLogs: { readonly level: 'ALL' | 'ERROR' | 'FATAL' | 'OFF'; readonly includeExecutionData: boolean };
  /** Protects the tables and the database from deletion (and keeps a final snapshot). */
  readonly deletionProtection: boolean;
  /**
   * Keep a final snapshot of the read model when the cluster is destroyed.
   * Independent of {@link deletionProtection}: lifting the protection to tear
   * an environment down still leaves the snapshot.
   */
  readonly finalSnapshot: boolean;
  /** Days the bus archive keeps events for replay. */
  readonly archiveRetentionDays: number;
}

const shared = {
  region: 'us-east-1',
  azCount: 2,
  vpcCidr: '10.40.0.0/16',
  egress: 'vpc-endpoints',
  stream: DEFAULT_STREAM_MAPPING,
  archiveRetentionDays: 30,
  workflowLogs: { level: 'ALL', includeExecutionData: true },
  projection: { expectedShards: 4, parallelizationFactor: 1 },
  alarms: { iteratorAgeSeconds: 60, functionErrors: 0, functionThrottles: 0, executionsFailed: 0, capacityRatio: 0.8, emails: [] },
} as const;

/** The environments, as deployed by default. */
export const ENVIRONMENTS: Record<EnvironmentName, EnvironmentConfig> = {
  dev: {
    ...shared,
    environment: 'dev',
    aurora: {
      engineVersion: '8.0.mysql_aurora.3.10.4',
      minCapacity: 0,
      maxCapacity: 2,
      backupRetentionDays: 1,
      tls: 'required',
      instances: 1,
      longQueryTimeSeconds: 1,
      waitTimeoutSeconds: 300,
      maintenanceWindow: 'sun:04:00-sun:04:30',
      backupWindow: '03:00-03:30',
    },
    logRetentionDays: 14,
    intake: { ordersMaxWriteRequestUnits: 100, validateRequestConcurrency: 10 },
    deletionProtection: false,
    finalSnapshot: false,
  },
  staging: {
    ...shared,
    environment: 'staging',
    vpcCidr: '10.41.0.0/16',
    aurora: {
      engineVersion: '8.0.mysql_aurora.3.10.4',
      minCapacity: 0.5,
      maxCapacity: 4,
      backupRetentionDays: 7,
      tls: 'required',
      instances: 1,
      longQueryTimeSeconds: 1,
      waitTimeoutSeconds: 600,
      maintenanceWindow: 'sat:04:00-sat:04:30',
      backupWindow: '03:00-03:30',
    },
    logRetentionDays: 30,
    intake: { ordersMaxWriteRequestUnits: 1_000, validateRequestConcurrency: 100 },
    workflowLogs: { level: 'ERROR', includeExecutionData: false },
    deletionProtection: true,
    finalSnapshot: true,
  },
  prod: {
    ...shared,
    environment: 'prod',
    azCount: 3,
    vpcCidr: '10.42.0.0/16',
    aurora: {
      engineVersion: '8.0.mysql_aurora.3.10.4',
      minCapacity: 0.5,
      maxCapacity: 16,
      backupRetentionDays: 14,
      tls: 'required',
      instances: 2,
      longQueryTimeSeconds: 0.5,
      waitTimeoutSeconds: 600,
      maintenanceWindow: 'sun:04:00-sun:05:00',
      backupWindow: '02:00-03:00',
    },
    logRetentionDays: 365,
    // A quarter above what the projection drains (4 shards × 1,000 writes/s): a burst waits in the
    // stream (the lag alarm sees it), a flood past it is throttled.
    intake: { ordersMaxWriteRequestUnits: 5_000, validateRequestConcurrency: 500 },
    // A year of every order's content in CloudWatch would be personal data kept and paid for: failures only, without data.
    workflowLogs: { level: 'ERROR', includeExecutionData: false },
    deletionProtection: true,
    finalSnapshot: true,
    archiveRetentionDays: 90,
  },
  local: {
    ...shared,
    environment: 'local',
    aurora: {
      engineVersion: '8.0.mysql_aurora.3.10.4',
      minCapacity: 0,
      maxCapacity: 2,
      backupRetentionDays: 1,
      tls: 'off',
      instances: 1,
      longQueryTimeSeconds: 1,
      waitTimeoutSeconds: 300,
      maintenanceWindow: 'sun:04:00-sun:04:30',
      backupWindow: '03:00-03:30',
    },
    logRetentionDays: 1,
    intake: { ordersMaxWriteRequestUnits: 1_000, validateRequestConcurrency: 100 },
    deletionProtection: false,
    finalSnapshot: false,
    archiveRetentionDays: 1,
  },
};

/** The environment variable that adds alarm subscribers (comma-separated addresses), for CI. */
const ALARM_EMAILS_VARIABLE = 'ALARM_EMAILS';

/** DynamoDB Streams keeps a record 24 hours (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html). */
export const STREAM_RETENTION_SECONDS = 24 * 3600;

/** The time an operator is given to notice a projection failure and redrive it from the stream. */
const REDRIVE_WINDOW_SECONDS = 12 * 3600;

/** The retention values CloudWatch Logs accepts. */
/**
 * DynamoDB's default per-table throughput quota for on-demand tables (write request units per
 * second); a write cap above it would never bind (config/aws-facts.json holds the same figure for
 * the capacity model, and a test keeps the two equal).
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
 */
export const DYNAMODB_TABLE_WRITE_QUOTA = 40_000;

/** Requests per second Lambda serves per unit of a function's concurrency (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
export const LAMBDA_REQUESTS_PER_CONCURRENCY = 10;

const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** A configuration that cannot be deployed; `problems` names every field. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid environment configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Checks a configuration, throwing a {@link ConfigError} that lists every problem. */
export function validateConfig(config: EnvironmentConfig): EnvironmentConfig {
  const problems: string[] = [];
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(config.environment)) {
    problems.push(`environment must be one of ${ENVIRONMENT_NAMES.join(', ')}, got ${JSON.stringify(config.environment)}`);
  }
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(config.region)) problems.push(`region must look like us-east-1, got ${JSON.stringify(config.region)}`);
  if (!Number.isInteger(config.azCount) || config.azCount < 2 || config.azCount > 3) {
    problems.push(`azCount must be 2 or 3 (Aurora needs subnets in at least two AZs), got ${config.azCount}`);
  }
  const cidr = /^(\d{1,3})\.(\d{1,3})\.0\.0\/(\d{1,2})$/.exec(config.vpcCidr);
  if (!cidr || Number(cidr[3]) > 20 || Number(cidr[3]) < 16) problems.push(`vpcCidr must be an IPv4 /16 to /20 block like 10.40.0.0/16, got ${config.vpcCidr}`);
  if (config.egress !== 'vpc-endpoints' && config.egress !== 'nat-gateway') {
    problems.push(`egress must be "vpc-endpoints" or "nat-gateway", got ${JSON.stringify(config.egress)}`);
  }
  const { aurora, stream } = config;
  if (!/^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$/.test(aurora.engineVersion)) {
    problems.push(`aurora.engineVersion must be an Aurora MySQL 3 version like 8.0.mysql_aurora.3.10.4, got ${aurora.engineVersion}`);
  }
  const validAcu = (value: number) => value >= 0 && value <= 256 && Number.isInteger(value * 2);
  if (!validAcu(aurora.minCapacity)) problems.push(`aurora.minCapacity must be 0 to 256 in steps of 0.5 ACU, got ${aurora.minCapacity}`);
  if (!validAcu(aurora.maxCapacity) || aurora.maxCapacity < 1) {
    problems.push(`aurora.maxCapacity must be 1 to 256 in steps of 0.5 ACU, got ${aurora.maxCapacity}`);
  }
  if (aurora.maxCapacity < aurora.minCapacity) {
    problems.push(`aurora.maxCapacity (${aurora.maxCapacity}) must not be below aurora.minCapacity (${aurora.minCapacity})`);
  }
  if (aurora.tls !== 'required' && !(aurora.tls === 'off' && config.environment === 'local')) {
    problems.push(`aurora.tls must be "required" (only the local environment may turn it off), got ${JSON.stringify(aurora.tls)}`);
  }
  if (!Number.isInteger(aurora.instances) || aurora.instances < 1 || aurora.instances > config.azCount) {
    problems.push(`aurora.instances must be 1 to azCount (${config.azCount}), one per availability zone, got ${aurora.instances}`);
  }
  if (!(aurora.longQueryTimeSeconds > 0 && aurora.longQueryTimeSeconds <= 3600))
    problems.push(`aurora.longQueryTimeSeconds must be above 0 and at most 3600, got ${aurora.longQueryTimeSeconds}`);
  if (!Number.isInteger(aurora.waitTimeoutSeconds) || aurora.waitTimeoutSeconds < 60 || aurora.waitTimeoutSeconds > 28_800) {
    problems.push(`aurora.waitTimeoutSeconds must be 60 to 28800, got ${aurora.waitTimeoutSeconds}`);
  }
  problems.push(...windowProblems(aurora.maintenanceWindow, aurora.backupWindow));
  const { alarms } = config;
  if (!(alarms.capacityRatio > 0 && alarms.capacityRatio <= 1))
    problems.push(`alarms.capacityRatio must be above 0 and at most 1, got ${alarms.capacityRatio}`);
  for (const field of ['iteratorAgeSeconds', 'functionErrors', 'functionThrottles', 'executionsFailed'] as const) {
    if (!Number.isInteger(alarms[field]) || alarms[field] < 0) problems.push(`alarms.${field} must be a whole number, 0 or more, got ${alarms[field]}`);
  }
  for (const email of alarms.emails)
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) problems.push(`alarms.emails: ${JSON.stringify(email)} is not an email address`);
  if ((config.environment === 'staging' || config.environment === 'prod') && alarms.emails.length === 0) {
    problems.push(
      `alarms.emails: ${config.environment} needs at least one subscriber, or its alarms reach nobody; set alarms.emails in config/environments.ts, or ${ALARM_EMAILS_VARIABLE}=ops@example.com,oncall@example.com (CI)`,
    );
  }
  const { projection } = config;
  if (!Number.isInteger(projection.expectedShards) || projection.expectedShards < 1 || projection.expectedShards > 64)
    problems.push(`projection.expectedShards must be 1 to 64, got ${projection.expectedShards}`);
  if (!Number.isInteger(projection.parallelizationFactor) || projection.parallelizationFactor < 1 || projection.parallelizationFactor > 10) {
    problems.push(`projection.parallelizationFactor must be 1 to 10 (Lambda's range), got ${projection.parallelizationFactor}`);
  }
  if (!['ALL', 'ERROR', 'FATAL', 'OFF'].includes(config.workflowLogs.level))
    problems.push(`workflowLogs.level must be ALL, ERROR, FATAL or OFF, got ${JSON.stringify(config.workflowLogs.level)}`);
  // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html: stream records are kept 24 hours.
  // A record the mapping drops at maximumRecordAgeInSeconds must still be in the stream while an operator
  // notices and redrives it (npm run redrive reads the record back from the stream).
  const age = stream.maximumRecordAgeInSeconds;
  if (age !== -1 && (!Number.isInteger(age) || age < 60 || age > 604_800))
    problems.push(`stream.maximumRecordAgeInSeconds must be -1 or 60 to 604800 (Lambda's range), got ${age}`);
  if (age === -1 || age + REDRIVE_WINDOW_SECONDS > STREAM_RETENTION_SECONDS) {
    problems.push(
      `stream.maximumRecordAgeInSeconds (${age}) plus the ${REDRIVE_WINDOW_SECONDS / 3600} h an operator needs to redrive must stay under the stream's ${STREAM_RETENTION_SECONDS / 3600} h retention: at most ${STREAM_RETENTION_SECONDS - REDRIVE_WINDOW_SECONDS}`,
    );
  }
  if (!Number.isInteger(aurora.backupRetentionDays) || aurora.backupRetentionDays < 1 || aurora.backupRetentionDays > 35) {
    problems.push(`aurora.backupRetentionDays must be 1 to 35, got ${aurora.backupRetentionDays}`);
  }
  if (!Number.isInteger(stream.batchSize) || stream.batchSize < 1 || stream.batchSize > 10_000) {
    problems.push(`stream.batchSize must be 1 to 10000, got ${stream.batchSize}`);
  }
  if (!Number.isInteger(stream.maximumBatchingWindowInSeconds) || stream.maximumBatchingWindowInSeconds < 0 || stream.maximumBatchingWindowInSeconds > 300) {
    problems.push(`stream.maximumBatchingWindowInSeconds must be 0 to 300, got ${stream.maximumBatchingWindowInSeconds}`);
  }
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(config.logRetentionDays)) {
    problems.push(`logRetentionDays must be one of CloudWatch's values (${LOG_RETENTION_DAYS.join(', ')}), got ${config.logRetentionDays}`);
  }
  const { intake } = config;
  if (
    !Number.isInteger(intake.ordersMaxWriteRequestUnits) ||
    intake.ordersMaxWriteRequestUnits < 1 ||
    intake.ordersMaxWriteRequestUnits > DYNAMODB_TABLE_WRITE_QUOTA
  ) {
    problems.push(
      `intake.ordersMaxWriteRequestUnits must be a whole number of write request units per second, 1 to ${DYNAMODB_TABLE_WRITE_QUOTA} (DynamoDB's per-table quota), got ${intake.ordersMaxWriteRequestUnits}`,
    );
  }
  if (!Number.isInteger(intake.validateRequestConcurrency) || intake.validateRequestConcurrency < 1) {
    problems.push(`intake.validateRequestConcurrency must be a whole number, 1 or more, got ${intake.validateRequestConcurrency}`);
  } else if (intake.validateRequestConcurrency * LAMBDA_REQUESTS_PER_CONCURRENCY < intake.ordersMaxWriteRequestUnits) {
    problems.push(
      `intake.validateRequestConcurrency ${intake.validateRequestConcurrency} serves at most ${intake.validateRequestConcurrency * LAMBDA_REQUESTS_PER_CONCURRENCY} commands/s (Lambda's ${LAMBDA_REQUESTS_PER_CONCURRENCY} requests per second per unit of concurrency), below the orders table's write cap of ${intake.ordersMaxWriteRequestUnits}: raise it to at least ${Math.ceil(intake.ordersMaxWriteRequestUnits / LAMBDA_REQUESTS_PER_CONCURRENCY)}`,
    );
  }
  if (!Number.isInteger(config.archiveRetentionDays) || config.archiveRetentionDays < 1) {
    problems.push(`archiveRetentionDays must be a positive number of days, got ${config.archiveRetentionDays}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The configuration `main.ts` deploys: `CQRS_ENV` picks the environment;
 * `AWS_REGION` overrides its region.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const name = env.CQRS_ENV ?? 'dev';
  if (!(ENVIRONMENT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError([`CQRS_ENV must be one of ${ENVIRONMENT_NAMES.join(', ')}, got ${JSON.stringify(name)}`]);
  }
  const base = ENVIRONMENTS[name as EnvironmentName];
  const extraEmails = (env[ALARM_EMAILS_VARIABLE] ?? '')
    .split(',')
    .map((email) => email.trim())
    .filter((email) => email !== '');
  return validateConfig({
    ...base,
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
    alarms: { ...base.alarms, emails: [...new Set([...base.alarms.emails, ...extraEmails])] },
  });
}
