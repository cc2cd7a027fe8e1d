/**
 * The CI roles' permissions, derived from the provider-calls table for the
 * types the stacks synthesize, plus the Terraform state (S3 backend with its
 * lock file) and the deploy workflow's preflight. The plan role gets the
 * refresh and plan-time calls; the deploy role those and the create, update
 * and delete calls. Resources are the project's name prefix where the ARN
 * holds a name, the account and region where AWS generates the identifier,
 * and `*` only where the table says the action takes no resource.
 */
import { CALL_ACTIONS } from './preflight-calls';
import { PROJECT_PATTERN, WRITE_PHASES, targeted, type ProviderCalls, type TargetedCall } from './provider-calls';

/** One statement of a CI role's policy. */
export interface CiStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** Where the roles act: values or Terraform references. */
export interface RoleScope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The Terraform state the roles read (and the deploy role writes). */
export interface StateAccess {
  /** ARN of the state bucket. */
  readonly bucketArn: string;
  /** Key prefix of the pipeline's state objects. */
  readonly keyPrefix: string;
  /** ARN of the bucket's KMS key. */
  readonly keyArn: string;
  readonly region: string;
}

/** Which role. */
export type CiRole = 'plan' | 'deploy';

/** The placeholders of a row that hold names. */
function namedPlaceholders(row: ProviderCalls): readonly string[] {
  return row.named ?? (row.name ? [row.name] : []);
}

/** An ARN template as a policy resource pattern. */
function resourcePattern(row: ProviderCalls, template: string, scope: RoleScope): string {
  if (template === '*') return '*';
  const named = namedPlaceholders(row);
  return template.replace(/\{([^}]+)\}/g, (_, key: string) => {
    if (key === 'partition') return scope.partition;
    if (key === 'region') return scope.region;
    if (key === 'account') return scope.account;
    return named.includes(key) ? (row.patterns?.[key] ?? PROJECT_PATTERN) : '*';
  });
}

/** The calls of a row a role makes. */
function roleCalls(row: ProviderCalls, role: CiRole): TargetedCall[] {
  const phases = role === 'plan' ? [row.read, row.plan ?? []] : [row.read, row.plan ?? [], ...WRITE_PHASES.map((phase) => row[phase])];
  return phases.flat().map((call) => targeted(row, call));
}

const sidPart = (text: string) => text.replace(/[^A-Za-z0-9]/g, '');

/** The refresh (plan) or refresh-and-write (deploy) statements for the rows: one per service and resource set. */
function providerStatements(rows: readonly ProviderCalls[], role: CiRole, scope: RoleScope): CiStatement[] {
  const groups = new Map<string, { service: string; resources: string[]; actions: Set<string>; viaService?: string }>();
  for (const row of rows) {
    for (const call of roleCalls(row, role)) {
      const resources = [...new Set((typeof call.on === 'string' ? [call.on] : call.on).map((template) => resourcePattern(row, template, scope)))].sort();
      const service = call.action.split(':')[0] ?? call.action;
      const viaService = call.viaService ? `${call.viaService}.${scope.region}.amazonaws.com` : undefined;
      const key = JSON.stringify([service, resources, viaService]);
      const group = groups.get(key) ?? { service, resources, actions: new Set<string>(), ...(viaService ? { viaService } : {}) };
      group.actions.add(call.action);
      groups.set(key, group);
    }
  }
  const counts = new Map<string, number>();
  return [...groups.values()]
    .sort(
      (a, b) =>
        a.service.localeCompare(b.service) ||
        JSON.stringify(a.resources).localeCompare(JSON.stringify(b.resources)) ||
        (a.viaService ?? '').localeCompare(b.viaService ?? ''),
    )
    .map((group) => {
      const n = (counts.get(group.service) ?? 0) + 1;
      counts.set(group.service, n);
      return {
        Sid: `${role === 'plan' ? 'Refresh' : 'Deploy'}${sidPart(group.service)}${n}`,
        Effect: 'Allow' as const,
        Action: [...group.actions].sort(),
        Resource: group.resources,
        ...(group.viaService ? { Condition: { StringEquals: { 'kms:ViaService': group.viaService } } } : {}),
      };
    });
}

/**
 * Terraform's S3 backend: list the bucket, read the state objects; the deploy
 * role also writes them and the S3-native lock file (`<key>.tflock`, created
 * and deleted per run). https://developer.hashicorp.com/terraform/language/backend/s3#permissions-required
 * Objects are encrypted with the bucket's key, used through S3 only.
 */
function stateStatements(state: StateAccess, role: CiRole): CiStatement[] {
  const objects = `${state.bucketArn}/${state.keyPrefix}/*`;
  const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${state.region}.amazonaws.com` } };
  return [
    { Sid: 'StateList', Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [state.bucketArn] },
    { Sid: 'StateRead', Effect: 'Allow', Action: ['s3:GetObject'], Resource: [objects] },
    ...(role === 'deploy'
      ? [
          { Sid: 'StateWrite', Effect: 'Allow' as const, Action: ['s3:PutObject'], Resource: [objects] },
          { Sid: 'StateLockRelease', Effect: 'Allow' as const, Action: ['s3:DeleteObject'], Resource: [`${state.bucketArn}/${state.keyPrefix}/*.tflock`] },
        ]
      : []),
    {
      Sid: 'StateKey',
      Effect: 'Allow',
      Action: role === 'deploy' ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
      Resource: [state.keyArn],
      Condition: viaS3,
    },
  ];
}

/** The deploy workflow runs `npm run preflight` with the deploy role: the account settings it reads. */
function preflightStatement(): CiStatement {
  return { Sid: 'Preflight', Effect: 'Allow', Action: [...new Set(Object.values(CALL_ACTIONS))].sort(), Resource: ['*'] };
}

/** Every statement of a role. */
export function roleStatements(rows: readonly ProviderCalls[], role: CiRole, scope: RoleScope, state: StateAccess): CiStatement[] {
  return [...stateStatements(state, role), ...(role === 'deploy' ? [preflightStatement()] : []), ...providerStatements(rows, role, scope)];
}

/**
 * IAM quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
 * a managed policy holds at most 6,144 characters (white space not counted),
 * and a role has at most 10 managed policies attached by default.
 */
export const MANAGED_POLICY_MAX_CHARACTERS = 6_144;
export const MANAGED_POLICIES_PER_ROLE = 10;

/** A policy document as IAM counts it (no white space). */
export function policyJson(statements: readonly CiStatement[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/**
 * Packs statements into as few managed policy documents as fit the size
 * limit, in order. `measure` turns a document into the text IAM will count
 * (references to the account and partition resolved to their longest form).
 */
export function packPolicies(statements: readonly CiStatement[], measure: (json: string) => number = (json) => json.length): CiStatement[][] {
  const documents: CiStatement[][] = [];
  for (const statement of statements) {
    const single = measure(policyJson([statement]));
    if (single > MANAGED_POLICY_MAX_CHARACTERS)
      throw new Error(`statement ${statement.Sid} alone is ${single} characters, over the ${MANAGED_POLICY_MAX_CHARACTERS} of a managed policy`);
    const last = documents.at(-1);
    if (last && measure(policyJson([...last, statement])) <= MANAGED_POLICY_MAX_CHARACTERS) last.push(statement);
    else documents.push([statement]);
  }
  if (documents.length > MANAGED_POLICIES_PER_ROLE)
    throw new Error(`the role needs ${documents.length} managed policies, over the ${MANAGED_POLICIES_PER_ROLE} IAM attaches to a role by default`);
  return documents;
}
