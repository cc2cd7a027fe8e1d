/**
 * Secrets Manager's `GetSecretValue` for the local read-model credentials, so
 * the handlers run their real middy secrets path locally.
 */
import { randomUUID } from 'node:crypto';
import { AwsError, requireString, type JsonService } from './aws-protocol';

/** One local secret; `value` is absent until one is put. */
interface LocalSecret {
  readonly name: string;
  readonly arn: string;
  value?: string;
  versionId?: string;
  readonly created: number;
  changed: number;
}

/** The local Secrets Manager. */
export class LocalSecrets {
  readonly #secrets = new Map<string, LocalSecret>();

  constructor(private readonly region: string, private readonly account: string) {}

  /** Stores a secret; returns its ARN (with the random suffix AWS adds, unless `arn` is given). */
  put(name: string, value: Record<string, unknown>, arn: string = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomUUID().replace(/-/g, '').slice(0, 6)}`): string {
    this.#secrets.set(name, { name, arn, value: JSON.stringify(value), versionId: randomUUID(), created: Date.now(), changed: Date.now() });
    return arn;
  }

  /** Creates a secret without a value, as `CreateSecret` (and Terraform's `aws_secretsmanager_secret`) does. */
  create(name: string, arn: string): void {
    this.#secrets.set(name, { name, arn, created: Date.now(), changed: Date.now() });
  }

  #find(id: string): LocalSecret {
    for (const secret of this.#secrets.values()) {
      // An ARN may be given with or without the random suffix, as in AWS.
      if (id === secret.name || id === secret.arn || secret.arn.startsWith(`${id}-`)) return secret;
    }
    throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

  service(): JsonService {
    return {
      targetPrefix: 'secretsmanager',
      jsonVersion: '1.1',
      operations: {
        GetSecretValue: (body) => {
          const secret = this.#find(requireString(body, 'SecretId'));
          if (secret.value === undefined) throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
          return {
            ARN: secret.arn,
            Name: secret.name,
            VersionId: secret.versionId,
            SecretString: secret.value,
            VersionStages: ['AWSCURRENT'],
            CreatedDate: secret.created / 1000,
          };
        },
        PutSecretValue: (body) => {
          const secret = this.#find(requireString(body, 'SecretId'));
          secret.value = requireString(body, 'SecretString');
          secret.versionId = randomUUID();
          secret.changed = Date.now();
          return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'] };
        },
        DescribeSecret: (body) => {
          const secret = this.#find(requireString(body, 'SecretId'));
          return { ARN: secret.arn, Name: secret.name, CreatedDate: secret.created / 1000, LastChangedDate: secret.changed / 1000 };
        },
      },
    };
  }
}
