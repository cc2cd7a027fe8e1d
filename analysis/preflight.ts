/**
 * What a deploy needs from the account, read from the synthesized stacks, set
 * against what the account allows, with the fix for each shortfall
 * (`npm run preflight`).
 */
import type { EnvironmentConfig } from '../config/environments';
import { quota, type AwsFacts } from './aws-facts';
import { CALL_ACTIONS } from '../stacks/ci/preflight-calls';
import { resourcesOf, type StackJson } from '../stacks/synth-offline';

/** What the stacks create that an account quota bounds. */
interface DeployNeeds {
  /** Sum of the functions' reserved concurrency. */
  readonly reservedConcurrency: number;
  readonly functions: readonly { readonly name: string; readonly reserved: number }[];
  readonly vpcs: number;
  readonly natGateways: number;
  readonly interfaceEndpoints: number;
  readonly dbClusters: number;
  readonly dbInstances: number;
}

/** Reads the needs from one environment's synthesized stacks. */
export function deployNeeds(stacks: Readonly<Record<string, StackJson>>): DeployNeeds {
  const functions = resourcesOf(stacks, 'aws_lambda_function').map((fn) => ({
    name: String(fn.function_name),
    reserved: Number(fn.reserved_concurrent_executions ?? 0),
  }));
  return {
    reservedConcurrency: functions.reduce((sum, fn) => sum + Math.max(0, fn.reserved), 0),
    functions,
    vpcs: resourcesOf(stacks, 'aws_vpc').length,
    natGateways: resourcesOf(stacks, 'aws_nat_gateway').length,
    interfaceEndpoints: resourcesOf(stacks, 'aws_vpc_endpoint').filter((endpoint) => endpoint.vpc_endpoint_type === 'Interface').length,
    dbClusters: resourcesOf(stacks, 'aws_rds_cluster').length,
    dbInstances: resourcesOf(stacks, 'aws_rds_cluster_instance').length,
  };
}

/** What the account allows and already uses; a field is undefined when it could not be read. */
export interface AccountState {
  /** `aws lambda get-account-settings`: AccountLimit.ConcurrentExecutions and UnreservedConcurrentExecutions. */
  readonly lambdaConcurrency?: number;
  readonly lambdaUnreserved?: number;
  readonly elasticIps?: { readonly limit: number; readonly used: number };
  readonly vpcs?: { readonly used: number };
  readonly dbClusters?: { readonly limit: number; readonly used: number };
  readonly dbInstances?: { readonly limit: number; readonly used: number };
  /** The calls that could not be read, and why. */
  readonly unreadable: readonly UnreadCall[];
}

/** Why an AWS CLI call of the preflight failed, as far as its output tells. */
type UnreadCause = 'no-cli' | 'credentials' | 'region' | 'permission' | 'other';

/** One AWS CLI call that could not be read. */
export interface UnreadCall {
  /** `aws lambda get-account-settings`. */
  readonly call: string;
  readonly cause: UnreadCause;
  /** The CLI's own last line, for the record. */
  readonly message: string;
}

/** Classifies a failed call from what the CLI printed (or the spawn error: ENOENT is a missing CLI). */
export function unreadCall(command: readonly string[], output: string, spawnCode?: string): UnreadCall {
  const call = `aws ${command.slice(0, 2).join(' ')}`;
  const message = output.trim().split('\n').pop() ?? '';
  if (spawnCode === 'ENOENT') return { call, cause: 'no-cli', message: 'aws: command not found' };
  const cause: UnreadCause =
    /Unable to locate credentials|ExpiredToken|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|security token|AuthFailure|could not be found in the credential|SSO session/i.test(
      message,
    )
      ? 'credentials'
      : /specify a region|Could not connect to the endpoint URL|Invalid endpoint|InvalidRegion|UnknownEndpoint/i.test(message)
        ? 'region'
        : /AccessDenied|UnauthorizedOperation|not authorized|Forbidden/i.test(message)
          ? 'permission'
          : 'other';
  return { call, cause, message };
}

