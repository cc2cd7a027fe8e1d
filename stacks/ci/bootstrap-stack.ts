/**
 * The CI bootstrap: what an administrator applies once per account before
 * the pipelines run, like `cdk bootstrap` (docs/ci-cd.md): the Terraform
 * state bucket with its key, the GitHub OIDC provider, and the two roles the
 * workflows assume — the plan role from pull requests of the repository, the
 * deploy role from its deploy environments. Their permissions come from the
 * provider-calls table for the types the pipeline's stacks synthesize.
 *
 * Named `bootstrap-order-pipeline`, so `cdktf deploy 'order-pipeline-<env>-*'`
 * never matches it; synthesized by its own app (`bootstrap.ts`, `npm run
 * bootstrap`) into its own folder, so the pipeline's synth and the PR plans
 * never see it.
 */
import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning';
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { BOOTSTRAP_NAMES, GITHUB_OIDC, type BootstrapConfig } from '../../config/bootstrap';
import { APP_NAME } from '../../config/contract';
import { packPolicies, policyJson, roleStatements, type CiRole, type CiStatement } from './ci-policies';
import { rowsFor } from './pipeline-types';
import { PROVIDER_CALLS, type ProviderCalls } from './provider-calls';

/** Options of {@link BootstrapStack}. */
export interface BootstrapStackOptions {
  readonly config: BootstrapConfig;
  /** The types the pipeline's stacks synthesize (every environment). */
  readonly types: Iterable<string>;
  /** The table the roles are derived from. @default PROVIDER_CALLS */
  readonly table?: Readonly<Record<string, ProviderCalls>>;
}

/** The longest an account id or partition reference can resolve to, for sizing the policies before they are applied. */
const measure = (json: string) =>
  json.replace(/\$\{data\.aws_caller_identity\.[^}]+\}/g, '123456789012').replace(/\$\{data\.aws_partition\.[^}]+\}/g, 'aws-iso-b').length;

/** The bootstrap stack. */
export class BootstrapStack extends TerraformStack {
  readonly planRole: IamRole;
  readonly deployRole: IamRole;
  readonly bucket: S3Bucket;
  readonly stateKey: KmsKey;
  /** The statements of each role, as packed into its managed policies. */
  readonly policies: Readonly<Record<CiRole, readonly (readonly CiStatement[])[]>>;

  constructor(scope: Construct, options: BootstrapStackOptions) {
    super(scope, BOOTSTRAP_NAMES.stack);
    const { config } = options;
    new AwsProvider(this, 'aws', { region: config.region, defaultTags: [{ tags: { Project: APP_NAME, ManagedBy: 'cdktf', Stack: BOOTSTRAP_NAMES.stack } }] });
    this.#backend(config);
    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const partition = new DataAwsPartition(this, 'partition').partition;

    this.stateKey = new KmsKey(this, 'state-key', { description: `Terraform state of ${APP_NAME}`, enableKeyRotation: true, deletionWindowInDays: 30 });
    new KmsAlias(this, 'state-key-alias', { name: BOOTSTRAP_NAMES.stateKeyAlias, targetKeyId: this.stateKey.keyId });
    this.bucket = this.#stateBucket(config, this.stateKey);

    const providerArn =
      config.oidcProviderArn ?? new IamOpenidConnectProvider(this, 'github', { url: `https://${GITHUB_OIDC.host}`, clientIdList: [GITHUB_OIDC.audience] }).arn;
    this.planRole = new IamRole(this, 'plan-role', {
      name: BOOTSTRAP_NAMES.planRole,
      description: `terraform plan of ${APP_NAME} in pull requests of ${config.repository}: state reads and refresh calls only`,
      assumeRolePolicy: githubTrust(providerArn, [`repo:${config.repository}:pull_request`]),
    });
    this.deployRole = new IamRole(this, 'deploy-role', {
      name: BOOTSTRAP_NAMES.deployRole,
      description: `cdktf deploy of ${APP_NAME} from the ${config.environments.join(', ')} environments of ${config.repository}`,
      assumeRolePolicy: githubTrust(
        providerArn,
        config.environments.map((environment) => `repo:${config.repository}:environment:${environment}`),
      ),
      // A first deploy creates an Aurora cluster and its instances: longer than the default hour.
      maxSessionDuration: 7_200,
    });

    const rows = rowsFor(options.types, options.table ?? PROVIDER_CALLS);
    const state = { bucketArn: this.bucket.arn, keyPrefix: config.stateKeyPrefix, keyArn: this.stateKey.arn, region: config.region };
    this.policies = {
      plan: this.#attachPolicies('plan', this.planRole, roleStatements(rows, 'plan', { partition, region: config.region, account }, state)),
      deploy: this.#attachPolicies('deploy', this.deployRole, roleStatements(rows, 'deploy', { partition, region: config.region, account }, state)),
    };
    this.#outputs(config, providerArn);
  }

