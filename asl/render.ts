import { readFileSync } from 'node:fs';
import { DetailType, EVENT_SOURCE, ORDERS_TABLE_KEY } from '../config/pipeline';

/** The workflow definition template, `${camelCase}` placeholders included. */
export const WORKFLOW_TEMPLATE_PATH = new URL('./order-pipeline.asl.json', import.meta.url);

/** Values that differ between deployments (cloud ARNs, or the local runtime's names). */
export interface WorkflowResources {
  readonly eventBusName: string;
  readonly ordersTableName: string;
  readonly validateRequestFunctionArn: string;
  readonly itemsSalesReportFunctionArn: string;
  readonly monthlySalesByItemFunctionArn: string;
}

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

/** Renders the order workflow for one set of resources; constants come from the shared config. */
export function renderWorkflow(resources: WorkflowResources, template: string = readFileSync(WORKFLOW_TEMPLATE_PATH, 'utf8')): string {
  return renderAsl(template, {
    ...resources,
    eventSource: EVENT_SOURCE,
    commandDetailType: DetailType.command,
    queryDetailType: DetailType.query,
    commandResponseDetailType: DetailType.commandResponse,
    queryResponseDetailType: DetailType.queryResponse,
    ordersTableKey: ORDERS_TABLE_KEY,
  });
}
