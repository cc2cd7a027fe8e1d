/**
 * The local services, in binding order: a service may use what the ones
 * before it provide (the state machine uses the functions, the tables and
 * the bus; the targets use the state machine and the log groups). Adding a
 * service is its file and one line here.
 */
import { consoleService } from './console';
import { dynamodbService } from './dynamodb';
import { eventBusService } from './event-bus';
import { lambdaService } from './functions';
import { logsService } from './logs';
import { readModelService } from './mysql';
import { iamService } from './policies';
import { schemaTriggerService } from './schema-trigger';
import { secretsService } from './secrets';
import type { LocalService, ServedType } from './service';
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
  lambdaService,
  // Start hooks run in this order too: the schema exists before the bus resumes deliveries and the mapping polls.
  schemaTriggerService,
  eventBusService,
  stateMachineService,
  targetsService,
  streamMappingService,
  consoleService,
];

/** The Terraform resource types the local runtime serves, from the services' declarations. */
export const SERVED_TYPES: Readonly<Record<string, ServedType>> = servedTypes(SERVICES);

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
