import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import type { Grantee } from './role';

/**
 * A secret that another service manages (here Aurora's master user secret),
 * encrypted with a customer-managed key. Reading it needs the key too, through
 * Secrets Manager only, so {@link grantRead} grants both.
 */
/**
 * One token per key: each read of `key.arn` is a new token, so statements on the
 * same key from several secrets would not be seen as the same and merged (and two
 * statements would share a Sid, which IAM refuses).
 */
const keyArns = new WeakMap<KmsKey, string>();
function keyArnOf(key: KmsKey): string {
  let arn = keyArns.get(key);
  if (arn === undefined) {
    arn = key.arn;
    keyArns.set(key, arn);
  }
  return arn;
}

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
