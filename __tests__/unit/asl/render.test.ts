import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  WORKFLOW_TEMPLATE_PATH,
  checkRefusalCodes,
  expandCommandRouting,
  expandQueryRouting,
  placeholdersOf,
  queryStateName,
  renderAsl,
  renderWorkflow,
} from '../../../asl/render';
import { validateCommand } from '../../../handlers/commands/validate-command';
import { COMMANDS } from '../../../handlers/commands/registry';
import { QUERIES } from '../../../handlers/queries/registry';

const resources = {
  eventBusName: 'bus',
  ordersTableName: 'orders',
  validateRequestFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:validate',
  queryFunctionArns: Object.fromEntries(QUERIES.map((query) => [query.name, `arn:aws:lambda:us-east-1:111122223333:function:${query.functionName}`])) as Record<
    (typeof QUERIES)[number]['name'],
    string
  >,
};

describe('renderWorkflow', () => {
  it('supplies every placeholder of the template and leaves none', () => {
    const rendered = renderWorkflow(resources);
    expect(placeholdersOf(rendered)).toEqual([]);
    expect(placeholdersOf(readFileSync(WORKFLOW_TEMPLATE_PATH, 'utf8'))).toEqual([
      'commandDetailType',
      'commandResponseDetailType',
      'eventBusName',
      'eventSource',
      'queryDetailType',
      'queryFunctionArn',
      'queryResponseDetailType',
      'validateRequestFunctionArn',
    ]);
  });

  it('routes every query of the registry to its own Task state, made from the one template with its shared Retry', () => {
    // Act
    const definition = JSON.parse(renderWorkflow(resources)) as {
      States: Record<string, { Choices?: { Next: string; And: { StringEquals?: string }[] }[]; Retry?: unknown; Parameters?: { FunctionName?: string } }>;
    };

    // Assess
    const routes = definition.States.RouteQuery?.Choices ?? [];
    expect(routes.map((choice) => [choice.And.find((rule) => rule.StringEquals)?.StringEquals, choice.Next])).toEqual(
      QUERIES.map((query) => [query.name, queryStateName(query.name)]),
    );
    const retries = QUERIES.map((query) => JSON.stringify(definition.States[queryStateName(query.name)]?.Retry));
    expect(new Set(retries).size).toBe(1);
    expect(QUERIES.map((query) => definition.States[queryStateName(query.name)]?.Parameters?.FunctionName)).toEqual(
      QUERIES.map((query) => resources.queryFunctionArns[query.name]),
    );
    expect(definition.States.QueryTask).toBeUndefined();
  });

  it("routes every command of the registry to its own conditional write, with the module's expressions and nothing else", () => {
    type State = {
      Type: string;
      Resource?: string;
      Choices?: { Variable: string; StringEquals: string; Next: string }[];
      Parameters?: Record<string, unknown>;
      Catch?: { Next: string }[];
      Retry?: unknown;
    };
    const definition = JSON.parse(renderWorkflow(resources)) as { States: Record<string, State> };
    expect(definition.States.RouteCommand?.Choices).toEqual(
      COMMANDS.map((command) => ({ Variable: '$.command', StringEquals: command.name, Next: queryStateName(command.name) })),
    );
    const create = definition.States.CreateOrder as State;
    expect(create.Resource).toBe('arn:aws:states:::dynamodb:putItem');
    expect(create.Parameters).toEqual({
      TableName: 'orders',
      'Item.$': '$.values',
      ConditionExpression: 'attribute_not_exists(#key)',
      ExpressionAttributeNames: { '#key': 'orderid' },
    });
    const cancel = definition.States.CancelOrder as State;
    expect(cancel.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(cancel.Parameters).toMatchObject({
      Key: { orderid: { 'S.$': '$.orderId' } },
      ConditionExpression: 'attribute_exists(#key) AND (attribute_not_exists(#status) OR #status = :created)',
      'ExpressionAttributeValues.$': '$.values',
    });
    expect(cancel.Catch?.map((c) => c.Next)).toEqual(['CancelOrderReadBack', 'CommandNotStored']);
    expect(JSON.stringify(cancel.Retry)).toBe(JSON.stringify(create.Retry));
    expect(definition.States.CommandWrite).toBeUndefined();
    expect(definition.States.CommandReadBack).toBeUndefined();
  });

  it('refuses an error code the one list lacks, and a command state that collides with the template', () => {
    expect(() => checkRefusalCodes('{"error": {"code": "Throttled", "message": "x"}}')).toThrow(
      'error codes missing from REFUSAL_CODES (handlers/domain/errors.ts): Throttled',
    );
    expect(() => checkRefusalCodes(readFileSync(WORKFLOW_TEMPLATE_PATH, 'utf8'))).not.toThrow();
    const template = readFileSync(WORKFLOW_TEMPLATE_PATH, 'utf8');
    const clash = COMMANDS.map((command) => (command.name === 'cancelOrder' ? { ...command, name: 'routeCommand' } : command));
    expect(() => expandCommandRouting(template, clash)).toThrow('state RouteCommand of a command collides with a state of the template');
  });

  it('refuses a template without the query template state', () => {
    expect(() => expandQueryRouting('{"States": {"RouteQuery": {"Type": "Choice"}}}')).toThrow('needs a RouteQuery Choice state and a QueryTask Task state');
  });

  it('renders a definition asl-validator accepts', () => {
    const result = aslValidator(JSON.parse(renderWorkflow(resources)), { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
  });
});

describe('renderAsl', () => {
  it('refuses a missing value and an unused value', () => {
    expect(() => renderAsl('{"a": "${one}", "b": "${two}"}', { one: '1' })).toThrow('ASL placeholders without a value: two');
    expect(() => renderAsl('{"a": "${one}"}', { one: '1', three: '3' })).toThrow('values without an ASL placeholder: three');
  });

  it('escapes values as JSON', () => {
    expect(JSON.parse(renderAsl('{"a": "${one}"}', { one: 'say "hi"\\' }))).toEqual({ a: 'say "hi"\\' });
  });
});

describe('the rendered workflow, run', () => {
  it('answers a query whose response could not be put on the bus with a small 503 that names it, never silence', async () => {
    // Prepare
    await import('../../../local/polyfills');
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(JSON.parse(renderWorkflow(resources)) as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const published: unknown[] = [];
    const failing = () => {
      throw Object.assign(new Error('entry too large'), { name: 'EventBridge.FailedEntry' });
    };

    // Act
    const { result } = machine.run(
      { id: 'q-1', 'detail-type': 'orderQuery', source: 'orderPipeline', detail: { query: 'itemsSalesReport' } },
      {
        overrides: {
          taskResourceLocalHandlers: {
            ItemsSalesReport: () => ({
              Payload: { body: { query: 'itemsSalesReport', queryMessageId: 'q-1', queryStatus: 200, queryResult: ['x'.repeat(300_000)] } },
            }),
            PublishQueryResponse: failing,
            PublishQueryFailure: (input: unknown) => {
              published.push(input);
              return {};
            },
          },
          retryIntervalOverrides: { PublishQueryResponse: 0, PublishQueryFailure: 0 },
        },
      },
    );
    await result;

    // Assess
    expect(published).toEqual([
      expect.objectContaining({
        Entries: [
          expect.objectContaining({
            DetailType: 'orderQueryResponse',
            Detail: {
              query: 'itemsSalesReport',
              queryMessageId: 'q-1',
              queryStatus: 503,
              error: { code: 'ServiceUnavailable', message: 'the answer could not be published; asking again is safe' },
            },
          }),
        ],
      }),
    ]);
  });

  it('answers a command whose response could not be put on the bus with a small refusal, never silence', async () => {
    // Prepare: validation refuses the command, and the bus refuses the answer.
    await import('../../../local/polyfills');
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(JSON.parse(renderWorkflow(resources)) as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const published: unknown[] = [];

    // Act
    const { result } = machine.run(
      { id: 'c-1', 'detail-type': 'orderCommand', source: 'orderPipeline', detail: { command: 'x'.repeat(250_000) } },
      {
        overrides: {
          taskResourceLocalHandlers: {
            ValidateCommand: () => ({
              Payload: {
                valid: false,
                response: {
                  orderid: null,
                  commandStatus: 'orderRejected',
                  commandMessageId: 'c-1',
                  error: { code: 'UnsupportedCommand', message: 'x'.repeat(300_000) },
                },
              },
            }),
            PublishCommandResponse: () => {
              throw Object.assign(new Error('entry too large'), { name: 'EventBridge.FailedEntry' });
            },
            PublishCommandFailure: (input: unknown) => {
              published.push(input);
              return {};
            },
          },
          retryIntervalOverrides: { PublishCommandResponse: 0, PublishCommandFailure: 0 },
        },
      },
    );
    await result;

    // Assess
    expect(published).toEqual([
      expect.objectContaining({
        Entries: [
          expect.objectContaining({
            DetailType: 'orderCommandResponse',
            Detail: {
              orderid: null,
              commandStatus: 'orderRejected',
              commandMessageId: 'c-1',
              error: { code: 'ServiceUnavailable', message: 'the answer could not be published; sending the command again is safe' },
            },
          }),
        ],
      }),
    ]);
  });
});

describe('the rendered command paths, run', () => {
  /** Runs one command through the rendered workflow with the table's answers given, and returns what was published. */
  async function run(detail: Record<string, unknown>, table: { write: 'ok' | 'conditionFailed'; stored?: Record<string, { S: string }> }) {
    await import('../../../local/polyfills');
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(JSON.parse(renderWorkflow(resources)) as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    const published: unknown[] = [];
    const writes: unknown[] = [];
    const event = JSON.parse(JSON.stringify({ id: 'c-1', time: '2022-10-14T08:30:00Z', 'detail-type': 'orderCommand', source: 'orderPipeline', detail })) as {
      id: string;
    };
    const write = (input: unknown) => {
      writes.push(input);
      if (table.write === 'conditionFailed')
        throw Object.assign(new Error('The conditional request failed'), { name: 'DynamoDB.ConditionalCheckFailedException' });
      return {};
    };
    const readBack = () => (table.stored ? { Item: table.stored } : {});
    const { result } = machine.run(event, {
      overrides: {
        taskResourceLocalHandlers: {
          ValidateCommand: (input: unknown) => ({ Payload: validateCommand((input as { Payload: never }).Payload) }),
          CreateOrder: write,
          CancelOrder: write,
          CreateOrderReadBack: readBack,
          CancelOrderReadBack: readBack,
          PublishCommandResponse: (input: unknown) => {
            published.push((input as { Entries: { Detail: unknown }[] }).Entries[0]?.Detail);
            return {};
          },
        } as never,
      },
    });
    await result;
    return { published, writes };
  }
  const cancel = { command: 'cancelOrder', orderId: '6102' };
  const create = { command: 'createOrder', orderId: '6102', items: [{ itemid: 'z3333', quantity: 6 }] };
  const createdHash = (validateCommand({ id: 'x', time: '2022-10-14T08:30:00Z', detail: create }) as unknown as { compare: { contentHash: string } }).compare
    .contentHash;

  it.each([
    ['a cancel that wrote', cancel, { write: 'ok' as const }, { commandStatus: 'orderCancelled' }],
    ['a cancel of an unknown order', cancel, { write: 'conditionFailed' as const }, { commandStatus: 'orderRejected', error: { code: 'OrderNotFound' } }],
    [
      'a cancel of a cancelled order',
      cancel,
      { write: 'conditionFailed' as const, stored: { orderid: { S: '6102' }, status: { S: 'cancelled' } } },
      { commandStatus: 'orderCancelled' },
    ],
    [
      'a cancel that lost to a create',
      cancel,
      { write: 'conditionFailed' as const, stored: { orderid: { S: '6102' }, status: { S: 'created' } } },
      { commandStatus: 'orderRejected', error: { code: 'ServiceUnavailable' } },
    ],
    ['a create that wrote', create, { write: 'ok' as const }, { commandStatus: 'orderCreated' }],
    [
      'a re-delivered create (even of a cancelled order)',
      create,
      { write: 'conditionFailed' as const, stored: { orderid: { S: '6102' }, contentHash: { S: createdHash } } },
      { commandStatus: 'orderCreated' },
    ],
    [
      'a create with other content',
      create,
      { write: 'conditionFailed' as const, stored: { orderid: { S: '6102' }, contentHash: { S: 'f'.repeat(64) } } },
      { commandStatus: 'orderRejected', error: { code: 'OrderConflict' } },
    ],
  ] as [
    string,
    Record<string, unknown>,
    { write: 'ok' | 'conditionFailed'; stored?: Record<string, { S: string }> },
    { commandStatus: string; error?: { code: string } },
  ][])('answers %s', async (_, detail, table, answer) => {
    const { published, writes } = await run(detail, table);
    expect(writes).toHaveLength(1);
    expect(published).toEqual([
      expect.objectContaining({
        orderid: '6102',
        commandMessageId: 'c-1',
        ...answer,
        ...(answer.error ? { error: expect.objectContaining(answer.error) } : {}),
      }),
    ]);
  });
});
