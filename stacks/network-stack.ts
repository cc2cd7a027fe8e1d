import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones';
import { Eip } from '@cdktf/provider-aws/lib/eip';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway';
import { Route } from '@cdktf/provider-aws/lib/route';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { Subnet } from '@cdktf/provider-aws/lib/subnet';
import { Vpc } from '@cdktf/provider-aws/lib/vpc';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { Fn, Token } from 'cdktf';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments';
import type { ResourceNames } from '../config/pipeline';
import { DynamodbGatewayEndpoint } from './constructs/gateway-endpoint';
import { PipelineStack } from './pipeline-stack';

/**
 * Interface endpoints the private Lambdas use when egress is `vpc-endpoints`:
 * only the services they call. The in-VPC functions read their secret
 * (Secrets Manager) and the tables (DynamoDB, a gateway endpoint); none of
 * them calls EventBridge, so it has no endpoint.
 */
const INTERFACE_ENDPOINT_SERVICES = ['secretsmanager'] as const;

/** The filter of the zones data source that keeps Availability Zones and leaves out Local and Wavelength Zones. */
export const AVAILABILITY_ZONES_ONLY = { name: 'opt-in-status', values: ['opt-in-not-required'] } as const;

/** Options of {@link NetworkStack}. */
export interface NetworkStackOptions {
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
}

/**
 * The VPC: private subnets over the configured AZs for the Lambdas and
 * Aurora, a Lambda security group, an Aurora security group that admits 3306
 * from the Lambdas only, and private access to AWS APIs, through VPC endpoints
 * (DynamoDB gateway, Secrets Manager and EventBridge interfaces) or NAT gateways.
 */
export class NetworkStack extends PipelineStack {
  readonly vpc: Vpc;
  readonly privateSubnets: Subnet[];
  readonly lambdaSecurityGroup: SecurityGroup;
  readonly databaseSecurityGroup: SecurityGroup;
  /**
   * The DynamoDB gateway endpoint (egress `vpc-endpoints`): the in-VPC
   * functions' table grants shape its policy. Absent with NAT gateways.
   */
  dynamodbEndpoint: DynamodbGatewayEndpoint | undefined;

  constructor(scope: Construct, id: string, options: NetworkStackOptions) {
    super(scope, id, options.config);
    const { config, names } = options;
    // Availability Zones only: a region's opted-in Local Zones and Wavelength Zones are listed too, and
    // sort first (`us-east-1-atl-2a` < `us-east-1a`), so the first subnets (and Aurora) would land there.
    // Availability Zones always have opt-in status `opt-in-not-required`; Local and Wavelength Zones
    // `opted-in` or `not-opted-in`.
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html (OptInStatus)
    // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html (filter opt-in-status)
    const zones = new DataAwsAvailabilityZones(this, 'zones', {
      state: 'available',
      filter: [{ name: AVAILABILITY_ZONES_ONLY.name, values: [...AVAILABILITY_ZONES_ONLY.values] }],
    });

    this.vpc = new Vpc(this, 'vpc', {
      cidrBlock: config.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: `${names.prefix}-vpc` },
    });