  /** The state of this stack: outside the pipeline's key prefix, so the deploy role cannot rewrite the state of the roles it runs as. */
  #backend(config: BootstrapConfig): void {
    if (!config.stateInBucket) {
      new LocalBackend(this, { path: `../../../terraform.${BOOTSTRAP_NAMES.stack}.tfstate` });
      return;
    }
    new S3Backend(this, {
      bucket: config.stateBucket,
      key: `${config.stateKeyPrefix}-bootstrap/${BOOTSTRAP_NAMES.stack}.tfstate`,
      region: config.region,
      encrypt: true,
    });
    this.addOverride('terraform.backend.s3.use_lockfile', true);
  }

  /** The state bucket: versioned, encrypted with the state key, private, owned by the account, TLS only, never destroyed by an apply. */
  #stateBucket(config: BootstrapConfig, key: KmsKey): S3Bucket {
    const bucket = new S3Bucket(this, 'state', { bucket: config.stateBucket, lifecycle: { preventDestroy: true } });
    new S3BucketVersioningA(this, 'state-versioning', { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } });
    new S3BucketServerSideEncryptionConfigurationA(this, 'state-encryption', {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }],
    });
    new S3BucketPublicAccessBlock(this, 'state-public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'state-ownership', { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    const tlsOnly = {
      Sid: 'TlsOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [bucket.arn, `${bucket.arn}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    };
    new S3BucketPolicy(this, 'state-tls-only', { bucket: bucket.id, policy: JSON.stringify({ Version: '2012-10-17', Statement: [tlsOnly] }) });
    return bucket;
  }

  /** A role's statements, packed into managed policies within IAM's size limit, each attached to the role. */
  #attachPolicies(kind: CiRole, role: IamRole, statements: CiStatement[]): CiStatement[][] {
    const packed = packPolicies(statements, measure);
    const roleName = kind === 'plan' ? BOOTSTRAP_NAMES.planRole : BOOTSTRAP_NAMES.deployRole;
    for (const [index, policyStatements] of packed.entries()) {
      const policy = new IamPolicy(this, `${kind}-policy-${index + 1}`, { name: `${roleName}-${index + 1}`, policy: policyJson(policyStatements) });
      new IamRolePolicyAttachment(this, `${kind}-policy-${index + 1}-attachment`, { role: role.name, policyArn: policy.arn });
    }
    return packed;
  }

  /** What the GitHub repository's variables are set from. */
  #outputs(config: BootstrapConfig, providerArn: string): void {
    new TerraformOutput(this, 'PlanRoleArn', { value: this.planRole.arn, description: 'GitHub repository variable AWS_PLAN_ROLE_ARN' });
    new TerraformOutput(this, 'DeployRoleArn', { value: this.deployRole.arn, description: 'GitHub repository variable AWS_DEPLOY_ROLE_ARN' });
    new TerraformOutput(this, 'StateBucket', { value: this.bucket.bucket, description: 'GitHub repository variable TF_STATE_BUCKET' });
    new TerraformOutput(this, 'StateKeyPrefix', { value: config.stateKeyPrefix, description: 'GitHub repository variable TF_STATE_KEY_PREFIX' });
    new TerraformOutput(this, 'StateKmsKeyArn', { value: this.stateKey.arn, description: 'GitHub repository variable TF_STATE_KMS_KEY_ID' });
    new TerraformOutput(this, 'OidcProviderArn', { value: providerArn });
  }
}

/** The trust policy of a role GitHub Actions assumes through OIDC, from the given subjects only. */
function githubTrust(providerArn: string, subjects: readonly string[]): string {
  const condition = {
    StringEquals: {
      [`${GITHUB_OIDC.host}:aud`]: GITHUB_OIDC.audience,
      [`${GITHUB_OIDC.host}:sub`]: subjects.length === 1 ? subjects[0] : [...subjects],
    },
  };
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'GitHubActions', Effect: 'Allow', Principal: { Federated: providerArn }, Action: 'sts:AssumeRoleWithWebIdentity', Condition: condition },
    ],
  });
}
