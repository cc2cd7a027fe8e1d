/**
 * `npm run preflight` against a stub `aws` CLI on PATH that answers as a
 * small new account would (or a roomy one): the needs come from the
 * synthesized stacks, each shortfall comes with its fix, and the exit code
 * says whether the deploy can go ahead.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENVIRONMENTS } from '../../../config/environments';
import { loadAwsFacts } from '../../../analysis/aws-facts';
import { deployNeeds, preflightChecks } from '../../../analysis/preflight';
import { synthesizeStacks } from '../../../stacks/synth-offline';
import { budget } from '../../helpers/budget';

/** The tools of the stub folder: a Terraform version, or none; an AWS CLI, or none. */
interface StubTools {
  readonly terraform?: string | null;
  readonly awsCli?: boolean;
  /** What the stub AWS CLI prints for calls it has no answer for. */
  readonly refusal?: string;
}

/**
 * A PATH folder whose `aws` answers from canned JSON, keyed by "service operation" (and records the
 * arguments of each call), with a stub `terraform` that reports a version. Only this folder and
 * node's are on the PATH, so a real Terraform or AWS CLI of the machine never answers.
 */
function stubAws(answers: Record<string, unknown>, tools: StubTools = {}): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'stub-aws-'));
  writeFileSync(path.join(bin, 'answers.json'), JSON.stringify(answers));
  const refusal = tools.refusal ?? 'An error occurred (AccessDenied) when calling the operation: User is not authorized';
  if (tools.awsCli !== false) {
    writeFileSync(
      path.join(bin, 'aws'),
      `#!${process.execPath}
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(path.join(bin, 'calls.log'))}, process.argv.slice(2).join(' ') + '\\n');
if (process.argv[2] === '--version') { process.stdout.write('aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12\\n'); process.exit(0); }
const answers = require(${JSON.stringify(path.join(bin, 'answers.json'))});
const key = process.argv.slice(2, 4).join(' ');
if (!(key in answers)) { process.stderr.write(${JSON.stringify(refusal)} + '\\n'); process.exit(254); }
process.stdout.write(JSON.stringify(answers[key]));
`,
    );
    chmodSync(path.join(bin, 'aws'), 0o755);
  }
  const terraform = tools.terraform === undefined ? '1.11.4' : tools.terraform;
  if (terraform !== null) {
    writeFileSync(path.join(bin, 'terraform'), `#!/bin/sh\necho '{"terraform_version":"${terraform}","platform":"linux_amd64"}'\n`);
    chmodSync(path.join(bin, 'terraform'), 0o755);
  }
  return bin;
}

const account = (concurrency: number) => ({
  'lambda get-account-settings': { AccountLimit: { ConcurrentExecutions: concurrency, UnreservedConcurrentExecutions: concurrency } },
  'ec2 describe-vpcs': { Vpcs: [{ VpcId: 'vpc-default' }] },
  'rds describe-account-attributes': {
    AccountQuotas: [
      { AccountQuotaName: 'DBClusters', Used: 0, Max: 40 },
      { AccountQuotaName: 'DBInstances', Used: 1, Max: 40 },
    ],
  },
});

async function preflight(
  env: string,
  answers: Record<string, unknown>,
  extra: NodeJS.ProcessEnv = {},
  tools: StubTools = {},
): Promise<{ code: number; output: string; calls: string[] }> {
  const bin = stubAws(answers, tools);
  const calls = () => (existsSync(path.join(bin, 'calls.log')) ? readFileSync(path.join(bin, 'calls.log'), 'utf8').trim().split('\n') : []);
  const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'AWS_REGION' && name !== 'AWS_DEFAULT_REGION'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/preflight.ts', '--env', env], {
      env: { ...environment, ...extra, PATH: `${bin}:${path.dirname(process.execPath)}`, NODE_OPTIONS: '' },
    });
    return { code: 0, output: stdout, calls: calls() };
  } catch (error) {
    return { code: (error as { code: number }).code, output: String((error as { stdout: string }).stdout), calls: calls() };
  }
}

