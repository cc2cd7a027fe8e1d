/**
 * Synthesizes one environment offline into a temporary folder and returns
 * each stack's `cdk.tf.json` (for the CLIs that read the synth: the IAM
 * inventory, preflight, the capacity model). Nothing here restates the
 * stacks: it runs them.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import type { EnvironmentConfig } from '../config/environments';
import { buildPipeline, type PipelineOptions } from './app';

/** A synthesized stack, as Terraform JSON. */
export interface StackJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { value: unknown }>;
}

/**
 * Stack name → its `cdk.tf.json`, for one environment (local state: nothing
 * is deployed), with the project's registry and bundles unless `options` says otherwise.
 */
export function synthesizeStacks(config: EnvironmentConfig, options: PipelineOptions = {}): Record<string, StackJson> {
  const saved = process.env.TF_LOCAL_STATE;
  process.env.TF_LOCAL_STATE = '1';
  const outdir = mkdtempSync(path.join(tmpdir(), 'synth-'));
  try {
    const app = new App({ outdir });
    buildPipeline(app, config, options);
    app.synth();
    return Object.fromEntries(
      readdirSync(path.join(outdir, 'stacks')).map((stack) => [
        stack,
        JSON.parse(readFileSync(path.join(outdir, 'stacks', stack, 'cdk.tf.json'), 'utf8')) as StackJson,
      ]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
    if (saved === undefined) delete process.env.TF_LOCAL_STATE;
    else process.env.TF_LOCAL_STATE = saved;
  }
}

/** Every resource of a type across the stacks. */
export function resourcesOf(stacks: Readonly<Record<string, StackJson>>, type: string): Record<string, unknown>[] {
  return Object.values(stacks).flatMap((stack) => Object.values(stack.resource?.[type] ?? {}));
}
