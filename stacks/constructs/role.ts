import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy';
import { Lazy } from 'cdktf';
import type { Construct } from 'constructs';
import type { DynamodbPath } from './gateway-endpoint';
import { assumeRolePolicy, policyDocument, type PolicyStatement } from './iam';

/** Anything that can be given permissions: a role, or a function through its role. */
export interface Grantee {
  /** Adds a statement to the grantee's own policy. */
  grant(statement: PolicyStatement): void;
  /** The VPC endpoint the grantee reaches DynamoDB through, whose policy a table grant widens too; none outside a VPC. */
  readonly dynamodbPath?: DynamodbPath | undefined;
}

/** Options of {@link ServiceRole}. */
export interface ServiceRoleOptions {
  readonly name: string;
  /** Construct id of the policy. @default `${id}-policy` */
  readonly policyId?: string;
  /** The service principal allowed to assume the role, e.g. `states.amazonaws.com`. */
  readonly assumedBy: string;
  /** Conditions on the trust (confused-deputy protection). */
  readonly trustConditions?: PolicyStatement['Condition'];
}

/**
 * An IAM role assumed by one AWS service, with one inline policy that grows
 * through {@link grant}: resources grant access to themselves (see
 * `EncryptedTable`), so a role never lists a statement its resources imply.
 */
export class ServiceRole implements Grantee {
  readonly role: IamRole;
  readonly policy: IamRolePolicy;
  readonly #statements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, options: ServiceRoleOptions) {
    // Created in the caller's scope, so the Terraform addresses are the caller's ids.
    this.role = new IamRole(scope, id, { name: options.name, assumeRolePolicy: assumeRolePolicy(options.assumedBy, options.trustConditions) });
    this.policy = new IamRolePolicy(scope, options.policyId ?? `${id}-policy`, {
      name: 'least-privilege',
      role: this.role.id,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.#statements) }),
    });
  }

  /**
   * Adds a statement. Key statements for the same key under the same
   * condition merge into one (two tables on one key grant it once), so every
   * statement in the policy is one that something needs.
   */
  grant(statement: PolicyStatement): void {
    const sameKeyUse = this.#statements.find(
      (existing) =>
        statement.Action.every((action) => action.startsWith('kms:')) &&
        existing.Action.every((action) => action.startsWith('kms:')) &&
        JSON.stringify(existing.Resource) === JSON.stringify(statement.Resource) &&
        JSON.stringify(existing.Condition) === JSON.stringify(statement.Condition),
    );
    if (!sameKeyUse) {
      this.#statements.push(statement);
      return;
    }
    const merged = { ...sameKeyUse, Action: [...new Set([...sameKeyUse.Action, ...statement.Action])] };
    this.#statements.splice(this.#statements.indexOf(sameKeyUse), 1, merged);
  }
}
