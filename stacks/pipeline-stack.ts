import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider';
import { LocalBackend, S3Backend, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import { APP_NAME } from '../config/pipeline';

/** Where Terraform state lives, from the environment (see the README's "Deploy"). */
interface StateBackendSettings {
  /** S3 bucket; the local backend is used when unset. */
  readonly bucket?: string;
  /** Key prefix inside the bucket. @default order-pipeline */
  readonly keyPrefix?: string;
  /** Bucket region. @default the deployment region */
  readonly region?: string;
  /**
   * The KMS key state objects are encrypted with (the bootstrap stack's
   * `StateKmsKeyArn`). Without it the backend's `encrypt` asks for SSE-S3,
   * which overrides the bucket's default KMS encryption.
   */
  readonly kmsKeyId?: string;
}

/** Reads `TF_STATE_BUCKET`, `TF_STATE_KEY_PREFIX`, `TF_STATE_REGION` and `TF_STATE_KMS_KEY_ID`. */
function stateBackendFromEnv(env: NodeJS.ProcessEnv = process.env): StateBackendSettings {
  return {
    ...(env.TF_STATE_BUCKET ? { bucket: env.TF_STATE_BUCKET } : {}),
    ...(env.TF_STATE_KEY_PREFIX ? { keyPrefix: env.TF_STATE_KEY_PREFIX } : {}),
    ...(env.TF_STATE_REGION ? { region: env.TF_STATE_REGION } : {}),
    ...(env.TF_STATE_KMS_KEY_ID ? { kmsKeyId: env.TF_STATE_KMS_KEY_ID } : {}),
  };
}

/**
 * Why this environment may not be synthesized with the given state settings,
 * or undefined. Every environment but `local` needs remote state: a deploy
 * with local state (on a CI runner, say) forgets what it created, and the next
 * deploy collides with it. `TF_LOCAL_STATE=1` allows a local-state synth on
 * purpose, to read the Terraform offline; `cdktf deploy` is never run that way.
 */
export function remoteStateProblem(config: EnvironmentConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (config.environment === 'local' || env.TF_STATE_BUCKET || env.TF_LOCAL_STATE === '1') return undefined;
  return (
    `refusing to synthesize the ${config.environment} environment with local Terraform state: ` +
    'set TF_STATE_BUCKET (and TF_STATE_REGION, TF_STATE_KEY_PREFIX) to an S3 bucket for its state (see the README, "Deploy"); ' +
    'to only read the Terraform offline, set TF_LOCAL_STATE=1 (npm run synth does)'
  );
}

/**
 * A stack of this app: the AWS provider for the environment's region with
 * default tags, and the state backend (S3 with a lock file, or local).
 */
export class PipelineStack extends TerraformStack {
  readonly config: EnvironmentConfig;
  #account: DataAwsCallerIdentity | undefined;
  #partition: DataAwsPartition | undefined;

  /** The account id, looked up once per stack on first use (a stack that needs none gets no lookup). */
  get accountId(): string {
    this.#account ??= new DataAwsCallerIdentity(this, 'account');
    return this.#account.accountId;
  }

  /** The partition (`aws`, `aws-cn`, ...), looked up once per stack on first use. */
  get partition(): string {
    this.#partition ??= new DataAwsPartition(this, 'partition');
    return this.#partition.partition;
  }

  constructor(scope: Construct, id: string, config: EnvironmentConfig, backend: StateBackendSettings = stateBackendFromEnv()) {
    super(scope, id);
    this.config = config;
    new AwsProvider(this, 'aws', {
      region: config.region,
      defaultTags: [{ tags: { Project: APP_NAME, Environment: config.environment, ManagedBy: 'cdktf', Stack: id } }],
    });
    // The local environment never has remote state: it is synthesized for the local runtime only.
    if (backend.bucket && config.environment !== 'local') {
      new S3Backend(this, {
        bucket: backend.bucket,
        key: `${backend.keyPrefix ?? APP_NAME}/${config.environment}/${id}.tfstate`,
        region: backend.region ?? config.region,
        encrypt: true,
        ...(backend.kmsKeyId ? { kmsKeyId: backend.kmsKeyId } : {}),
      });
      // S3-native locking (Terraform 1.10+), no DynamoDB lock table needed.
      this.addOverride('terraform.backend.s3.use_lockfile', true);
    } else {
      // Relative to cdktf.out/stacks/<stack>: state files sit in the project root.
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
  }
}
