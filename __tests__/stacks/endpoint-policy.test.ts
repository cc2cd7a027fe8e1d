/**
 * The DynamoDB gateway endpoint's policy, proven with the IAM evaluator the
 * local runtime enforces: every DynamoDB call a function in the VPC may make
 * (what its synthesized role allows on the tables) passes the policy of the
 * endpoint its subnets route to; a principal whose own policy allows any
 * table is still refused, through the endpoint, another table of the
 * account, the pipeline's table in another account, an action no function
 * was granted, and the same call from another account's credentials.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS } from '../../config/environments';
import { resourceNames } from '../../config/pipeline';
import { IamGate, type IamRequest, type PolicyDocument, type PolicySet } from '../../local/iam';
import { policySet, statements } from '../../local/iam';
import { dynamodbEndpointsByRole } from '../../local/policies';
import { LOCAL_TYPES } from '../../local/services';
import { synthesizedPolicies } from '../../local/synthesized-policies';
import { readSynthesizedStacks, TerraformModel } from '../../local/terraform';
import { synthesize } from '../helpers/synth';

const ACCOUNT = '123456789012';
const OTHER_ACCOUNT = '999999999999';
const REGION = 'us-east-1';
const names = resourceNames('dev');
const table = (name: string, account = ACCOUNT) => `arn:aws:dynamodb:${REGION}:${account}:table/${name}`;
/** A role whose own policy allows every DynamoDB action anywhere: only the endpoint can refuse it. */
const BROAD_ROLE = `arn:aws:iam::${ACCOUNT}:role/broad`;

let policies: PolicySet;
let endpoints: Map<string, string>;
let gate: IamGate;

beforeAll(() => {
  const app = synthesize(ENVIRONMENTS.dev);
  const model = new TerraformModel(
    readSynthesizedStacks(app.outdir),
    { region: REGION, account: ACCOUNT, endpoint: 'http://127.0.0.1:4566', database: { host: '127.0.0.1', port: 3306, name: 'orders' } },
    LOCAL_TYPES,
  );
  const base = policySet(synthesizedPolicies(model));
  const broad: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:Scan',
          'dynamodb:DescribeTable',
          'dynamodb:Query',
        ],
        Resource: '*',
      },
    ],
  };
  policies = { ...base, identity: new Map([...base.identity, [BROAD_ROLE, [{ name: 'broad', document: broad }]]]) };
  endpoints = dynamodbEndpointsByRole(model);
  gate = new IamGate({ account: ACCOUNT, mode: 'enforce', policies });
});

/** The DynamoDB (action, table) pairs a role's synthesized policy allows. */
function tableCalls(roleArn: string): { action: string; resource: string }[] {
  return (policies.identity.get(roleArn) ?? []).flatMap((policy) =>
    (statements(policy.document) as { Action: string | string[]; Resource: string | string[] }[]).flatMap((statement) => {
      const actions = [statement.Action].flat().filter((action) => action.startsWith('dynamodb:') && action !== 'dynamodb:ListStreams');
      const resources = [statement.Resource].flat().filter((resource) => /:table\/[^/]+$/.test(resource));
      return actions.flatMap((action) => resources.map((resource) => ({ action, resource })));
    }),
  );
}

const through = (endpoint: string | undefined, request: Omit<IamRequest, 'principal'> & { principal?: IamRequest['principal'] }): IamRequest => ({
  principal: { kind: 'role', arn: BROAD_ROLE },
  ...request,
  ...(endpoint !== undefined ? { viaEndpoint: endpoint } : {}),
});

describe('the DynamoDB gateway endpoint', () => {
  it('is the route of the functions in the VPC that use DynamoDB, and only of those', () => {
    const routed = [...endpoints.keys()].map((role) => role.split('/').pop());
    expect(routed.sort()).toEqual(expect.arrayContaining([`${names.function('projectOrders')}-role`, `${names.function('rebuildReadModel')}-role`]));
    expect(new Set(endpoints.values()).size).toBe(1);
    expect(routed).not.toContain(`${names.function('validateRequest')}-role`);
  });

  it("lets through every DynamoDB call each in-VPC function's role allows on a table", async () => {
    // Prepare
    const calls = [...endpoints].flatMap(([role, endpoint]) => tableCalls(role).map((call) => ({ role, endpoint, ...call })));
    expect(calls.map((call) => `${call.role.split('/').pop()} ${call.action} ${call.resource.split('/').pop()}`).sort()).toEqual(
      [
        ...['DeleteItem', 'GetItem', 'PutItem', 'UpdateItem'].map(
          (action) => `${names.function('projectOrders')}-role dynamodb:${action} ${names.idempotencyTable}`,
        ),
        ...['DescribeTable', 'Scan'].map((action) => `${names.function('rebuildReadModel')}-role dynamodb:${action} ${names.ordersTable}`),
      ].sort(),
    );

    // Act
    const refused = [];
    for (const call of calls) {
      const request: IamRequest = {
        principal: { kind: 'role', arn: call.role },
        action: call.action,
        resource: call.resource.replace('${data.aws_partition.partition.partition}', 'aws'),
        viaEndpoint: call.endpoint,
      };
      if (!(await gate.allows(request))) refused.push(`${call.action} ${call.resource}`);
    }

    // Assess
    expect(refused).toEqual([]);
  });

  it('refuses another table of the account, the same table in another account, an action nobody was granted, and credentials of another account', async () => {
    // Prepare
    const endpoint = [...endpoints.values()][0] as string;
    const asked = {
      idempotencyRead: { action: 'dynamodb:GetItem', resource: table(names.idempotencyTable) },
      otherTable: { action: 'dynamodb:GetItem', resource: table('someone-elses-table') },
      otherAccount: { action: 'dynamodb:PutItem', resource: table(names.idempotencyTable, OTHER_ACCOUNT) },
      ungranted: { action: 'dynamodb:Query', resource: table(names.ordersTable) },
      ungrantedOnTable: { action: 'dynamodb:DeleteItem', resource: table(names.ordersTable) },
      foreignCredentials: { action: 'dynamodb:GetItem', resource: table(names.idempotencyTable), context: { 'aws:PrincipalAccount': OTHER_ACCOUNT } },
    };

    // Act
    const viaEndpoint = Object.fromEntries(
      await Promise.all(
        Object.entries(asked).map(async ([name, request]): Promise<[string, boolean]> => [name, await gate.allows(through(endpoint, request))]),
      ),
    );
    const direct = Object.fromEntries(
      await Promise.all(
        Object.entries(asked).map(async ([name, request]): Promise<[string, boolean]> => [name, await gate.allows(through(undefined, request))]),
      ),
    );

    // Assess: the endpoint refuses all but the granted call; outside it the broad role's own policy would allow them.
    expect(viaEndpoint).toEqual({
      idempotencyRead: true,
      otherTable: false,
      otherAccount: false,
      ungranted: false,
      ungrantedOnTable: false,
      foreignCredentials: false,
    });
    expect(direct).toEqual({ idempotencyRead: true, otherTable: true, otherAccount: true, ungranted: true, ungrantedOnTable: true, foreignCredentials: true });
  });

  it('names the denial: the local runtime records it with the endpoint as the reason', async () => {
    const endpoint = [...endpoints.values()][0] as string;
    await expect(gate.authorize(through(endpoint, { action: 'dynamodb:GetItem', resource: table('someone-elses-table') }))).rejects.toThrow(
      `and the policy of VPC endpoint ${endpoint} allows it`,
    );
    expect(gate.denials().at(-1)).toMatchObject({ action: 'dynamodb:GetItem', context: { 'aws:SourceVpce': endpoint } });
  });
});
