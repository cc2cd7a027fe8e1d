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
import { loadAwsFacts } from '../stacks/aws-facts';
import { deployNeeds, preflightChecks, type AccountState } from '../stacks/preflight';
import { synthesizeStacks } from '../stacks/synth-offline';

const args = process.argv.slice(2);
const environment = (args.includes('--env') ? args[args.indexOf('--env') + 1] : process.env.CQRS_ENV ?? 'dev') as EnvironmentName;
if (!ENVIRONMENT_NAMES.includes(environment)) {
  console.error(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got ${JSON.stringify(environment)}`);
  process.exit(2);
}

/** Runs one AWS CLI call and parses its JSON; records why when it fails. */
function aws(unreadable: string[], ...command: string[]): Record<string, unknown> | undefined {
  try {
    return JSON.parse(execFileSync('aws', [...command, '--output', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 })) as Record<string, unknown>;
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim().split('\n').pop();
    unreadable.push(`aws ${command.slice(0, 2).join(' ')}: ${stderr}`);
    return undefined;
  }
}

function readAccount(natGateways: number): AccountState {
  const unreadable: string[] = [];
  const lambda = aws(unreadable, 'lambda', 'get-account-settings') as { AccountLimit?: { ConcurrentExecutions?: number; UnreservedConcurrentExecutions?: number } } | undefined;
  const vpcs = aws(unreadable, 'ec2', 'describe-vpcs') as { Vpcs?: unknown[] } | undefined;
  let elasticIps: AccountState['elasticIps'];
  if (natGateways > 0) {
    const attributes = aws(unreadable, 'ec2', 'describe-account-attributes', '--attribute-names', 'vpc-max-elastic-ips') as { AccountAttributes?: { AttributeValues?: { AttributeValue?: string }[] }[] } | undefined;
    const addresses = aws(unreadable, 'ec2', 'describe-addresses') as { Addresses?: unknown[] } | undefined;
    const limit = Number(attributes?.AccountAttributes?.[0]?.AttributeValues?.[0]?.AttributeValue);
    if (Number.isFinite(limit) && addresses?.Addresses) elasticIps = { limit, used: addresses.Addresses.length };
  }
  const rds = aws(unreadable, 'rds', 'describe-account-attributes') as { AccountQuotas?: { AccountQuotaName?: string; Used?: number; Max?: number }[] } | undefined;
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

const config = ENVIRONMENTS[environment];
let configProblems: readonly string[] = [];
try {
  loadConfig({ ...process.env, CQRS_ENV: environment });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  configProblems = error.problems;
}
const needs = deployNeeds(synthesizeStacks(config));
const account = readAccount(needs.natGateways);
const checks = preflightChecks(config, needs, account, loadAwsFacts(), configProblems);
const failed = checks.filter((check) => !check.ok);

if (args.includes('--json')) {
  console.log(JSON.stringify({ environment, needs, account, checks, ok: failed.length === 0 }, null, 2));
} else {
  console.log(`preflight for ${environment} (${config.region})\n`);
  for (const check of checks) {
    console.log(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.what}: needs ${check.needs}; the account allows ${check.allows}`);
    if (check.fix) console.log(`      fix: ${check.fix}`);
  }
  for (const reason of account.unreadable) console.log(`      (not read: ${reason})`);
  console.log(failed.length === 0 ? '\nthe account can take this deploy' : `\n${failed.length} shortfall${failed.length === 1 ? '' : 's'}: fix before cdktf deploy`);
}
process.exitCode = failed.length === 0 ? 0 : 1;
