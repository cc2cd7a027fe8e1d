/**
 * The local services, in binding order: a service may use what the ones
 * before it provide, and the integrations they registered (the state machine
 * uses the functions', the tables' and the bus's; the targets use the state
 * machine's and the log groups'). Adding a service is its file and one line
 * here; the resource types no service serves are declared below, each with
 * why it needs no local behaviour.
 */
import { consoleService } from './console';
import { dynamodbService } from './dynamodb';
import { eventBusService } from './event-bus';
import { lambdaService } from './functions';
import { logsService } from './logs';
import { readModelService } from './mysql';
import { iamService } from './policies';
import { readModelCatchUpService } from './read-model-catch-up';
import { schemaTriggerService } from './schema-trigger';
import { secretsService } from './secrets';
import type { LocalService, ServedType } from './service';
import { snsService } from './sns';
import { sqsService } from './sqs';
import { stateMachineService } from './state-machine';
import { streamMappingService } from './stream-mapping';
import { targetsService } from './targets';

export const SERVICES: readonly LocalService[] = [
  iamService,
  dynamodbService,
  secretsService,
  readModelService,
  sqsService,
  logsService,
  snsService,
  lambdaService,
  // Start hooks run in this order too: the schema exists, and a read model made empty beside a table that
  // holds orders is rebuilt, before the bus resumes deliveries and the mapping polls.
  schemaTriggerService,
  readModelCatchUpService,
  eventBusService,
  stateMachineService,
  targetsService,
  streamMappingService,
  consoleService,
];

/**
 * Resource types with no local behaviour, each with the reason. They are read
 * (their references resolve to placeholder ids) but nothing runs for them.
 */
export const NO_LOCAL_BEHAVIOUR: Readonly<Record<string, string>> = {
  aws_vpc: 'networking: everything runs on loopback',
  aws_subnet: 'networking: everything runs on loopback',
  aws_route_table: 'networking: everything runs on loopback',
  aws_route_table_association: 'networking: everything runs on loopback',
  aws_route: 'networking: everything runs on loopback',
  aws_internet_gateway: 'networking: everything runs on loopback',
  aws_nat_gateway: 'networking: everything runs on loopback',
  aws_eip: 'networking: everything runs on loopback',
  aws_security_group: 'networking: everything runs on loopback',
  aws_vpc_security_group_ingress_rule: 'networking: everything runs on loopback',
  aws_vpc_security_group_egress_rule: 'networking: everything runs on loopback',
  aws_vpc_endpoint:
    "networking: the SDKs reach the local endpoint directly; a DynamoDB gateway endpoint's policy is enforced on the calls of the functions whose subnets route to it (policies.ts)",
  aws_db_subnet_group: 'the database is DB_URL',
  aws_rds_cluster_parameter_group: 'the database is DB_URL',
  aws_rds_cluster_instance: 'the database is DB_URL',
  aws_kms_alias: 'nothing calls the key by its alias',
  aws_cloudwatch_event_archive: 'no replay locally',
  aws_cloudwatch_metric_alarm: 'no CloudWatch metrics locally',
  aws_cloudwatch_dashboard: 'no CloudWatch metrics locally',
  aws_schemas_registry: 'documentation for clients: the same schemas are in docs/schemas, and the suite validates every event against them',
  aws_schemas_schema: 'documentation for clients: the same schemas are in docs/schemas, and the suite validates every event against them',
};

/** The Terraform resource types the local runtime serves, from the services' declarations. */
export const SERVED_TYPES: Readonly<Record<string, ServedType>> = servedTypes(SERVICES);

/** Every type the runtime knows: what the services serve, and what has no local behaviour (read, and its references resolved, but nothing runs). */
export const LOCAL_TYPES: Readonly<Record<string, ServedType>> = {
  ...Object.fromEntries(Object.entries(NO_LOCAL_BEHAVIOUR).map(([type, reason]) => [type, { becomes: `nothing locally: ${reason}` }])),
  ...SERVED_TYPES,
};

/** The types each service serves, merged; a type two services claim is refused, naming both. */
export function servedTypes(services: readonly LocalService[]): Record<string, ServedType> {
  const served: Record<string, ServedType> = {};
  const by = new Map<string, string>();
  for (const service of services) {
    for (const [type, declaration] of Object.entries(service.serves)) {
      if (by.has(type)) throw new Error(`resource type ${type} is served by both ${by.get(type)} and ${service.name}`);
      by.set(type, service.name);
      served[type] = declaration;
    }
  }
  return served;
}
