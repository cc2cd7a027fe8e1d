import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { SCHEMAS_DIRECTORY } from '../../bench/generated-docs';

/** The published schemas (docs/schemas), compiled by a real validator (ajv, draft 2020-12), by detail type. */
export function publishedValidators() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const detailType of ['orderCommand', 'orderQuery', 'orderCommandResponse', 'orderQueryResponse']) {
    validators.set(
      detailType,
      ajv.compile(JSON.parse(readFileSync(new URL(`../../${SCHEMAS_DIRECTORY}/${detailType}.schema.json`, import.meta.url), 'utf8')) as object),
    );
  }
  /** Why an event breaks its detail type's schema, or `undefined` when it holds. */
  return (event: { source?: unknown; 'detail-type'?: unknown; detail?: unknown }): string | undefined => {
    const validate = validators.get(String(event['detail-type']));
    if (!validate) return `no published schema for detail type ${JSON.stringify(event['detail-type'])}`;
    return validate(event) ? undefined : ajv.errorsText(validate.errors);
  };
}
