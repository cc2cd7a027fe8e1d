/** Synthesizes every environment (offline, into temporary folders) and renders the IAM inventory. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { ENVIRONMENTS, ENVIRONMENT_NAMES } from '../config/environments';
import { buildPipeline } from './app';
import { iamInventory, inventoryMarkdown, type InventoryRow } from './iam-inventory';

/** Every environment's inventory, synthesized now. */
export function synthesizeInventoryRows(): Record<string, InventoryRow[]> {
  const saved = process.env.TF_LOCAL_STATE;
  process.env.TF_LOCAL_STATE = '1';
  try {
    return Object.fromEntries(
      ENVIRONMENT_NAMES.map((environment) => {
        const outdir = mkdtempSync(path.join(tmpdir(), 'iam-inventory-'));
        try {
          const app = new App({ outdir });
          buildPipeline(app, ENVIRONMENTS[environment]);
          app.synth();
          const stacks = Object.fromEntries(readdirSync(path.join(outdir, 'stacks')).map((stack) => [stack, JSON.parse(readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as object]));
          return [environment, iamInventory(stacks)];
        } finally {
          rmSync(outdir, { recursive: true, force: true });
        }
      }),
    );
  } finally {
    if (saved === undefined) delete process.env.TF_LOCAL_STATE;
    else process.env.TF_LOCAL_STATE = saved;
  }
}

/** docs/least-privilege.md as it should read now. */
export function synthesizeInventory(): string {
  return inventoryMarkdown(synthesizeInventoryRows());
}