describe('npm run preflight', () => {
  it(
    'fails a new account with 50 concurrent executions, with the quota request and the small-account choice as fixes',
    async () => {
      const { code, output } = await preflight('dev', account(50));
      const needs = deployNeeds(synthesizeStacks(ENVIRONMENTS.dev));

      expect(code).toBe(1);
      expect(output).toContain(`FAIL  Lambda concurrency: needs ${needs.reservedConcurrency + 100} (reserved ${needs.reservedConcurrency}: `);
      expect(output).toContain('project-orders 4');
      expect(output).toContain('the account allows 50');
      expect(output).toContain('L-B99A9384');
      expect(output).toContain('lower projection.expectedShards (now 4)');
      expect(output).toContain('ok    Aurora DB clusters: needs 1; the account allows 40 free of 40');
    },
    budget({ cliRuns: 1, seconds: 10 }),
  );

  it(
    'passes an account with room for everything',
    async () => {
      const { code, output } = await preflight('dev', account(1000));
      expect(output).toContain('the account can take this deploy');
      expect(code).toBe(0);
    },
    budget({ cliRuns: 1, seconds: 10 }),
  );

  it(
    'checks Elastic IPs when the environment uses NAT gateways, says what it could not read, and reports config problems',
    async () => {
      // prod without an alarm subscriber, and an account that will not answer for RDS.
      const answers = {
        ...account(1000),
        'ec2 describe-account-attributes': { AccountAttributes: [{ AttributeValues: [{ AttributeValue: '5' }] }] },
        'ec2 describe-addresses': { Addresses: [{}, {}, {}] },
      } as Record<string, unknown>;
      delete answers['rds describe-account-attributes'];
      const stacks = synthesizeStacks({ ...ENVIRONMENTS.prod, egress: 'nat-gateway' });
      const checks = preflightChecks(
        ENVIRONMENTS.prod,
        deployNeeds(stacks),
        { lambdaConcurrency: 1000, lambdaUnreserved: 1000, elasticIps: { limit: 5, used: 3 }, vpcs: { used: 1 }, unreadable: [] },
        loadAwsFacts(),
      );
      expect(checks.find((check) => check.what.startsWith('Elastic IPs'))).toMatchObject({
        needs: '3',
        ok: false,
        fix: expect.stringContaining("egress: 'vpc-endpoints'"),
      });

      const { code, output } = await preflight('prod', answers);
      expect(code).toBe(1);
      // The configuration refusal once, as its own line; the unread call named, with the action to allow.
      expect(output.match(/ALARM_EMAILS/g)).toHaveLength(1);
      expect(output).toMatch(/^FAIL {2}configuration: .*ALARM_EMAILS/m);
      expect(output).toContain('FAIL  Aurora DB clusters: needs 1; the account allows unknown (aws rds describe-account-attributes failed: permission)');
      expect(output).toContain('fix: the credentials may not call rds:DescribeAccountAttributes');
      expect(output).not.toMatch(/allows not read|run with credentials/);
      const subscribed = await preflight('prod', { ...account(1000) }, { ALARM_EMAILS: 'ops@example.com' });
      expect(subscribed.output).not.toContain('FAIL  configuration');
    },
    budget({ cliRuns: 2, seconds: 10 }),
  );

  it(
    "makes every call in the region the deploy uses: AWS_REGION, else the environment's",
    async () => {
      const fromEnv = await preflight('dev', account(1000), { AWS_REGION: 'eu-west-1' });
      const fromConfig = await preflight('dev', account(1000));

      expect(fromEnv.output).toContain('preflight for dev in eu-west-1 (AWS_REGION)');
      expect(fromEnv.calls.filter((call) => !call.startsWith('--version')).every((call) => call.includes('--region eu-west-1'))).toBe(true);
      expect(fromEnv.calls.length).toBeGreaterThan(2);
      expect(fromConfig.output).toContain(`preflight for dev in ${ENVIRONMENTS.dev.region} (the environment's region`);
      expect(fromConfig.calls.filter((call) => !call.startsWith('--version')).every((call) => call.includes(`--region ${ENVIRONMENTS.dev.region}`))).toBe(true);
    },
    budget({ cliRuns: 2, seconds: 10 }),
  );

  it.each([
    [
      'credentials',
      'Unable to locate credentials. You can configure credentials by running "aws configure".',
      /refused for its credentials: configure credentials for the target account/,
    ],
    ['region', 'Could not connect to the endpoint URL: "https://lambda.mars-east-1.amazonaws.com/"', /could not reach .*: check AWS_REGION/],
    [
      'permission',
      'An error occurred (AccessDeniedException) when calling the GetAccountSettings operation: not authorized',
      /may not call lambda:GetAccountSettings/,
    ],
  ])(
    'says which call failed and why when it is the %s',
    async (cause, refusal, fix) => {
      const { code, output } = await preflight('dev', {}, {}, { refusal });
      expect(code).toBe(1);
      expect(output).toContain(`FAIL  Lambda concurrency: needs`);
      expect(output).toContain(`unknown (aws lambda get-account-settings failed: ${cause})`);
      expect(output).toMatch(fix);
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );

  it.each([
    ['no Terraform', { terraform: null }, /FAIL {2}Terraform: needs 1\.11\.0 or newer; found not installed\n {6}fix: install Terraform .*execvp\(3\) failed/],
    ['a Terraform too old for S3-native locking', { terraform: '1.9.8' }, /FAIL {2}Terraform: needs 1\.11\.0 or newer; found 1\.9\.8/],
    ['no AWS CLI', { awsCli: false }, /FAIL {2}AWS CLI: needs installed .*; found not installed\n {6}fix: install the AWS CLI/],
  ] as const)(
    'names %s in one line, with where to get it',
    async (_case, tools, expected) => {
      const { code, output } = await preflight('dev', account(1000), {}, tools);
      expect(code).toBe(1);
      expect(output).toMatch(expected);
      expect(output).not.toContain('said:');
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );

  it(
    'passes a Terraform at or past the minimum',
    async () => {
      const { output } = await preflight('dev', account(1000), {}, { terraform: '1.12.0' });
      expect(output).toContain('ok    Terraform: needs 1.11.0 or newer; found 1.12.0');
      expect(output).toContain('ok    AWS CLI: needs installed (the schema trigger runs aws lambda invoke); found aws-cli/2.9.19');
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );
});
