/** Synthesizes every environment (offline) and renders the IAM inventory. */
import { ENVIRONMENTS, ENVIRONMENT_NAMES } from '../config/environments';
import { iamInventory, inventoryMarkdown, type InventoryRow } from './iam-inventory';
import type { PipelineOptions } from '../stacks/app';
import { synthesizeStacks } from '../stacks/synth-offline';

/** Every environment's inventory, synthesized now (with the project's registry and bundles unless `options` says otherwise). */
export function synthesizeInventoryRows(options: PipelineOptions = {}): Record<string, InventoryRow[]> {
  return Object.fromEntries(ENVIRONMENT_NAMES.map((environment) => [environment, iamInventory(synthesizeStacks(ENVIRONMENTS[environment], options))]));
}

/** docs/least-privilege.md as it should read now. */
export function synthesizeInventory(): string {
  return inventoryMarkdown(synthesizeInventoryRows());
}
