import { describe, expect, it } from '@jest/globals';
import { ConfigError, DYNAMODB_TABLE_WRITE_QUOTA, ENVIRONMENTS, LAMBDA_REQUESTS_PER_CONCURRENCY, loadConfig, validateConfig } from '../../config/environments';
import { loadAwsFacts } from '../../analysis/aws-facts';

/** What `act` throws, or undefined when it returns. */
function thrownBy(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('environment configuration', () => {
  it('accepts every shipped environment, staging and prod once they have an alarm subscriber', () => {
    for (const config of [ENVIRONMENTS.dev, ENVIRONMENTS.local]) expect(validateConfig(config)).toBe(config);
    for (const config of [ENVIRONMENTS.staging, ENVIRONMENTS.prod]) {
      const subscribed = { ...config, alarms: { ...config.alarms, emails: ['ops@example.com'] } };
      expect(validateConfig(subscribed)).toBe(subscribed);
    }
  });

  it('refuses staging and prod without an alarm subscriber, saying where to set one; dev may go without', () => {
    for (const environment of ['staging', 'prod'] as const) {
      expect(() => loadConfig({ CQRS_ENV: environment })).toThrow(
        /alarms\.emails: .* needs at least one subscriber.*config\/environments\.ts, or ALARM_EMAILS=/,
      );
      expect(loadConfig({ CQRS_ENV: environment, ALARM_EMAILS: 'ops@example.com, oncall@example.com' }).alarms.emails).toEqual([
        'ops@example.com',
        'oncall@example.com',
      ]);
    }
    expect(loadConfig({ CQRS_ENV: 'dev' }).alarms.emails).toEqual([]);
    expect(() => loadConfig({ CQRS_ENV: 'prod', ALARM_EMAILS: 'not-an-address' })).toThrow('"not-an-address" is not an email address');
  });

  it("keeps the stream mapping's record age, plus the time an operator needs to redrive, within the stream's 24 h retention", () => {
    const withAge = (maximumRecordAgeInSeconds: number) => () =>
      validateConfig({ ...ENVIRONMENTS.dev, stream: { ...ENVIRONMENTS.dev.stream, maximumRecordAgeInSeconds } });
    expect(ENVIRONMENTS.dev.stream.maximumRecordAgeInSeconds).toBe(6 * 3600);
    expect(withAge(12 * 3600)).not.toThrow();
    expect(withAge(86_400)).toThrow("plus the 12 h an operator needs to redrive must stay under the stream's 24 h retention: at most 43200");
    expect(withAge(-1)).toThrow('at most 43200');
    expect(withAge(30)).toThrow('stream.maximumRecordAgeInSeconds must be -1 or 60 to 604800');
  });

  it('lists every problem of a bad configuration in one error', () => {
    // Prepare
    const bad = {
      ...ENVIRONMENTS.dev,
      region: 'mars',
      azCount: 1,
      egress: 'carrier-pigeon',
      aurora: {
        engineVersion: '5.7.mysql_aurora.2.11.2',
        minCapacity: 8,
        maxCapacity: 4,
        backupRetentionDays: 0,
        tls: 'off',
        instances: 3,
        longQueryTimeSeconds: 0,
        waitTimeoutSeconds: 5,
        maintenanceWindow: 'Sunday 4am',
        backupWindow: '03:00-03:10',
      },
      alarms: { ...ENVIRONMENTS.dev.alarms, capacityRatio: 2, emails: ['not-an-address'] },
      stream: { ...ENVIRONMENTS.dev.stream, batchSize: 20_000, maximumBatchingWindowInSeconds: -1 },
      logRetentionDays: 10,
    } as never;

    // Act
    const thrown = thrownBy(() => validateConfig(bad));

    // Assess
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      'region must look like us-east-1, got "mars"',
      'azCount must be 2 or 3 (Aurora needs subnets in at least two AZs), got 1',
      'egress must be "vpc-endpoints" or "nat-gateway", got "carrier-pigeon"',
      'aurora.engineVersion must be an Aurora MySQL 3 version like 8.0.mysql_aurora.3.10.4, got 5.7.mysql_aurora.2.11.2',
      'aurora.maxCapacity (4) must not be below aurora.minCapacity (8)',
      'aurora.tls must be "required" (only the local environment may turn it off), got "off"',
      'aurora.instances must be 1 to azCount (1), one per availability zone, got 3',
      'aurora.longQueryTimeSeconds must be above 0 and at most 3600, got 0',
      'aurora.waitTimeoutSeconds must be 60 to 28800, got 5',
      'aurora.maintenanceWindow must be ddd:hh24:mi-ddd:hh24:mi in UTC with days mon, tue, wed, thu, fri, sat, sun (lower case), e.g. sun:04:00-sun:04:30, got "Sunday 4am"',
      'aurora.backupWindow must be at least 30 minutes long, got 10 (03:00-03:10)',
      'alarms.capacityRatio must be above 0 and at most 1, got 2',
      'alarms.emails: "not-an-address" is not an email address',
      'aurora.backupRetentionDays must be 1 to 35, got 0',
      'stream.batchSize must be 1 to 10000, got 20000',
      'stream.maximumBatchingWindowInSeconds must be 0 to 300, got -1',
      expect.stringMatching(/^logRetentionDays must be one of CloudWatch's values .* got 10$/),
    ]);
  });

  it("refuses a write cap past DynamoDB's per-table quota, and a validate-request concurrency that cannot keep up with the cap", () => {
    const withIntake = (ordersMaxWriteRequestUnits: number, validateRequestConcurrency: number) => () =>
      validateConfig({ ...ENVIRONMENTS.dev, intake: { ordersMaxWriteRequestUnits, validateRequestConcurrency } });
    expect(withIntake(100, 10)).not.toThrow();
    expect(withIntake(40_000, 4_000)).not.toThrow();
    expect(withIntake(0, 10)).toThrow('intake.ordersMaxWriteRequestUnits must be a whole number of write request units per second, 1 to 40000');
    expect(withIntake(40_001, 5_000)).toThrow("1 to 40000 (DynamoDB's per-table quota), got 40001");
    expect(withIntake(100, 0)).toThrow('intake.validateRequestConcurrency must be a whole number, 1 or more, got 0');
    expect(withIntake(1_000, 99)).toThrow(
      "intake.validateRequestConcurrency 99 serves at most 990 commands/s (Lambda's 10 requests per second per unit of concurrency), below the orders table's write cap of 1000: raise it to at least 100",
    );
    // The same quota as the capacity model's data file.
    expect(DYNAMODB_TABLE_WRITE_QUOTA).toBe(loadAwsFacts().quotas.items.dynamodbTableWriteUnitsPerSecond?.value);
    expect(LAMBDA_REQUESTS_PER_CONCURRENCY).toBe(loadAwsFacts().quotas.items.lambdaRequestsPerSecondPerConcurrency?.value);
  });

  it('refuses an unknown environment name with the allowed ones', () => {
    expect(() => loadConfig({ CQRS_ENV: 'qa' })).toThrow('CQRS_ENV must be one of dev, staging, prod, local, got "qa"');
  });

  it('takes the region from AWS_REGION and validates it', () => {
    expect(loadConfig({ CQRS_ENV: 'prod', AWS_REGION: 'eu-west-1', ALARM_EMAILS: 'ops@example.com' }).region).toBe('eu-west-1');
    expect(() => loadConfig({ AWS_REGION: 'moon-base-1x' })).toThrow('region must look like us-east-1');
  });
});

