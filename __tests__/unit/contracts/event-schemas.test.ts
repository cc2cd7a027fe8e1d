import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import Ajv from 'ajv';
import { validateCommand } from '../../../handlers/commands/validate-command';
import { asDraft4, eventSchemas, foreignKeywords } from '../../../stacks/event-schemas';
import { publishedValidators } from '../../helpers/schemas';
import { resources, synthesize } from '../../helpers/synth';

const validate = publishedValidators();
const events = new URL('../../../events/', import.meta.url);
/** A sample (a PutEvents entry) as the event EventBridge delivers. */
const asEvent = (entry: { Source: string; DetailType: string; Detail: unknown }) => ({
  source: entry.Source,
  'detail-type': entry.DetailType,
  detail: typeof entry.Detail === 'string' ? (JSON.parse(entry.Detail) as unknown) : entry.Detail,
});

describe('the published event schemas', () => {
  it.each(readdirSync(events).filter((name) => name.endsWith('.json')))('accept the sample %s', (name) => {
    expect(
      validate(asEvent(JSON.parse(readFileSync(new URL(name, events), 'utf8')) as { Source: string; DetailType: string; Detail: unknown })),
    ).toBeUndefined();
  });

  it('refuse what validation refuses, for each command and query, naming the field', () => {
    const cases = [
      { 'detail-type': 'orderCommand', detail: { command: 'cancelOrder', orderId: '6102', reason: 'r'.repeat(257) } },
      { 'detail-type': 'orderCommand', detail: { command: 'createOrder', orderId: '6102', items: [{ itemid: 'z', quantity: 0 }] } },
      { 'detail-type': 'orderCommand', detail: { command: 'shipOrder', orderId: '6102' } },
      { 'detail-type': 'orderQuery', detail: { query: 'orderDetails', orderId: 'has space' } },
      { 'detail-type': 'orderQuery', detail: { query: 'monthlySalesByItem' } },
    ];
    for (const event of cases) {
      expect(validate({ source: 'orderPipeline', ...event })).toEqual(expect.any(String));
      if (event['detail-type'] === 'orderCommand') expect(validateCommand({ id: 'x', time: '2022-10-14T08:30:00Z', detail: event.detail }).valid).toBe(false);
    }
  });

  it('describe every answer validation can give', () => {
    for (const detail of [
      { command: 'createOrder', orderId: '6102', items: [{ itemid: 'z3333', quantity: 6 }] },
      { command: 'cancelOrder', orderId: '6102' },
      { command: 'nope' },
    ]) {
      const result = validateCommand({ id: 'c-1', time: '2022-10-14T08:30:00Z', detail });
      const responses = result.valid ? Object.values(result.responses) : [result.response];
      for (const response of responses) expect(validate({ source: 'orderPipeline', 'detail-type': 'orderCommandResponse', detail: response })).toBeUndefined();
    }
  });

  it('are what docs/schemas holds, use only keywords draft-04 reads alike, and the registry of every stack carries them', () => {
    const schemas = eventSchemas();
    for (const [detailType, schema] of Object.entries(schemas)) {
      expect(JSON.parse(readFileSync(new URL(`../../../docs/schemas/${detailType}.schema.json`, import.meta.url), 'utf8'))).toEqual(schema);
      expect(foreignKeywords(schema)).toEqual([]);
      // The draft-04 form compiles under a draft-04-aware validator setting too.
      expect(() => new Ajv({ strict: false }).compile({ ...asDraft4(schema), $schema: undefined })).not.toThrow();
    }
    const workflow = synthesize().json.workflow;
    const registered = resources(workflow, 'aws_schemas_schema');
    const byTitle = (rows: [unknown, { title: string }][]) => rows.sort((a, b) => a[1].title.localeCompare(b[1].title));
    expect(byTitle(registered.map((entry): [unknown, { title: string }] => [entry.type, JSON.parse(String(entry.content)) as { title: string }]))).toEqual(
      byTitle(Object.values(schemas).map((schema) => ['JSONSchemaDraft4', asDraft4(schema) as { title: string }])),
    );
    expect(foreignKeywords({ type: 'object', properties: { a: { const: 1 } } })).toEqual(['const']);
  });
});
