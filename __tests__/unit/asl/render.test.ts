import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { WORKFLOW_TEMPLATE_PATH, expandQueryRouting, placeholdersOf, queryStateName, renderAsl, renderWorkflow } from '../../../asl/render';
import { QUERIES } from '../../../handlers/queries/registry';

const resources = {
  eventBusName: 'bus',
  ordersTableName: 'orders',
  validateRequestFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:validate',
  queryFunctionArns: Object.fromEntries(QUERIES.map((query) => [query.name, `arn:aws:lambda:us-east-1:111122223333:function:${query.functionName}`])) as Record<(typeof QUERIES)[number]['name'], string>,
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
      'ordersTableKey',
      'ordersTableName',
      'queryDetailType',
      'queryFunctionArn',
      'queryResponseDetailType',
      'validateRequestFunctionArn',
    ]);
  });

  it('routes every query of the registry to its own Task state, made from the one template with its shared Retry', () => {
    // Act
    const definition = JSON.parse(renderWorkflow(resources)) as { States: Record<string, { Choices?: { Next: string; And: { StringEquals?: string }[] }[]; Retry?: unknown; Parameters?: { FunctionName?: string } }> };

    // Assess
    const routes = definition.States.RouteQuery?.Choices ?? [];
    expect(routes.map((choice) => [choice.And.find((rule) => rule.StringEquals)?.StringEquals, choice.Next])).toEqual(QUERIES.map((query) => [query.name, queryStateName(query.name)]));
    const retries = QUERIES.map((query) => JSON.stringify(definition.States[queryStateName(query.name)]?.Retry));
    expect(new Set(retries).size).toBe(1);
    expect(QUERIES.map((query) => definition.States[queryStateName(query.name)]?.Parameters?.FunctionName)).toEqual(QUERIES.map((query) => resources.queryFunctionArns[query.name]));
    expect(definition.States.QueryTask).toBeUndefined();
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
    const machine = new StateMachine(JSON.parse(renderWorkflow(resources)), { validationOptions: { checkArn: true, checkPaths: true } });
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
            ItemsSalesReport: () => ({ Payload: { body: { query: 'itemsSalesReport', queryMessageId: 'q-1', queryStatus: 200, queryResult: ['x'.repeat(300_000)] } } }),
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
        Entries: [expect.objectContaining({ DetailType: 'orderQueryResponse', Detail: { query: 'itemsSalesReport', queryMessageId: 'q-1', queryStatus: 503, error: { code: 'ServiceUnavailable', message: 'the answer could not be published; asking again is safe' } } })],
      }),
    ]);
  });

  it('answers a command whose response could not be put on the bus with a small refusal, never silence', async () => {
    // Prepare: validation refuses the command, and the bus refuses the answer.
    await import('../../../local/polyfills');
    const { StateMachine } = await import('aws-local-stepfunctions');
    const machine = new StateMachine(JSON.parse(renderWorkflow(resources)), { validationOptions: { checkArn: true, checkPaths: true } });
    const published: unknown[] = [];

    // Act
    const { result } = machine.run(
      { id: 'c-1', 'detail-type': 'orderCommand', source: 'orderPipeline', detail: { command: 'x'.repeat(250_000) } },
      {
        overrides: {
          taskResourceLocalHandlers: {
            ValidateCommand: () => ({ Payload: { valid: false, response: { orderid: null, commandStatus: 'orderRejected', commandMessageId: 'c-1', error: { code: 'UnsupportedCommand', message: 'x'.repeat(300_000) } } } }),
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
        Entries: [expect.objectContaining({ DetailType: 'orderCommandResponse', Detail: { orderid: null, commandStatus: 'orderRejected', commandMessageId: 'c-1', error: { code: 'ServiceUnavailable', message: 'the answer could not be published; sending the command again is safe' } } })],
      }),
    ]);
  });
});
