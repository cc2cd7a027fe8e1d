/**
 * Configuration of the CI bootstrap stack (`npm run bootstrap`): the GitHub
 * repository whose workflows may assume the CI roles, the Terraform state
 * bucket and key prefix, and the environments the deploy role deploys.
 * Validated with one error that names every problem, like the environment
 * configuration.
 *
 *   BOOTSTRAP_GITHUB_REPOSITORY   owner/name of the repository (required)
 *   TF_STATE_BUCKET               the state bucket to create (required)
 *   TF_STATE_KEY_PREFIX           key prefix of the pipeline's state objects (default order-pipeline)
 *   TF_STATE_REGION / AWS_REGION  where the bucket and the roles' provider live (default us-east-1)
 *   BOOTSTRAP_ENVIRONMENTS        GitHub environments that may deploy, comma-separated (default dev,staging,prod)
 *   BOOTSTRAP_OIDC_PROVIDER_ARN   an existing GitHub OIDC provider of the account (one per account); unset: created here
 *   BOOTSTRAP_STATE_IN_BUCKET=1   keep the bootstrap's own state in the bucket it created (after the first apply)
 */
import { APP_NAME } from './contract';
import { ENVIRONMENT_NAMES, type EnvironmentName } from './environments';

/** An environment that is deployed to AWS (every one but `local`). */
export type DeployedEnvironment = Exclude<EnvironmentName, 'local'>;

/** The deployed environments. */
const DEPLOYED_ENVIRONMENTS = ENVIRONMENT_NAMES.filter((name): name is DeployedEnvironment => name !== 'local');

/** Everything the bootstrap stack needs. */
export interface BootstrapConfig {
  /** `owner/name` of the GitHub repository whose workflows assume the roles. */
  readonly repository: string;
  /** The state bucket (created by the bootstrap stack). */
  readonly stateBucket: string;
  /** Key prefix of the pipeline's state objects (`<prefix>/<env>/<stack>.tfstate`). @default order-pipeline */
  readonly stateKeyPrefix: string;
  readonly region: string;
  /** The GitHub environments (named like `CQRS_ENV`) whose jobs may assume the deploy role. */
  readonly environments: readonly DeployedEnvironment[];
  /** The account's existing GitHub OIDC provider, when it has one (IAM allows one per URL). */
  readonly oidcProviderArn?: string;
  /** Keep the bootstrap's state in the bucket (`<prefix>-bootstrap/...`, outside the pipeline's prefix). @default false */
  readonly stateInBucket: boolean;
}

/** Names of what the bootstrap creates: outside the `order-pipeline-*` prefix the deploy role may write. */
export const BOOTSTRAP_NAMES = {
  stack: `bootstrap-${APP_NAME}`,
  planRole: `cicd-${APP_NAME}-plan`,
  deployRole: `cicd-${APP_NAME}-deploy`,
  stateKeyAlias: `alias/cicd-${APP_NAME}-state`,
} as const;

/** The GitHub Actions OIDC issuer and the audience `aws-actions/configure-aws-credentials` asks for. */
export const GITHUB_OIDC = { host: 'token.actions.githubusercontent.com', audience: 'sts.amazonaws.com' } as const;

/** A bootstrap configuration that cannot be applied; `problems` names every field. */
export class BootstrapConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid bootstrap configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'BootstrapConfigError';
    this.problems = problems;
  }
}

/**
 * GitHub owner names: alphanumerics and single hyphens, up to 39 characters;
 * repository names: alphanumerics, `.`, `_`, `-`, up to 100.
 */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPOSITORY = /^[A-Za-z0-9._-]{1,100}$/;

/** Problems with an S3 bucket name (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). */
function bucketNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length < 3 || name.length > 63) problems.push('must be 3 to 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    problems.push('must be lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit');
  if (name.includes('..')) problems.push('must not contain two adjacent dots');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) problems.push('must not be formatted as an IP address');
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) problems.push('must not start with xn--, sthree- or amzn-s3-demo-');
  if (/(-s3alias|--ol-s3|--x-s3|--table-s3)$/.test(name)) problems.push('must not end with -s3alias, --ol-s3, --x-s3 or --table-s3');
  // Virtual-hosted-style HTTPS with the bucket's wildcard certificate fails on a dotted name.
  if (name.includes('.')) problems.push('must not contain dots (TLS to a dotted bucket name fails the certificate check)');
  return problems;
}

