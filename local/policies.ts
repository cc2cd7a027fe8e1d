/**
 * The synthesized IAM of the stacks, read from the Terraform model: each
 * role's trust and inline policies, key policies, queue policies and the
 * CloudWatch Logs resource policies.
 */
import { parsePolicy, type PolicyDocument, type SynthesizedPolicy } from './iam';
import type { LocalService } from './service';
import type { TerraformModel, TerraformResource } from './terraform';

declare module './service' {
  interface Parts {
    /** Who a principal of a denial is: a client identity, a role of the pipeline and what runs as it, or an AWS service. */
    principals: (principal: string) => PrincipalDescription;
  }
}

/**
 * A principal as the console tells denials apart: a client identity is
 * refused what its policy does not allow by design; a role of the pipeline
 * (or a service acting under a resource policy) refused is a grant the
 * stacks lack.
 */
export type PrincipalDescription =
  | {
      readonly kind: 'client';
      /** The access key id that signs as it (`producer`, `consumer`). */
      readonly accessKeyId: string;
      /** The managed policy it acts under, and what the stacks say it is for. */
      readonly policy: string;
      readonly description?: string;
    }
  | {
      readonly kind: 'role';
      readonly role: string;
      /** The resources that act as the role (`lambda function order-pipeline-local-project-orders`). */
      readonly usedBy: readonly string[];
    }
  | { readonly kind: 'service'; readonly service: string };

/**
 * The IAM service: roles, their policies, the client identities' managed
 * policies and the key policies are what it gives the gate (each other
 * service gives its own resources' policies; the runtime builds the gate
 * from them all before any service binds); this binds the client
 * identities and the gate's pages.
 */
export const iamService: LocalService = {
  name: 'iam',
  serves: {
    aws_kms_key: {
      becomes: 'a key whose policy the IAM gate consults',
      attributes: ({ context: { region, account } }, _resource, id) => ({ id, key_id: id, arn: `arn:aws:kms:${region}:${account}:key/${id}` }),
    },
    aws_iam_role: {
      becomes: 'a principal (trust policy)',
      attributes: (model, resource, id) => {
        const name = model.string(resource, 'name');
        return {
          id: name,
          name,
          arn: `arn:aws:iam::${model.context.account}:role/${name}`,
          unique_id: `AROA${id.replace(/-/g, '').slice(0, 17).toUpperCase()}`,
        };
      },
    },
    aws_iam_role_policy: { becomes: 'the identity policy of its role' },
    aws_iam_policy: { becomes: 'a client identity: calls signed with access key id producer or consumer act under it' },
  },
  policies: iamPolicies,
  bind({ model, gate, policies, sessions, page, status, summary, provide }) {
    const clients = clientIdentities(model);
    for (const [accessKey, client] of clients) sessions.byAccessKey.set(accessKey, client.arn);
    provide('principals', principalDirectory(model, clients));
    page('/_local/denials', () => gate.denials());
    status('iam', () => ({ mode: gate.mode, evaluations: gate.evaluations, denials: gate.denials().length }));
    summary('IAM', `${{ enforce: 'enforced', warn: 'warn only', off: 'OFF' }[gate.mode]}: ${policies.length} synthesized policies (GET /_local/denials)`);
  },
};

/** The policies IAM holds: each role's trust and inline policies, the client identities' managed policies, and the key policies. */
function iamPolicies(model: TerraformModel): SynthesizedPolicy[] {
  const policies: SynthesizedPolicy[] = [];
  for (const role of model.resources('aws_iam_role')) {
    policies.push({
      address: role.address,
      kind: 'trust',
      target: model.attributes(role).arn as string,
      document: parsePolicy(role.address, model.field(role, 'assume_role_policy')),
    });
  }
  for (const policy of model.resources('aws_iam_role_policy')) {
    const roleName = model.string(policy, 'role');
    const role = model.findBy('aws_iam_role', 'name', roleName);
    if (!role) throw new Error(`${policy.address}: role ${roleName} is not defined in the stacks`);
    policies.push({
      address: policy.address,
      kind: 'identity',
      target: model.attributes(role).arn as string,
      document: parsePolicy(policy.address, model.field(policy, 'policy')),
    });
  }
  // Managed policies for client teams: each is the identity of a local client (see clientIdentities).
  for (const policy of model.resources('aws_iam_policy')) {
    policies.push({
      address: policy.address,
      kind: 'identity',
      target: clientArn(model, policy),
      document: parsePolicy(policy.address, model.field(policy, 'policy')),
    });
  }
  for (const key of model.resources('aws_kms_key')) {
    const text = model.field(key, 'policy');
    // A key created without a policy gets AWS's default: the account delegates to IAM.
    const document = text === undefined ? defaultKeyPolicy(model.context.account) : parsePolicy(key.address, text);
    policies.push({ address: key.address, kind: 'resource', target: model.attributes(key).arn as string, document });
  }
  // VPC endpoint policies (no service of their own: networking has no local behaviour):
  // the calls of a function whose subnets route to the endpoint must pass them too.
  for (const endpoint of model.resources('aws_vpc_endpoint')) {
    const text = model.field(endpoint, 'policy');
    if (text !== undefined)
      policies.push({
        address: endpoint.address,
        kind: 'endpoint',
        target: model.attributes(endpoint).id as string,
        document: parsePolicy(endpoint.address, text),
      });
  }
  return policies;
}

