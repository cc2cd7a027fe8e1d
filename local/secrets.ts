/**
 * Secrets Manager for the local read-model credentials, so the handlers run
 * their real middy secrets path locally: `GetSecretValue`, and the
 * `PutSecretValue` with which init-schema writes the database role secrets.
 */
import { randomUUID } from 'node:crypto';
import { JSON_PROTOCOL, requireString, type JsonService } from './protocols/json';
import { AwsError } from './errors';
import type { IamGate, IamRequest, Principal } from './iam';
import { authorizeAll, viaService } from './kms';
import type { LocalService } from './service';

declare module './service' {
  interface Parts {
    secrets: LocalSecrets;
  }
}

/** The Secrets Manager service: each `aws_secretsmanager_secret` is created without a value, as Terraform creates it. */
export const secretsService: LocalService = {
  name: 'secretsmanager',
  serves: {
    aws_secretsmanager_secret: {
      becomes: 'a local secret, created without a value (a database role secret, filled by init-schema)',
      attributes: (model, resource, id) => {
        const { region, account } = model.context;
        const name = model.string(resource, 'name');
        const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${id.slice(0, 6)}`;
        return { id: arn, arn, name };
      },
    },
  },
  bind({ model, region, account, gate, serve, provide, status }) {
    const secrets = new LocalSecrets(region, account, gate);
    for (const secret of model.resources('aws_secretsmanager_secret')) {
      const attributes = model.attributes(secret);
      secrets.create(attributes.name as string, attributes.arn as string, customerKey(model.field(secret, 'kms_key_id')));
    }
    serve(JSON_PROTOCOL, secrets.service());
    provide('secrets', secrets);
    status('secrets', () => secrets.arns());
  },
};

/** A key id that is a customer-managed key's ARN; anything else (absent, `aws/secretsmanager`) is the AWS managed key. */
export function customerKey(keyId: unknown): string | undefined {
  return typeof keyId === 'string' && keyId.startsWith('arn:') ? keyId : undefined;
}

/** One local secret; `value` is absent until one is put. */
interface LocalSecret {
  readonly name: string;
  readonly arn: string;
  value?: string;
  versionId?: string;
  readonly created: number;
  changed: number;
  /** Its customer-managed key (undefined: the AWS managed key). */
  readonly keyArn?: string;
}

/** The local Secrets Manager. */
export class LocalSecrets {
  readonly #secrets = new Map<string, LocalSecret>();

  /** `gate` authorizes the calls of roles and client identities; without it, {@link authorize} refuses. */
  constructor(
    private readonly region: string,
    private readonly account: string,
    private readonly gate?: IamGate,
  ) {}

  /** Stores a secret; returns its ARN (with the random suffix AWS adds, unless `arn` is given). */
  put(
    name: string,
    value: Record<string, unknown>,
    arn: string = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:${name}-${randomUUID().replace(/-/g, '').slice(0, 6)}`,
    keyArn?: string,
  ): string {
    this.#secrets.set(name, {
      name,
      arn,
      value: JSON.stringify(value),
      versionId: randomUUID(),
      created: Date.now(),
      changed: Date.now(),
      ...(keyArn ? { keyArn } : {}),
    });
    return arn;
  }

  /** Creates a secret without a value, as `CreateSecret` (and Terraform's `aws_secretsmanager_secret`) does. */
  create(name: string, arn: string, keyArn?: string): void {
    this.#secrets.set(name, { name, arn, created: Date.now(), changed: Date.now(), ...(keyArn ? { keyArn } : {}) });
  }

  /** A secret's current value, parsed (undefined when it has none or is not JSON): the runtime's own diagnostics. */
  currentValue(id: string): Record<string, unknown> | undefined {
    const value = this.#lookup(id)?.value;
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  }

  /** The secrets' ARNs. */
  arns(): string[] {
    return [...this.#secrets.values()].map((secret) => secret.arn);
  }

  /** Authorizes a Secrets Manager call on the secret it names, and its key's use (`Decrypt` to read, `GenerateDataKey` to write). */
  authorize(principal: Principal, operation: string, secretId: string | undefined): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const secret = secretId ? this.#lookup(secretId) : undefined;
    const arn = secret?.arn ?? secretId ?? '*';
    const requests: IamRequest[] = [{ principal, action: `secretsmanager:${operation}`, resource: arn }];
    const keyArn = secret?.keyArn;
    if (operation === 'GetSecretValue' && keyArn) requests.push(...viaService(principal, keyArn, 'secretsmanager', this.region, this.account, false));
    // A new value is encrypted under a data key of the secret's key.
    if (operation === 'PutSecretValue' && keyArn)
      requests.push(
        ...viaService(principal, keyArn, 'secretsmanager', this.region, this.account, false).map((request) => ({ ...request, action: 'kms:GenerateDataKey' })),
      );
    return authorizeAll(this.gate, requests);
  }

  #lookup(id: string): LocalSecret | undefined {
    for (const secret of this.#secrets.values()) {
      // An ARN may be given with or without the random suffix, as in AWS.
      if (id === secret.name || id === secret.arn || secret.arn.startsWith(`${id}-`)) return secret;
    }
    return undefined;
  }

  #find(id: string): LocalSecret {
    const secret = this.#lookup(id);
    if (secret) return secret;
    throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  }

  service(): JsonService {
    return {
      targetPrefix: 'secretsmanager',
      jsonVersion: '1.1',
      authorize: (principal, operation, body) => this.authorize(principal, operation, typeof body.SecretId === 'string' ? body.SecretId : undefined),
      operations: {
        GetSecretValue: (body) => {
          const secret = this.#find(requireString(body, 'SecretId'));
          if (secret.value === undefined)
            throw new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT");
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