/** Checks a configuration, throwing a {@link BootstrapConfigError} that lists every problem. */
function validateBootstrapConfig(config: BootstrapConfig): BootstrapConfig {
  const problems: string[] = [];
  const [owner, name, ...rest] = config.repository.split('/');
  if (config.repository === '') {
    problems.push('BOOTSTRAP_GITHUB_REPOSITORY is not set: the owner/name of the repository whose workflows assume the CI roles, like acme/order-pipeline');
  } else if (rest.length > 0 || !owner || !name || !OWNER.test(owner) || !REPOSITORY.test(name) || name === '.' || name === '..') {
    problems.push(`BOOTSTRAP_GITHUB_REPOSITORY must be owner/name of a GitHub repository, like acme/order-pipeline, got ${JSON.stringify(config.repository)}`);
  }
  if (config.stateBucket === '') problems.push('TF_STATE_BUCKET is not set: the name of the state bucket to create, like acme-order-pipeline-tfstate');
  else for (const problem of bucketNameProblems(config.stateBucket)) problems.push(`TF_STATE_BUCKET ${JSON.stringify(config.stateBucket)} ${problem}`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(config.stateKeyPrefix)) {
    problems.push(
      `TF_STATE_KEY_PREFIX must be path segments of letters, digits, '.', '_' and '-' with no leading or trailing '/' and no wildcard, like order-pipeline, got ${JSON.stringify(config.stateKeyPrefix)}`,
    );
  }
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(config.region))
    problems.push(`region (TF_STATE_REGION or AWS_REGION) must look like us-east-1, got ${JSON.stringify(config.region)}`);
  if (config.environments.length === 0) problems.push(`BOOTSTRAP_ENVIRONMENTS must name at least one of ${DEPLOYED_ENVIRONMENTS.join(', ')}`);
  for (const environment of config.environments) {
    if (!(DEPLOYED_ENVIRONMENTS as readonly string[]).includes(environment))
      problems.push(`BOOTSTRAP_ENVIRONMENTS: ${JSON.stringify(environment)} is not one of ${DEPLOYED_ENVIRONMENTS.join(', ')}`);
  }
  if (
    config.oidcProviderArn !== undefined &&
    !/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/.test(config.oidcProviderArn)
  ) {
    problems.push(
      `BOOTSTRAP_OIDC_PROVIDER_ARN must be the ARN of the account's token.actions.githubusercontent.com provider, got ${JSON.stringify(config.oidcProviderArn)}`,
    );
  }
  if (problems.length > 0) throw new BootstrapConfigError(problems);
  return config;
}

/** The configuration from the environment (see the variables at the top of this file). */
export function loadBootstrapConfig(env: NodeJS.ProcessEnv = process.env): BootstrapConfig {
  const environments = (env.BOOTSTRAP_ENVIRONMENTS ?? DEPLOYED_ENVIRONMENTS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  return validateBootstrapConfig({
    repository: env.BOOTSTRAP_GITHUB_REPOSITORY ?? '',
    stateBucket: env.TF_STATE_BUCKET ?? '',
    stateKeyPrefix: env.TF_STATE_KEY_PREFIX ?? APP_NAME,
    region: env.TF_STATE_REGION ?? env.AWS_REGION ?? 'us-east-1',
    environments: [...new Set(environments)] as DeployedEnvironment[],
    ...(env.BOOTSTRAP_OIDC_PROVIDER_ARN ? { oidcProviderArn: env.BOOTSTRAP_OIDC_PROVIDER_ARN } : {}),
    stateInBucket: env.BOOTSTRAP_STATE_IN_BUCKET === '1',
  });
}
