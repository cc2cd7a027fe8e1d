import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { keyArnOf } from './iam';
import type { Grantee } from './role';

/**
 * A secret that another service manages (here Aurora's master user secret),
 * encrypted with a customer-managed key. Reading it needs the key too, through
 * Secrets Manager only, so {@link grantRead} grants both.
 */
export class ManagedSecret {
  /** The secret's ARN (never its value). */
  readonly arn: string;
  readonly key: KmsKey;
  readonly #region: string;

  constructor(arn: string, key: KmsKey, region: string) {
    this.arn = arn;
    this.key = key;
    this.#region = region;
  }

  /** Grants `GetSecretValue` and the key's `Decrypt` via Secrets Manager. */
  grantRead(grantee: Grantee, sid = 'ReadDatabaseSecret'): void {
    grantee.grant({ Sid: sid, Action: ['secretsmanager:GetSecretValue'], Resource: [this.arn] });
    grantee.grant({
      Sid: 'ReadDatabaseSecretKey',
      Action: ['kms:Decrypt'],
      Resource: [keyArnOf(this.key)],
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.#region}.amazonaws.com` } },
    });
  }

  /**
   * Grants `PutSecretValue` and the key's `GenerateDataKey` via Secrets
   * Manager, which encrypts each new value under a data key of the secret's key.
   * https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
   */
  grantWrite(grantee: Grantee, sid: string): void {
    grantee.grant({ Sid: sid, Action: ['secretsmanager:PutSecretValue'], Resource: [this.arn] });
    grantee.grant({
      Sid: 'ReadDatabaseSecretKey',
      Action: ['kms:GenerateDataKey'],
      Resource: [keyArnOf(this.key)],
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.#region}.amazonaws.com` } },
    });
  }
}