/** What to do about a call that failed, by cause. */
function unreadFix(unread: UnreadCall, region: string): string {
  const action = CALL_ACTIONS[unread.call.replace(/^aws /, '')] ?? 'the call';
  switch (unread.cause) {
    case 'no-cli':
      return 'install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html, or apt-get install awscli), then run preflight again';
    case 'credentials':
      return `${unread.call} was refused for its credentials: configure credentials for the target account (aws configure, AWS_PROFILE or SSO; aws sts get-caller-identity answers when they work)`;
    case 'region':
      return `${unread.call} could not reach ${region}: check AWS_REGION (preflight passes --region ${region} to every call)`;
    case 'permission':
      return `the credentials may not call ${action}: allow it to the identity that deploys (the plan and deploy roles of docs/ci-cd.md do)`;
    default:
      return `${unread.call} failed: ${unread.message}`;
  }
}

/** The tools a deploy runs: the Terraform CLI (cdktf deploys through it) and the AWS CLI (the schema trigger). */
export interface DeployTools {
  /** `terraform version -json`'s `terraform_version`, or undefined when Terraform is not installed. */
  readonly terraform?: string;
  /** `aws --version`'s first word, or undefined when the AWS CLI is not installed. */
  readonly awsCli?: string;
}

/**
 * The oldest Terraform the stacks work with: the S3 backend's S3-native
 * locking (`use_lockfile`) is generally available from 1.11 (Terraform
 * documentation, S3 backend, "State Locking",
 * https://developer.hashicorp.com/terraform/language/backend/s3#state-locking).
 */
const TERRAFORM_MINIMUM = '1.11.0';

function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (text: string) => text.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [have, want] = [parts(version), parts(minimum)];
  for (let index = 0; index < 3; index++) if ((have[index] ?? 0) !== (want[index] ?? 0)) return (have[index] ?? 0) > (want[index] ?? 0);
  return true;
}

/** Whether the tools a deploy runs are installed and new enough. */
export function toolChecks(tools: DeployTools): PreflightCheck[] {
  const terraformOk = tools.terraform !== undefined && versionAtLeast(tools.terraform, TERRAFORM_MINIMUM);
  return [
    {
      what: 'Terraform',
      needs: `${TERRAFORM_MINIMUM} or newer`,
      allows: tools.terraform ?? 'not installed',
      ok: terraformOk,
      ...(terraformOk
        ? {}
        : {
            fix: `install Terraform ${TERRAFORM_MINIMUM} or newer (https://developer.hashicorp.com/terraform/install); without it cdktf deploy fails with "execvp(3) failed"`,
          }),
    },
    {
      what: 'AWS CLI',
      needs: 'installed (the schema trigger runs aws lambda invoke)',
      allows: tools.awsCli ?? 'not installed',
      ok: tools.awsCli !== undefined,
      ...(tools.awsCli !== undefined ? {} : { fix: 'install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)' }),
    },
  ];
}

/** One line of the report. */
export interface PreflightCheck {
  readonly what: string;
  readonly needs: string;
  readonly allows: string;
  readonly ok: boolean;
  /** How to close the gap, when not ok. */
  readonly fix?: string;
}

