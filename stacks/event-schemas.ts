/**
 * The published contract: a JSON Schema of every event the pipeline accepts
 * and emits, generated from the command and query registries and the field
 * limits (never written a second time). `docs/schemas/` holds them (draft
 * 2020-12, `npm run docs` writes them); the EventBridge schema registry of
 * every deployment carries the same documents as `JSONSchemaDraft4`, the
 * registry's JSON Schema type
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/v1-registries-name-registryname-schemas-name-schemaname.html):
 * the schemas use only keywords both drafts read alike (checked by
 * {@link DRAFT4_KEYWORDS}), so only `$schema` differs.
 */
import { DetailType, EVENT_SOURCE } from '../config/contract';
import { REFUSAL_CODES } from '../handlers/domain/errors';
import { FieldSchema } from '../handlers/domain/limits';
import { REGISTRY, type Registry } from '../handlers/registry';

type Schema = Record<string, unknown>;

/** Keywords the schemas may use: those draft-04 and draft 2020-12 define the same way. */
const DRAFT4_KEYWORDS = new Set([
  '$schema',
  'title',
  'description',
  'type',
  'properties',
  'required',
  'items',
  'enum',
  'oneOf',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'minItems',
  'maxItems',
  'additionalProperties',
]);

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';

const nullable = (type: string) => ({ type: [type, 'null'] });
const refusal = {
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string', enum: [...REFUSAL_CODES] }, message: { type: 'string', maxLength: 8_192 } },
};

/** An EventBridge event of one detail type, from the pipeline's source. */
function event(detailType: string, title: string, description: string, detail: Schema): Schema {
  return {
    $schema: DRAFT_2020_12,
    title,
    description,
    type: 'object',
    required: ['source', 'detail-type', 'detail'],
    properties: { source: { type: 'string', enum: [EVENT_SOURCE] }, 'detail-type': { type: 'string', enum: [detailType] }, detail },
  };
}

/** Every schema, by detail type, for the commands and queries of `registry`. */
export function eventSchemas(registry: Registry = REGISTRY): Record<string, Schema> {
  const commands = registry.commands.map((command) => ({
    title: command.name,
    description: command.summary,
    type: 'object',
    required: ['command', ...command.detailSchema.required],
    properties: { command: { type: 'string', enum: [command.name] }, orderId: FieldSchema.orderId, ...command.detailSchema.properties },
  }));
  const queries = registry.queries.map((query) => ({
    title: query.name,
    description: query.summary,
    type: 'object',
    required: ['query', ...query.schema.detail.required],
    properties: {
      query: { type: 'string', enum: [query.name] },
      ...query.schema.detail.properties,
      ...(query.paging ? { pageToken: { type: 'string' } } : {}),
    },
  }));
  const answers = registry.queries.map((query) => ({
    title: `${query.name}, answered`,
    type: 'object',
    required: ['query', 'queryMessageId', 'queryStatus', 'queryResult'],
    properties: {
      query: { type: 'string', enum: [query.name] },
      queryMessageId: { type: 'string' },
      queryStatus: { type: 'integer', enum: [200] },
      queryResult: { type: 'array', items: query.schema.row },
      ...query.schema.answer,
      ...(query.paging ? { nextPageToken: { type: 'string' } } : {}),
    },
  }));
  const echoes = Object.assign({}, ...registry.queries.map((query) => query.schema.answer)) as Schema;
  return {
    [DetailType.command]: event(DetailType.command, 'orderCommand', "A command: one of the registry's (handlers/commands/registry.ts).", { oneOf: commands }),
    [DetailType.query]: event(DetailType.query, 'orderQuery', "A query: one of the registry's (handlers/queries/registry.ts).", { oneOf: queries }),
    [DetailType.commandResponse]: event(
      DetailType.commandResponse,
      'orderCommandResponse',
      "A command's answer: its success status, or orderRejected with the error.",
      {
        oneOf: [
          {
            title: 'accepted',
            type: 'object',
            required: ['orderid', 'commandStatus', 'commandMessageId'],
            properties: {
              orderid: { type: 'string' },
              commandStatus: { type: 'string', enum: registry.commands.map((command) => command.acceptedStatus) },
              commandMessageId: { type: 'string' },
            },
          },
          {
            title: 'rejected',
            type: 'object',
            required: ['orderid', 'commandStatus', 'commandMessageId', 'error'],
            properties: {
              orderid: nullable('string'),
              commandStatus: { type: 'string', enum: ['orderRejected'] },
              commandMessageId: nullable('string'),
              error: refusal,
            },
          },
        ],
      },
    ),
    [DetailType.queryResponse]: event(DetailType.queryResponse, 'orderQueryResponse', "A query's answer: 200 with its rows, or 400/404/503 with the error.", {
      oneOf: [
        ...answers,
        {
          title: 'refused',
          type: 'object',
          required: ['query', 'queryMessageId', 'queryStatus', 'error'],
          properties: {
            query: nullable('string'),
            queryMessageId: nullable('string'),
            queryStatus: { type: 'integer', enum: [400, 404, 503] },
            error: refusal,
            ...Object.fromEntries(Object.keys(echoes).map((name) => [name, nullable('string')])),
          },
        },
      ],
    }),
  };
}

/** The keywords a schema uses that are not in {@link DRAFT4_KEYWORDS} (property names excepted). */
export function foreignKeywords(schema: unknown): string[] {
  if (Array.isArray(schema)) return schema.flatMap(foreignKeywords);
  if (typeof schema !== 'object' || schema === null) return [];
  return Object.entries(schema).flatMap(([key, value]) => {
    if (key === 'properties') return Object.values(value as Schema).flatMap(foreignKeywords);
    if (key === 'enum' || key === 'required') return [];
    return [...(DRAFT4_KEYWORDS.has(key) ? [] : [key]), ...foreignKeywords(value)];
  });
}

/** The same schema as the EventBridge schema registry takes it (`JSONSchemaDraft4`). */
export function asDraft4(schema: Schema): Schema {
  return { ...schema, $schema: DRAFT_04 };
}
