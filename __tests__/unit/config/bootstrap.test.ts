/** The CI bootstrap's configuration: read from the environment, every problem named at once. */
import { describe, expect, it } from '@jest/globals';
import { BootstrapConfigError, loadBootstrapConfig } from '../../../config/bootstrap';

const base = { BOOTSTRAP_GITHUB_REPOSITORY: 'acme/order-pipeline', TF_STATE_BUCKET: 'acme-order-pipeline-tfstate' };

function problems(env: NodeJS.ProcessEnv): readonly string[] {
  try {
    loadBootstrapConfig(env);
  } catch (error) {
    if (error instanceof BootstrapConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('the bootstrap configuration', () => {
  it('reads the repository, bucket, prefix, region and environments, with defaults', () => {
    expect(loadBootstrapConfig(base)).toEqual({
      repository: 'acme/order-pipeline',
      stateBucket: 'acme-order-pipeline-tfstate',
      stateKeyPrefix: 'order-pipeline',
      region: 'us-east-1',
      environments: ['dev', 'staging', 'prod'],
      stateInBucket: false,
    });
    expect(
      loadBootstrapConfig({
        ...base,
        TF_STATE_KEY_PREFIX: 'teams/orders',
        AWS_REGION: 'eu-west-1',
        TF_STATE_REGION: 'eu-central-1',
        BOOTSTRAP_ENVIRONMENTS: ' prod , prod,staging',
        BOOTSTRAP_STATE_IN_BUCKET: '1',
        BOOTSTRAP_OIDC_PROVIDER_ARN: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
      }),
    ).toEqual({
      repository: 'acme/order-pipeline',
      stateBucket: 'acme-order-pipeline-tfstate',
      stateKeyPrefix: 'teams/orders',
      region: 'eu-central-1',
      environments: ['prod', 'staging'],
      oidcProviderArn: 'arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com',
      stateInBucket: true,
    });
  });

  it('names both missing variables and what to set them to, with the other problems', () => {
    const found = problems({});
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/^BOOTSTRAP_GITHUB_REPOSITORY is not set: .*acme\/order-pipeline/);
    expect(found[1]).toMatch(/^TF_STATE_BUCKET is not set/);
    expect(problems({ TF_STATE_BUCKET: 'Bad_Bucket' })).toEqual([
      expect.stringMatching(/^BOOTSTRAP_GITHUB_REPOSITORY is not set/),
      expect.stringContaining('TF_STATE_BUCKET "Bad_Bucket" must be lowercase letters'),
    ]);
  });

  it('refuses a repository that is not owner/name', () => {
    for (const repository of ['order-pipeline', 'acme/order/pipeline', '-acme/x', 'acme/', 'acme/..', 'ac--me/x', 'acme/with space']) {
      expect(problems({ ...base, BOOTSTRAP_GITHUB_REPOSITORY: repository })).toEqual([
        expect.stringContaining(
          `BOOTSTRAP_GITHUB_REPOSITORY must be owner/name of a GitHub repository, like acme/order-pipeline, got ${JSON.stringify(repository)}`,
        ),
      ]);
    }
  });

  it('refuses a bucket name S3 refuses, saying which rule', () => {
    expect(problems({ ...base, TF_STATE_BUCKET: 'ab' })).toEqual([expect.stringContaining('must be 3 to 63 characters long')]);
    expect(problems({ ...base, TF_STATE_BUCKET: 'Acme_State' })).toEqual([expect.stringContaining('lowercase letters, digits, dots and hyphens')]);
    expect(problems({ ...base, TF_STATE_BUCKET: '192.168.1.1' })).toEqual(expect.arrayContaining([expect.stringContaining('formatted as an IP address')]));
    expect(problems({ ...base, TF_STATE_BUCKET: 'xn--state' })).toEqual([expect.stringContaining('must not start with xn--')]);
    expect(problems({ ...base, TF_STATE_BUCKET: 'state-s3alias' })).toEqual([expect.stringContaining('must not end with -s3alias')]);
    expect(problems({ ...base, TF_STATE_BUCKET: 'acme.state' })).toEqual([expect.stringContaining('must not contain dots')]);
  });

  it('names every problem at once: prefix, region, environments, provider ARN', () => {
    const found = problems({
      ...base,
      TF_STATE_KEY_PREFIX: '/order-pipeline/*',
      AWS_REGION: 'Europe',
      BOOTSTRAP_ENVIRONMENTS: 'dev,local,qa',
      BOOTSTRAP_OIDC_PROVIDER_ARN: 'arn:aws:iam::1:oidc-provider/accounts.google.com',
    });
    expect(found).toEqual([
      expect.stringContaining('TF_STATE_KEY_PREFIX must be path segments'),
      expect.stringContaining('region (TF_STATE_REGION or AWS_REGION) must look like us-east-1, got "Europe"'),
      'BOOTSTRAP_ENVIRONMENTS: "local" is not one of dev, staging, prod',
      'BOOTSTRAP_ENVIRONMENTS: "qa" is not one of dev, staging, prod',
      expect.stringContaining("BOOTSTRAP_OIDC_PROVIDER_ARN must be the ARN of the account's token.actions.githubusercontent.com provider"),
    ]);
    expect(problems({ ...base, BOOTSTRAP_ENVIRONMENTS: ' , ' })).toEqual([
      expect.stringContaining('BOOTSTRAP_ENVIRONMENTS must name at least one of dev, staging, prod'),
    ]);
  });
});
