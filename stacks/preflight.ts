/**
 * What a deploy needs from the account, read from the synthesized stacks, set
 * against what the account allows, with the fix for each shortfall
 * (`npm run preflight`).
 */
import type { EnvironmentConfig } from '../config/environments';
import { quota, type AwsFacts } from './aws-facts';
import { resourcesOf, type StackJson } from './synth-offline';

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
  const functions = resourcesOf(stacks, 'aws_lambda_function').map((fn) => ({ name: String(fn.function_name), reserved: Number(fn.reserved_concurrent_executions ?? 0) }));
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
  /** Why a part could not be read. */
  readonly unreadable: readonly string[];
}

/** One line of the report. */
interface PreflightCheck {
  readonly what: string;
  readonly needs: string;
  readonly allows: string;
  readonly ok: boolean;
  /** How to close the gap, when not ok. */
  readonly fix?: string;
}

/** Sets the needs against the account. */
export function preflightChecks(config: EnvironmentConfig, needs: DeployNeeds, account: AccountState, facts: AwsFacts, configProblems: readonly string[] = []): PreflightCheck[] {
  const checks: PreflightCheck[] = [];
  const keep = quota(facts, 'lambdaUnreservedMinimum');
  const concurrencyNeeded = needs.reservedConcurrency + keep;
  const reservedBy = needs.functions.filter((fn) => fn.reserved > 0).map((fn) => `${fn.name.replace(/^order-pipeline-[a-z]+-/, '')} ${fn.reserved}`).join(', ');
  if (account.lambdaConcurrency === undefined) {
    checks.push({ what: 'Lambda concurrency', needs: `${concurrencyNeeded} (reserved ${needs.reservedConcurrency} + ${keep} Lambda keeps unreserved)`, allows: 'not read', ok: false, fix: 'run with credentials for the target account (aws lambda get-account-settings)' });
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
        ...(free >= needs.reservedConcurrency ? {} : { fix: 'other functions in the account reserve the rest: raise the account quota, or (when this pipeline is already deployed) ignore: its own reservations are part of the used share' }),
      });
    }
  }
  if (needs.natGateways > 0) {
    const eips = account.elasticIps;
    const free = eips ? eips.limit - eips.used : undefined;
    checks.push({
      what: 'Elastic IPs (one per NAT gateway)',
      needs: `${needs.natGateways}`,
      allows: free === undefined ? 'not read' : `${free} free of ${eips?.limit}`,
      ok: free !== undefined && free >= needs.natGateways,
      ...(free !== undefined && free >= needs.natGateways ? {} : { fix: `release unused addresses or request more Elastic IPs (default ${quota(facts, 'elasticIpsPerRegion')} per region); or egress: 'vpc-endpoints', which needs none` }),
    });
  }
  const vpcLimit = quota(facts, 'vpcsPerRegion');
  const vpcsFree = account.vpcs ? vpcLimit - account.vpcs.used : undefined;
  checks.push({
    what: 'VPCs',
    needs: `${needs.vpcs}`,
    allows: vpcsFree === undefined ? 'not read' : `${vpcsFree} free of ${vpcLimit} (the default quota; a raised one allows more)`,
    ok: vpcsFree === undefined || vpcsFree >= needs.vpcs,
    ...(vpcsFree !== undefined && vpcsFree < needs.vpcs ? { fix: 'delete an unused VPC or request "VPCs per Region" in Service Quotas' } : {}),
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
      allows: free === undefined ? 'not read' : `${free} free of ${state?.limit}`,
      ok: free !== undefined && free >= need,
      ...(free !== undefined && free >= need ? {} : { fix: free === undefined ? 'run with credentials (aws rds describe-account-attributes)' : `request more in Service Quotas (RDS); default ${quota(facts, what.endsWith('clusters') ? 'rdsClusters' : 'rdsInstances')}` }),
    });
  }
  for (const problem of configProblems) checks.push({ what: 'configuration', needs: 'valid', allows: problem, ok: false, fix: problem });
  return checks;
}
