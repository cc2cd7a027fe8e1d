import { readFileSync } from 'node:fs';
import { DetailType, EVENT_SOURCE, ORDERS_TABLE_KEY } from '../config/pipeline';
import { QUERIES, type QueryName } from '../handlers/queries/registry';

/** The workflow definition template, `${camelCase}` placeholders included. */
export const WORKFLOW_TEMPLATE_PATH = new URL('./order-pipeline.asl.json', import.meta.url);

/** Values that differ between deployments (cloud ARNs, or the local runtime's names). */
interface WorkflowResources {
  readonly eventBusName: string;
  readonly ordersTableName: string;
  readonly validateRequestFunctionArn: string;
  /** Each query's function, by query name. */
  readonly queryFunctionArns: Readonly<Record<QueryName, string>>;
}

/** The Choice state that routes queries, and the Task state every query's state is made from. */
const ROUTE_QUERY = 'RouteQuery';
const QUERY_TASK = 'QueryTask';
const QUERY_FUNCTION_ARN = '${queryFunctionArn}';

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The placeholders a template uses, sorted. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] as string))].sort();
}

/**
 * Replaces every `${name}` with its JSON-escaped value. Throws when a
 * placeholder has no value or a value has no placeholder, so a renamed
 * placeholder cannot ship half-rendered.
 */
export function renderAsl(template: string, values: Readonly<Record<string, string>>): string {
  const used = placeholdersOf(template);
  const missing = used.filter((name) => !(name in values));
  const unused = Object.keys(values).filter((name) => !used.includes(name));
  if (missing.length > 0) throw new Error(`ASL placeholders without a value: ${missing.join(', ')}`);
  if (unused.length > 0) throw new Error(`values without an ASL placeholder: ${unused.join(', ')}`);
  return template.replace(PLACEHOLDER, (_, name: string) => JSON.stringify(values[name]).slice(1, -1));
}

/** `itemsSalesReport` → `ItemsSalesReport`: a query's Task state name. */
export function queryStateName(query: string): string {
  return query.charAt(0).toUpperCase() + query.slice(1);
}

/**
 * Generates the query routing from the registry: one choice per query in
 * `RouteQuery`, each to a Task state made from `QueryTask` (its Retry and
 * Catch included) whose function placeholder is `${<query>FunctionArn}`.
 */
export function expandQueryRouting(template: string, queries: readonly { readonly name: string }[] = QUERIES): string {
  const definition = JSON.parse(template) as { States: Record<string, Record<string, unknown>> };
  const route = definition.States[ROUTE_QUERY];
  const task = definition.States[QUERY_TASK];
  if (!route || !task) throw new Error(`the workflow template needs a ${ROUTE_QUERY} Choice state and a ${QUERY_TASK} Task state`);
  const taskText = JSON.stringify(task);
  if (!taskText.includes(QUERY_FUNCTION_ARN)) throw new Error(`${QUERY_TASK} must name its function as ${QUERY_FUNCTION_ARN}`);
  delete definition.States[QUERY_TASK];
  route.Choices = queries.map((query) => ({
    And: [
      { Variable: '$.detail.query', IsPresent: true },
      { Variable: '$.detail.query', IsString: true },
      { Variable: '$.detail.query', StringEquals: query.name },
    ],
    Next: queryStateName(query.name),
  }));
  for (const query of queries) {
    const state = JSON.parse(taskText.replace(QUERY_FUNCTION_ARN, `\${${query.name}FunctionArn}`)) as Record<string, unknown>;
    state.Comment = `The ${query.name} query (handlers/queries/registry.ts).`;
    definition.States[queryStateName(query.name)] = state;
  }
  return JSON.stringify(definition, null, 2);
}

/** Renders the order workflow for one set of resources; constants come from the shared config, query routing from the registry. */
export function renderWorkflow(resources: WorkflowResources, template: string = readFileSync(WORKFLOW_TEMPLATE_PATH, 'utf8')): string {
  const { queryFunctionArns, ...rest } = resources;
  return renderAsl(expandQueryRouting(template), {
    ...rest,
    ...Object.fromEntries(Object.entries(queryFunctionArns).map(([name, arn]) => [`${name}FunctionArn`, arn])),
    eventSource: EVENT_SOURCE,
    commandDetailType: DetailType.command,
    queryDetailType: DetailType.query,
    commandResponseDetailType: DetailType.commandResponse,
    queryResponseDetailType: DetailType.queryResponse,
    ordersTableKey: ORDERS_TABLE_KEY,
  });
}