describe('state backend', () => {
  it('refuses to synthesize a deployed environment with local state, unless asked to on purpose', async () => {
    const { remoteStateProblem } = await import('../../stacks/pipeline-stack');
    expect(remoteStateProblem(ENVIRONMENTS.dev, {})).toMatch(/^refusing to synthesize the dev environment with local Terraform state: set TF_STATE_BUCKET/);
    expect(remoteStateProblem(ENVIRONMENTS.prod, { TF_STATE_BUCKET: 'acme-state' })).toBeUndefined();
    expect(remoteStateProblem(ENVIRONMENTS.dev, { TF_LOCAL_STATE: '1' })).toBeUndefined();
    expect(remoteStateProblem(ENVIRONMENTS.local, {})).toBeUndefined();
  });

  it('makes the deploy workflow fail first when the state bucket is not configured', async () => {
    const { readFileSync } = await import('node:fs');
    const { parse } = await import('yaml');
    const deploy = parse(readFileSync('.github/workflows/deploy.yml', 'utf8')) as { jobs: { deploy: { steps: { name?: string; run?: string }[] } } };
    const first = deploy.jobs.deploy.steps[0];
    expect(first?.name).toBe('require a remote state backend');
    const { spawnSync } = await import('node:child_process');
    const run = (bucket: string) => spawnSync('bash', ['-c', first?.run ?? ''], { env: { ...process.env, TF_STATE_BUCKET: bucket }, encoding: 'utf8' });
    expect(run('')).toMatchObject({ status: 1, stdout: expect.stringContaining('TF_STATE_BUCKET is not set: refusing to deploy') });
    expect(run('acme-state').status).toBe(0);
  });
});
