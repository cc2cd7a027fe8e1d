/**
 * `npm run preflight -- --env <env> [--json]`: what a deploy of that
 * environment needs from the account (from the synthesized stacks) against
 * what the account allows (read with the AWS CLI and the current
 * credentials), with the fix for each shortfall. Exits 1 on any shortfall;
 * the deploy workflow runs it before `apply`.
 *
 * It reads: `aws lambda get-account-settings`, `aws ec2 describe-account-attributes`
 * (Elastic IPs, when the environment has NAT gateways), `aws ec2 describe-vpcs`,
 * `aws ec2 describe-addresses`, `aws rds describe-account-attributes`.
 */
import { execFileSync } from 'node:child_process';
import { ConfigError, ENVIRONMENT_NAMES, ENVIRONMENTS, loadConfig, type EnvironmentName } from '../config/environments';
import { loadAwsFacts } from '../analysis/aws-facts';
import { deployNeeds, preflightChecks, toolChecks, unreadCall, type AccountState, type DeployTools, type UnreadCall } from '../analysis/preflight';
import { synthesizeStacks } from '../stacks/synth-offline';

const args = process.argv.slice(2);
const environment = (args.includes('--env') ? args[args.indexOf('--env') + 1] : (process.env.CQRS_ENV ?? 'dev')) as EnvironmentName;
if (!ENVIRONMENT_NAMES.includes(environment)) {
  console.error(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got ${JSON.stringify(environment)}`);
  process.exit(2);
}

const config = ENVIRONMENTS[environment];
// The region the deploy will use: AWS_REGION, else the environment's; every call is made there.
const region = process.env.AWS_REGION || config.region;

/** Runs one AWS CLI call in the deploy's region and parses its JSON; records why when it fails. */
function aws(unreadable: UnreadCall[], ...command: string[]): Record<string, unknown> | undefined {
  try {
    return JSON.parse(
      execFileSync('aws', [...command, '--region', region, '--output', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }),
    ) as Record<string, unknown>;
  } catch (error) {
    const failure = error as { code?: string; stderr?: string; message: string };
    unreadable.push(unreadCall(command, failure.stderr ?? failure.message, failure.code));
    return undefined;
  }
}

/** The version a tool prints, or undefined when it is not installed. */
function toolVersion(command: string, args: readonly string[], parse: (output: string) => string | undefined): string | undefined {
  try {
    return parse(
      execFileSync(command, [...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
        env: { ...process.env, CHECKPOINT_DISABLE: '1' },
      }),
    );
  } catch {
    return undefined;
  }
}

function readAccount(natGateways: number): AccountState {
  const unreadable: UnreadCall[] = [];
  const lambda = aws(unreadable, 'lambda', 'get-account-settings') as
    { AccountLimit?: { ConcurrentExecutions?: number; UnreservedConcurrentExecutions?: number } } | undefined;
  const vpcs = aws(unreadable, 'ec2', 'describe-vpcs') as { Vpcs?: unknown[] } | undefined;
  let elasticIps: AccountState['elasticIps'];
  if (natGateways > 0) {
    const attributes = aws(unreadable, 'ec2', 'describe-account-attributes', '--attribute-names', 'vpc-max-elastic-ips') as
      { AccountAttributes?: { AttributeValues?: { AttributeValue?: string }[] }[] } | undefined;
    const addresses = aws(unreadable, 'ec2', 'describe-addresses') as { Addresses?: unknown[] } | undefined;
    const limit = Number(attributes?.AccountAttributes?.[0]?.AttributeValues?.[0]?.AttributeValue);
    if (Number.isFinite(limit) && addresses?.Addresses) elasticIps = { limit, used: addresses.Addresses.length };
  }
  const rds = aws(unreadable, 'rds', 'describe-account-attributes') as
    { AccountQuotas?: { AccountQuotaName?: string; Used?: number; Max?: number }[] } | undefined;
  const rdsQuota = (name: string) => {
    const found = rds?.AccountQuotas?.find((entry) => entry.AccountQuotaName === name);
    return found?.Max !== undefined ? { limit: found.Max, used: found.Used ?? 0 } : undefined;
  };
  const dbClusters = rdsQuota('DBClusters');
  const dbInstances = rdsQuota('DBInstances');
  return {
    ...(lambda?.AccountLimit?.ConcurrentExecutions !== undefined ? { lambdaConcurrency: lambda.AccountLimit.ConcurrentExecutions } : {}),
    ...(lambda?.AccountLimit?.UnreservedConcurrentExecutions !== undefined ? { lambdaUnreserved: lambda.AccountLimit.UnreservedConcurrentExecutions } : {}),
    ...(elasticIps ? { elasticIps } : {}),
    ...(vpcs?.Vpcs ? { vpcs: { used: vpcs.Vpcs.length } } : {}),
    ...(dbClusters ? { dbClusters } : {}),
    ...(dbInstances ? { dbInstances } : {}),
    unreadable,
  };
}

let configProblems: readonly string[] = [];
try {
  loadConfig({ ...process.env, CQRS_ENV: environment });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  configProblems = error.problems;
}
const tools: DeployTools = {
  ...(() => {
    const version = toolVersion('terraform', ['version', '-json'], (output) => (JSON.parse(output) as { terraform_version?: string }).terraform_version);
    return version ? { terraform: version } : {};
  })(),
  ...(() => {
    const version = toolVersion('aws', ['--version'], (output) => output.trim().split(/\s+/)[0]);
    return version ? { awsCli: version } : {};
  })(),
};
const needs = deployNeeds(synthesizeStacks(config));
const account = tools.awsCli
  ? readAccount(needs.natGateways)
  : {
      unreadable: ['lambda get-account-settings', 'ec2 describe-vpcs', 'rds describe-account-attributes'].map((call) =>
        unreadCall(call.split(' '), '', 'ENOENT'),
      ),
    };
const checks = [...toolChecks(tools), ...preflightChecks(config, needs, account, loadAwsFacts(), configProblems, region)];
const failed = checks.filter((check) => !check.ok);

if (args.includes('--json')) {
  console.log(JSON.stringify({ environment, needs, account, checks, ok: failed.length === 0 }, null, 2));
} else {
  console.log(
    `preflight for ${environment} in ${region}${process.env.AWS_REGION ? ' (AWS_REGION)' : " (the environment's region; AWS_REGION overrides it)"}\n`,
  );
  for (const check of checks) {
    if (check.what === 'configuration') console.log(`FAIL  configuration: ${check.allows}`);
    else
      console.log(
        `${check.ok ? 'ok  ' : 'FAIL'}  ${check.what}: needs ${check.needs}; ${check.what === 'Terraform' || check.what === 'AWS CLI' ? 'found' : 'the account allows'} ${check.allows}`,
      );
    if (check.fix) console.log(`      fix: ${check.fix}`);
  }
  for (const unread of account.unreadable) if (unread.cause !== 'no-cli') console.log(`      (${unread.call} said: ${unread.message})`);
  console.log(
    failed.length === 0 ? '\nthe account can take this deploy' : `\n${failed.length} shortfall${failed.length === 1 ? '' : 's'}: fix before cdktf deploy`,
  );
}
process.exitCode = failed.length === 0 ? 0 : 1;
