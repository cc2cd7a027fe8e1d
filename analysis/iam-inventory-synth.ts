/** Synthesizes every environment (offline) and renders the IAM inventory. */
import { ENVIRONMENTS, ENVIRONMENT_NAMES } from '../config/environments';
import { iamInventory, inventoryMarkdown, type InventoryRow } from './iam-inventory';
import { synthesizeStacks } from '../stacks/synth-offline';

/** Every environment's inventory, synthesized now. */
export function synthesizeInventoryRows(): Record<string, InventoryRow[]> {
  return Object.fromEntries(ENVIRONMENT_NAMES.map((environment) => [environment, iamInventory(synthesizeStacks(ENVIRONMENTS[environment]))]));
}

/** docs/least-privilege.md as it should read now. */
export function synthesizeInventory(): string {
  return inventoryMarkdown(synthesizeInventoryRows());
}