/**
 * Which VPC endpoint each role's DynamoDB calls go through: a function whose
 * subnets' route tables have a route to a DynamoDB gateway endpoint reaches
 * DynamoDB through it (https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html),
 * so its calls must pass that endpoint's policy. By role ARN (each function has a role of its own).
 */
export function dynamodbEndpointsByRole(model: TerraformModel): Map<string, string> {
  const byRouteTable = new Map<string, string>();
  for (const endpoint of model.resources('aws_vpc_endpoint')) {
    if (model.field(endpoint, 'vpc_endpoint_type') !== 'Gateway' || !String(model.field(endpoint, 'service_name')).endsWith('.dynamodb')) continue;
    for (const table of (model.field(endpoint, 'route_table_ids') as string[] | undefined) ?? [])
      byRouteTable.set(table, model.attributes(endpoint).id as string);
  }
  const bySubnet = new Map<string, string>();
  for (const association of model.resources('aws_route_table_association')) {
    const endpoint = byRouteTable.get(model.string(association, 'route_table_id'));
    if (endpoint !== undefined) bySubnet.set(model.string(association, 'subnet_id'), endpoint);
  }
  const byRole = new Map<string, string>();
  for (const fn of model.resources('aws_lambda_function')) {
    const subnets = (model.field(fn, 'vpc_config', 'subnet_ids') as string[] | undefined) ?? [];
    const endpoint = subnets.map((subnet) => bySubnet.get(subnet)).find((found) => found !== undefined);
    if (endpoint !== undefined) byRole.set(model.string(fn, 'role'), endpoint);
  }
  return byRole;
}

/** The local identity that acts under a managed policy: a user named after the policy. */
function clientArn(model: TerraformModel, policy: TerraformResource): string {
  return `arn:aws:iam::${model.context.account}:user/${model.string(policy, 'name')}`;
}

/** A client identity: the principal ARN calls signed with its access key id act as, and its policy. */
interface ClientIdentity {
  readonly arn: string;
  readonly policy: string;
  readonly description?: string;
}

/**
 * The client identities of the local endpoint: a call signed with the access
 * key id `producer` acts under the synthesized producer policy
 * (`<prefix>-producer`), `consumer` under the consumer policy. By access key id.
 */
function clientIdentities(model: TerraformModel): Map<string, ClientIdentity> {
  const identities = new Map<string, ClientIdentity>();
  for (const policy of model.resources('aws_iam_policy')) {
    const name = model.string(policy, 'name');
    const role = /-([a-z]+)$/.exec(name)?.[1];
    const description = model.field(policy, 'description');
    if (role) identities.set(role, { arn: clientArn(model, policy), policy: name, ...(typeof description === 'string' ? { description } : {}) });
  }
  return identities;
}

/**
 * Describes the principal of a denial from what the stacks define: a client
 * identity's ARN, a role's ARN with the resources that act as it (those whose
 * `role` or `role_arn` is that role), or an AWS service.
 */
function principalDirectory(model: TerraformModel, clients: ReadonlyMap<string, ClientIdentity>): (principal: string) => PrincipalDescription {
  const byArn = new Map<string, PrincipalDescription>();
  for (const [accessKeyId, client] of clients)
    byArn.set(client.arn, { kind: 'client', accessKeyId, policy: client.policy, ...(client.description ? { description: client.description } : {}) });
  for (const role of model.resources('aws_iam_role')) {
    const arn = model.attributes(role).arn as string;
    const usedBy = model
      .resources()
      .filter((resource) => ['role', 'role_arn'].some((field) => resource.body[field] !== undefined && resolvedField(model, resource, field) === arn))
      .map((resource) => `${resource.type.replace(/^aws_/, '').replace(/_/g, ' ')} ${resourceLabel(model, resource)}`);
    byArn.set(arn, { kind: 'role', role: model.string(role, 'name'), usedBy });
  }
  return (principal) =>
    byArn.get(principal) ??
    (principal.startsWith('arn:') ? { kind: 'role', role: principal.split('/').pop() ?? principal, usedBy: [] } : { kind: 'service', service: principal });
}

/** A field of a resource, resolved; undefined when it cannot be (no match, no label). */
function resolvedField(model: TerraformModel, resource: TerraformResource, field: string): unknown {
  try {
    return model.field(resource, field);
  } catch {
    return undefined;
  }
}

/** The name a resource is known by in the account, else its Terraform name. */
function resourceLabel(model: TerraformModel, resource: TerraformResource): string {
  for (const field of ['function_name', 'name', 'target_id']) {
    const value = resolvedField(model, resource, field);
    if (typeof value === 'string') return value;
  }
  return resource.name;
}

function defaultKeyPolicy(account: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  };
}
