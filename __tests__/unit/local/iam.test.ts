import { describe, expect, it } from '@jest/globals';
import { AccessDeniedError } from '../../../local/errors';
import { IamGate, type PolicySet } from '../../../local/iam';

const account = '000000000000';
const role = `arn:aws:iam::${account}:role/fn-role`;
const table = `arn:aws:dynamodb:us-east-1:${account}:table/orders`;
const key = `arn:aws:kms:us-east-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const viaDynamo = { 'kms:ViaService': 'dynamodb.us-east-1.amazonaws.com' };

function policies(
  keyPolicyStatements: unknown[] = [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
): PolicySet {
  return {
    identity: new Map([
      [
        role,
        [
          {
            name: 'least-privilege',
            document: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: [table] },
                { Effect: 'Allow', Action: ['kms:Decrypt'], Resource: [key], Condition: { StringEquals: viaDynamo } },
              ],
            },
          },
        ],
      ],
    ]),
    trust: new Map([
      [role, { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] }],
    ]),
    resource: new Map([[key, { Version: '2012-10-17', Statement: keyPolicyStatements }]]),
    prefixed: [],
  };
}

describe('IamGate', () => {
  it('allows what the identity policy allows, and refuses the rest with AccessDeniedException and what was missing', async () => {
    // Prepare
    const gate = new IamGate({ account, mode: 'enforce', policies: policies() });

    // Act
    const allowed = gate.authorize({ principal: { kind: 'role', arn: role }, action: 'dynamodb:PutItem', resource: table });
    const refused = gate.authorize({ principal: { kind: 'role', arn: role }, action: 'dynamodb:DeleteItem', resource: table });

    // Assess
    await expect(allowed).resolves.toBeUndefined();
    await expect(refused).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(refused).rejects.toThrow(`User: ${role} is not authorized to perform: dynamodb:DeleteItem on resource: ${table}`);
    expect(gate.denials()).toEqual([
      expect.objectContaining({ principal: role, action: 'dynamodb:DeleteItem', resource: table, missing: expect.stringContaining('no statement') }),
    ]);
  });

  it('lets a role use a key only through the service its condition names, and only while the key policy delegates to IAM', async () => {
    // Prepare
    const delegating = new IamGate({ account, mode: 'enforce', policies: policies() });
    const closed = new IamGate({ account, mode: 'enforce', policies: policies([]) });
    const request = { principal: { kind: 'role', arn: role } as const, action: 'kms:Decrypt', resource: key };

    // Act and assess
    await expect(delegating.authorize({ ...request, context: viaDynamo })).resolves.toBeUndefined();
    await expect(delegating.authorize({ ...request, context: { 'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com' } })).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    await expect(closed.authorize({ ...request, context: viaDynamo })).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('checks a service assuming a role against the trust policy', async () => {
    const gate = new IamGate({ account, mode: 'enforce', policies: policies() });
    await expect(
      gate.authorize({ principal: { kind: 'service', service: 'lambda.amazonaws.com' }, action: 'sts:AssumeRole', resource: role }),
    ).resolves.toBeUndefined();
    await expect(
      gate.authorize({ principal: { kind: 'service', service: 'states.amazonaws.com' }, action: 'sts:AssumeRole', resource: role }),
    ).rejects.toBeInstanceOf(AccessDeniedError);
  });

  it('only records and logs in warn mode, and evaluates each distinct request once', async () => {
    // Prepare
    const logged: string[] = [];
    const gate = new IamGate({ account, mode: 'warn', policies: policies(), log: (message) => logged.push(message) });
    const request = { principal: { kind: 'role', arn: role } as const, action: 'dynamodb:DeleteItem', resource: table };

    // Act
    await gate.authorize(request);
    await gate.authorize(request);

    // Assess
    expect(gate.denials()).toHaveLength(2);
    expect(logged).toEqual([expect.stringContaining('IAM (warn)'), expect.stringContaining('IAM (warn)')]);
    expect(gate.evaluations).toBe(1);
  });

  it('lets the account caller (the CLI, the tests) through unchecked', async () => {
    const gate = new IamGate({ account, mode: 'enforce', policies: policies() });
    await expect(gate.authorize({ principal: { kind: 'account' }, action: 'dynamodb:DeleteTable', resource: table })).resolves.toBeUndefined();
    expect(gate.evaluations).toBe(0);
  });
});