    this.privateSubnets = [];
    const privateRouteTables: RouteTable[] = [];
    for (let index = 0; index < config.azCount; index++) {
      const subnet = new Subnet(this, `private-${index}`, {
        vpcId: this.vpc.id,
        cidrBlock: Fn.cidrsubnet(config.vpcCidr, 4, index),
        availabilityZone: Token.asString(Fn.element(zones.names, index)),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${names.prefix}-private-${index}`, Tier: 'private' },
      });
      const table = new RouteTable(this, `private-routes-${index}`, { vpcId: this.vpc.id, tags: { Name: `${names.prefix}-private-${index}` } });
      new RouteTableAssociation(this, `private-routes-${index}-association`, { subnetId: subnet.id, routeTableId: table.id });
      this.privateSubnets.push(subnet);
      privateRouteTables.push(table);
    }

    this.lambdaSecurityGroup = new SecurityGroup(this, 'lambda-sg', {
      name: `${names.prefix}-lambda`,
      description: 'Pipeline Lambdas: no inbound; outbound to Aurora and AWS APIs only',
      vpcId: this.vpc.id,
      tags: { Name: `${names.prefix}-lambda` },
    });
    this.databaseSecurityGroup = new SecurityGroup(this, 'database-sg', {
      name: `${names.prefix}-aurora`,
      description: 'Aurora read model: MySQL from the pipeline Lambdas only',
      vpcId: this.vpc.id,
      tags: { Name: `${names.prefix}-aurora` },
    });
    new VpcSecurityGroupIngressRule(this, 'database-from-lambda', {
      securityGroupId: this.databaseSecurityGroup.id,
      referencedSecurityGroupId: this.lambdaSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 3306,
      toPort: 3306,
      description: 'MySQL from the pipeline Lambdas',
    });
    new VpcSecurityGroupEgressRule(this, 'lambda-to-database', {
      securityGroupId: this.lambdaSecurityGroup.id,
      referencedSecurityGroupId: this.databaseSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 3306,
      toPort: 3306,
      description: 'MySQL to the Aurora read model',
    });

    if (config.egress === 'vpc-endpoints') {
      this.#endpoints(config, names, privateRouteTables);
    } else {
      this.#natGateways(config, names, zones, privateRouteTables);
    }
  }

  #endpoints(config: EnvironmentConfig, names: ResourceNames, routeTables: RouteTable[]): void {
    const endpointSecurityGroup = new SecurityGroup(this, 'endpoints-sg', {
      name: `${names.prefix}-endpoints`,
      description: 'VPC interface endpoints: HTTPS from the pipeline Lambdas only',
      vpcId: this.vpc.id,
      tags: { Name: `${names.prefix}-endpoints` },
    });
    new VpcSecurityGroupIngressRule(this, 'endpoints-from-lambda', {
      securityGroupId: endpointSecurityGroup.id,
      referencedSecurityGroupId: this.lambdaSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'HTTPS from the pipeline Lambdas',
    });
    new VpcSecurityGroupEgressRule(this, 'lambda-to-endpoints', {
      securityGroupId: this.lambdaSecurityGroup.id,
      referencedSecurityGroupId: endpointSecurityGroup.id,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'HTTPS to the interface endpoints',
    });
    for (const service of INTERFACE_ENDPOINT_SERVICES) {
      new VpcEndpoint(this, `endpoint-${service}`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${config.region}.${service}`,
        vpcEndpointType: 'Interface',
        privateDnsEnabled: true,
        subnetIds: this.privateSubnets.map((subnet) => subnet.id),
        securityGroupIds: [endpointSecurityGroup.id],
        tags: { Name: `${names.prefix}-${service}` },
      });
    }
    this.dynamodbEndpoint = new DynamodbGatewayEndpoint(this, 'endpoint-dynamodb', {
      vpcId: this.vpc.id,
      region: config.region,
      partition: this.partition,
      accountId: this.accountId,
      routeTableIds: routeTables.map((table) => table.id),
      tags: { Name: `${names.prefix}-dynamodb` },
    });
    new VpcSecurityGroupEgressRule(this, 'lambda-to-dynamodb', {
      securityGroupId: this.lambdaSecurityGroup.id,
      prefixListId: this.dynamodbEndpoint.endpoint.prefixListId,
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'HTTPS to DynamoDB through the gateway endpoint',
    });
  }

  #natGateways(config: EnvironmentConfig, names: ResourceNames, zones: DataAwsAvailabilityZones, routeTables: RouteTable[]): void {
    const gateway = new InternetGateway(this, 'internet-gateway', { vpcId: this.vpc.id, tags: { Name: `${names.prefix}-igw` } });
    const publicRoutes = new RouteTable(this, 'public-routes', { vpcId: this.vpc.id, tags: { Name: `${names.prefix}-public` } });
    new Route(this, 'public-default-route', { routeTableId: publicRoutes.id, destinationCidrBlock: '0.0.0.0/0', gatewayId: gateway.id });
    for (let index = 0; index < config.azCount; index++) {
      const subnet = new Subnet(this, `public-${index}`, {
        vpcId: this.vpc.id,
        cidrBlock: Fn.cidrsubnet(config.vpcCidr, 4, 8 + index),
        availabilityZone: Token.asString(Fn.element(zones.names, index)),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${names.prefix}-public-${index}`, Tier: 'public' },
      });
      new RouteTableAssociation(this, `public-routes-${index}-association`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
      const address = new Eip(this, `nat-address-${index}`, { domain: 'vpc', tags: { Name: `${names.prefix}-nat-${index}` } });
      const nat = new NatGateway(this, `nat-${index}`, {
        allocationId: address.id,
        subnetId: subnet.id,
        tags: { Name: `${names.prefix}-nat-${index}` },
        dependsOn: [gateway],
      });
      new Route(this, `private-default-route-${index}`, {
        routeTableId: (routeTables[index] as RouteTable).id,
        destinationCidrBlock: '0.0.0.0/0',
        natGatewayId: nat.id,
      });
    }
    new VpcSecurityGroupEgressRule(this, 'lambda-to-aws-apis', {
      securityGroupId: this.lambdaSecurityGroup.id,
      cidrIpv4: '0.0.0.0/0',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      description: 'HTTPS to AWS APIs through the NAT gateways',
    });
  }
}
