import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { Lazy } from 'cdktf';
import type { Construct } from 'constructs';
import { policyDocument, type PolicyStatement } from './iam';

/** What a table grant tells the network path of an in-VPC grantee: this table, these actions. */
export interface DynamodbPath {
  /** Lets `actions` on the table named `tableName` through. */
  allowTableAccess(tableName: string, actions: readonly string[]): void;
}

/** Options of {@link DynamodbGatewayEndpoint}. */
export interface DynamodbGatewayEndpointOptions {
  readonly vpcId: string;
  readonly region: string;
  readonly partition: string;
  readonly accountId: string;
  readonly routeTableIds: string[];
  readonly tags: Record<string, string>;
}

/**
 * The DynamoDB gateway endpoint of the VPC, with a policy that lets through
 * only what the in-VPC functions were granted: the actions each table grant
 * named, on that table of this account, for principals of this account. A
 * function in the VPC therefore cannot reach another table, or another
 * account's (stolen credentials included), whatever its role would allow.
 * The policy grows through {@link allowTableAccess}, which table grants call
 * for grantees that reach DynamoDB through this endpoint (`EncryptedTable.grant`),
 * so nobody keeps a second list of tables or actions.
 * https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-access.html (endpoint policies)
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/vpc-endpoints-dynamodb.html
 */
export class DynamodbGatewayEndpoint implements DynamodbPath {
  readonly endpoint: VpcEndpoint;
  readonly #options: DynamodbGatewayEndpointOptions;
  /** Table name → actions, in the order they were first granted. */
  readonly #allowed = new Map<string, Set<string>>();

  constructor(scope: Construct, id: string, options: DynamodbGatewayEndpointOptions) {
    this.#options = options;
    // Created in the caller's scope, so the Terraform address stays `aws_vpc_endpoint.<id>`.
    this.endpoint = new VpcEndpoint(scope, id, {
      vpcId: options.vpcId,
      serviceName: `com.amazonaws.${options.region}.dynamodb`,
      vpcEndpointType: 'Gateway',
      routeTableIds: options.routeTableIds,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.statements()) }),
      tags: options.tags,
    });
  }

  allowTableAccess(tableName: string, actions: readonly string[]): void {
    const allowed = this.#allowed.get(tableName) ?? new Set<string>();
    for (const action of actions) allowed.add(action);
    this.#allowed.set(tableName, allowed);
  }

  /** The policy's statements: one per table, its granted actions, principals of this account only. */
  statements(): PolicyStatement[] {
    const { partition, region, accountId } = this.#options;
    return [...this.#allowed].map(([table, actions]) => ({
      Sid: `Table${table.replace(/[^A-Za-z0-9]/g, '')}`,
      Principal: '*',
      Action: [...actions],
      Resource: [`arn:${partition}:dynamodb:${region}:${accountId}:table/${table}`],
      Condition: { StringEquals: { 'aws:PrincipalAccount': accountId } },
    }));
  }
}
