/**
 * The role sessions of the local runtime: each function's role gets
 * credentials whose access key id identifies the role to the endpoint.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Credentials a function's environment gets: they identify its role to the endpoint. */
export interface RoleCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** The access key id of a role's sessions: it is what identifies the role to the endpoint. */
export function roleAccessKeyId(roleArn: string): string {
  return `ASIA${createHash('sha256').update(roleArn).digest('hex').toUpperCase().slice(0, 16)}`;
}

/** Credentials per role: the access key identifies the role's session to the endpoint. */
export class RoleSessions {
  readonly byAccessKey = new Map<string, string>();
  readonly #byRole = new Map<string, RoleCredentials>();
  readonly #issued = new Set<string>();

  /** Whether `accessKeyId` is a session this runtime issued to one of its roles (a function, the workflow), not a client's key. */
  issued(accessKeyId: string): boolean {
    return this.#issued.has(accessKeyId);
  }

  for(roleArn: string): RoleCredentials {
    let credentials = this.#byRole.get(roleArn);
    if (!credentials) {
      credentials = {
        accessKeyId: roleAccessKeyId(roleArn),
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(48).toString('base64'),
      };
      this.#byRole.set(roleArn, credentials);
      this.byAccessKey.set(credentials.accessKeyId, roleArn);
      this.#issued.add(credentials.accessKeyId);
    }
    return credentials;
  }
}