/** Sets the needs against the account; a quota the account would not tell is failed with the reason it did not. */
export function preflightChecks(
  config: EnvironmentConfig,
  needs: DeployNeeds,
  account: AccountState,
  facts: AwsFacts,
  configProblems: readonly string[] = [],
  region: string = config.region,
): PreflightCheck[] {
  const unread = (call: string): { allows: string; fix: string } => {
    const reason = account.unreadable.find((entry) => entry.call === call) ?? { call, cause: 'other' as const, message: 'no answer' };
    return { allows: `unknown (${reason.call} failed: ${reason.cause === 'no-cli' ? 'no AWS CLI' : reason.cause})`, fix: unreadFix(reason, region) };
  };
  const checks: PreflightCheck[] = [];
  const keep = quota(facts, 'lambdaUnreservedMinimum');
  const concurrencyNeeded = needs.reservedConcurrency + keep;
  const reservedBy = needs.functions
    .filter((fn) => fn.reserved > 0)
    .map((fn) => `${fn.name.replace(/^order-pipeline-[a-z]+-/, '')} ${fn.reserved}`)
    .join(', ');
  if (account.lambdaConcurrency === undefined) {
    checks.push({
      what: 'Lambda concurrency',
      needs: `${concurrencyNeeded} (reserved ${needs.reservedConcurrency} + ${keep} Lambda keeps unreserved)`,
      ok: false,
      ...unread('aws lambda get-account-settings'),
    });
  } else {
    const ok = account.lambdaConcurrency >= concurrencyNeeded;
    checks.push({
      what: 'Lambda concurrency',
      needs: `${concurrencyNeeded} (reserved ${needs.reservedConcurrency}: ${reservedBy}; + ${keep} Lambda keeps unreserved)`,
      allows: `${account.lambdaConcurrency}`,
      ok,
      ...(ok
        ? {}
        : {
            fix:
              `request "Concurrent executions" ≥ ${concurrencyNeeded} in Service Quotas (Lambda, L-B99A9384); otherwise the apply fails with "decreases account's UnreservedConcurrentExecution below its minimum value". ` +
              `For a small account meanwhile: lower projection.expectedShards (now ${config.projection.expectedShards}) and the queries' reserved concurrency; the synth recomputes the connection budget`,
          }),
    });
    if (account.lambdaUnreserved !== undefined && ok) {
      // Other functions' reservations in the account count too (a redeploy of this pipeline already holds its own).
      const free = account.lambdaUnreserved - keep;
      checks.push({
        what: 'Lambda concurrency still unreserved',
        needs: `${needs.reservedConcurrency} to reserve`,
        allows: `${Math.max(0, free)} above the ${keep} kept unreserved`,
        ok: free >= needs.reservedConcurrency,
        ...(free >= needs.reservedConcurrency
          ? {}
          : {
              fix: 'other functions in the account reserve the rest: raise the account quota, or (when this pipeline is already deployed) ignore: its own reservations are part of the used share',
            }),
      });
    }
  }
  if (needs.natGateways > 0) {
    const eips = account.elasticIps;
    const free = eips ? eips.limit - eips.used : undefined;
    checks.push({
      what: 'Elastic IPs (one per NAT gateway)',
      needs: `${needs.natGateways}`,
      ok: free !== undefined && free >= needs.natGateways,
      ...(free === undefined
        ? unread(
            account.unreadable.some((entry) => entry.call === 'aws ec2 describe-addresses')
              ? 'aws ec2 describe-addresses'
              : 'aws ec2 describe-account-attributes',
          )
        : {
            allows: `${free} free of ${eips?.limit}`,
            ...(free >= needs.natGateways
              ? {}
              : {
                  fix: `release unused addresses or request more Elastic IPs (default ${quota(facts, 'elasticIpsPerRegion')} per region); or egress: 'vpc-endpoints', which needs none`,
                }),
          }),
    });
  }
  const vpcLimit = quota(facts, 'vpcsPerRegion');
  const vpcsFree = account.vpcs ? vpcLimit - account.vpcs.used : undefined;
  checks.push({
    what: 'VPCs',
    needs: `${needs.vpcs}`,
    ok: vpcsFree !== undefined && vpcsFree >= needs.vpcs,
    ...(vpcsFree === undefined
      ? unread('aws ec2 describe-vpcs')
      : {
          allows: `${vpcsFree} free of ${vpcLimit} (the default quota; a raised one allows more)`,
          ...(vpcsFree < needs.vpcs ? { fix: 'delete an unused VPC or request "VPCs per Region" in Service Quotas' } : {}),
        }),
  });
  checks.push({
    what: 'Interface VPC endpoints (per VPC)',
    needs: `${needs.interfaceEndpoints}`,
    allows: `${quota(facts, 'interfaceEndpointsPerVpc')} (the VPC is new)`,
    ok: needs.interfaceEndpoints <= quota(facts, 'interfaceEndpointsPerVpc'),
  });
  for (const [what, need, state] of [
    ['Aurora DB clusters', needs.dbClusters, account.dbClusters],
    ['Aurora DB instances', needs.dbInstances, account.dbInstances],
  ] as const) {
    const free = state ? state.limit - state.used : undefined;
    checks.push({
      what,
      needs: `${need}`,
      ok: free !== undefined && free >= need,
      ...(free === undefined
        ? unread('aws rds describe-account-attributes')
        : {
            allows: `${free} free of ${state?.limit}`,
            ...(free >= need
              ? {}
              : { fix: `request more in Service Quotas (RDS); default ${quota(facts, what.endsWith('clusters') ? 'rdsClusters' : 'rdsInstances')}` }),
          }),
    });
  }
  // A configuration refusal is its own fix: said once.
  for (const problem of configProblems) checks.push({ what: 'configuration', needs: 'valid', allows: problem, ok: false });
  return checks;
}
