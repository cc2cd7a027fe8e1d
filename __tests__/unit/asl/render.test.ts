import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import { WORKFLOW_TEMPLATE_PATH, placeholdersOf, renderAsl, renderWorkflow } from '../../../asl/render';

const resources = {
  eventBusName: 'bus',
  ordersTableName: 'orders',
  validateRequestFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:validate',
  itemsSalesReportFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:report',
  monthlySalesByItemFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:monthly',
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
      'itemsSalesReportFunctionArn',
      'monthlySalesByItemFunctionArn',
      'ordersTableKey',
      'ordersTableName',
      'queryDetailType',
      'queryResponseDetailType',
      'validateRequestFunctionArn',
    ]);
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
