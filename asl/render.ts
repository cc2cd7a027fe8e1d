import { readFileSync } from 'node:fs';
import { DetailType, EVENT_SOURCE, ORDERS_TABLE_KEY } from '../config/pipeline';
import type { CommandAnswer, CommandDefinition, StoredOrderTest } from '../handlers/commands/command-definition';
import { COMMANDS } from '../handlers/commands/registry';
import { REFUSAL_CODES } from '../handlers/domain/errors';
import { QUERIES } from '../handlers/queries/registry';
import { REGISTRY, type Registry } from '../handlers/registry';

/** The workflow definition template, `${camelCase}` placeholders included. */
export const WORKFLOW_TEMPLATE_PATH = new URL('./order-pipeline.asl.json', import.meta.url);

/** Values that differ between deployments (cloud ARNs, or the local runtime's names). */
interface WorkflowResources {
  readonly eventBusName: string;
  readonly ordersTableName: string;
  readonly validateRequestFunctionArn: string;
  /** Each query's function, by query name. */
  readonly queryFunctionArns: Readonly<Record<string, string>>;
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

/** The Choice state that routes commands, and the Task states every command's write and read-back are made from. */
const ROUTE_COMMAND = 'RouteCommand';
const COMMAND_WRITE = 'CommandWrite';
const COMMAND_READ_BACK = 'CommandReadBack';

type State = Record<string, unknown>;

/** A test of the read-back, as Choice rule conditions on `$.existing.Item`. */
function storedOrderConditions(test: StoredOrderTest): State[] {
  // `Not IsPresent` rather than `IsPresent: false`: the same in AWS, and
  // aws-local-stepfunctions 3.0.0 (the local runtime) never matches `IsPresent: false`.
  if ('absent' in test) return [{ Not: { Variable: '$.existing.Item', IsPresent: true } }];
  const variable = `$.existing.Item.${test.attribute}.S`;
  const present = { Variable: variable, IsPresent: true };
  return 'equals' in test
    ? [present, { Variable: variable, StringEquals: test.equals }]
    : [present, { Variable: variable, StringEqualsPath: `$.compare.${test.equalsCommand}` }];
}

/**
 * Generates the command routing from the registry: one choice per command in
 * `RouteCommand`, each to the command's conditional write (made from
 * `CommandWrite`: its Retry and Catch), its read-back when the condition
 * failed (from `CommandReadBack`), the Choice that applies its rules to what
 * was read, and one Pass state per answer picking the response the
 * validation function prepared.
 */
export function expandCommandRouting(template: string, commands: readonly CommandDefinition[] = COMMANDS): string {
  const definition = JSON.parse(template) as { States: Record<string, State> };
  const route = definition.States[ROUTE_COMMAND];
  const write = definition.States[COMMAND_WRITE];
  const readBack = definition.States[COMMAND_READ_BACK];
  if (!route || !write || !readBack)
    throw new Error(`the workflow template needs a ${ROUTE_COMMAND} Choice state and ${COMMAND_WRITE} and ${COMMAND_READ_BACK} Task states`);
  delete definition.States[COMMAND_WRITE];
  delete definition.States[COMMAND_READ_BACK];
  const add = (name: string, state: State) => {
    if (name in definition.States) throw new Error(`state ${name} of a command collides with a state of the template`);
    definition.States[name] = state;
  };
  const table = { TableName: '${ordersTableName}' };
  const key = { Key: { '${ordersTableKey}': { 'S.$': '$.orderId' } } };
  route.Choices = commands.map((command) => ({ Variable: '$.command', StringEquals: command.name, Next: queryStateName(command.name) }));
  for (const command of commands) {
    const prefix = queryStateName(command.name);
    const answerState = (answer: CommandAnswer) => `${prefix}${queryStateName(answer)}`;
    const { write: writeSpec, whenConditionFails: fails } = command;
    const parameters =
      writeSpec.kind === 'put'
        ? { ...table, 'Item.$': '$.values', ConditionExpression: writeSpec.condition, ExpressionAttributeNames: writeSpec.names }
        : {
            ...table,
            ...key,
            UpdateExpression: writeSpec.update,
            ConditionExpression: writeSpec.condition,
            ExpressionAttributeNames: writeSpec.names,
            'ExpressionAttributeValues.$': '$.values',
          };
    const writeState = JSON.parse(JSON.stringify(write).replaceAll(`"${COMMAND_READ_BACK}"`, JSON.stringify(`${prefix}ReadBack`))) as State;
    add(prefix, {
      ...writeState,
      Comment: `The ${command.name} command's conditional write (handlers/commands/registry.ts).`,
      Resource: `arn:aws:states:::dynamodb:${writeSpec.kind === 'put' ? 'putItem' : 'updateItem'}`,
      Parameters: parameters,
      ResultPath: null,
      Next: answerState('accepted'),
    });
    const read = ['${ordersTableKey}', ...fails.read];
    add(`${prefix}ReadBack`, {
      ...readBack,
      Comment: `The ${command.name} condition failed: what the stored order says decides the answer.`,
      Parameters: {
        ...table,
        ...key,
        ConsistentRead: true,
        ProjectionExpression: read.map((_, index) => `#r${index}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries(read.map((name, index) => [`#r${index}`, name])),
      },
      Next: `${prefix}Outcome`,
    });
    add(`${prefix}Outcome`, {
      Type: 'Choice',
      Choices: fails.rules.map((rule) => {
        const conditions = rule.when.flatMap(storedOrderConditions);
        return { ...(conditions.length === 1 ? conditions[0] : { And: conditions }), Next: answerState(rule.answer) };
      }),
      Default: answerState(fails.otherwise),
    });
    for (const answer of new Set<CommandAnswer>(['accepted', ...fails.rules.map((rule) => rule.answer), fails.otherwise])) {
      add(answerState(answer), { Type: 'Pass', Parameters: { 'response.$': `$.responses.${answer}` }, Next: 'PublishCommandResponse' });
    }
  }
  return JSON.stringify(definition, null, 2);
}

/** Every `error.code` the template writes is one of {@link REFUSAL_CODES}. */
export function checkRefusalCodes(template: string): void {
  const unknown = [...template.matchAll(/"code"\s*:\s*"([^"]*)"/g)]
    .map((match) => match[1] as string)
    .filter((code) => !(REFUSAL_CODES as readonly string[]).includes(code));
  if (unknown.length > 0)
    throw new Error(`the workflow writes error codes missing from REFUSAL_CODES (handlers/domain/errors.ts): ${[...new Set(unknown)].join(', ')}`);
}

/**
 * Renders the order workflow for one set of resources; constants come from
 * the shared config, routing from the command and query registries (every
 * query of `registry` needs its function in `resources`).
 */
export function renderWorkflow(
  resources: WorkflowResources,
  registry: Registry = REGISTRY,
  template: string = readFileSync(WORKFLOW_TEMPLATE_PATH, 'utf8'),
): string {
  const { queryFunctionArns, ...rest } = resources;
  checkRefusalCodes(template);
  return renderAsl(expandCommandRouting(expandQueryRouting(template, registry.queries), registry.commands), {
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
