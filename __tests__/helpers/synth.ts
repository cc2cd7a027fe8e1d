import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { ENVIRONMENTS, type EnvironmentConfig } from '../../config/environments';
import { buildPipeline, type PipelineStacks } from '../../stacks/app';

/** The stacks' names. */
export type StackKey = 'network' | 'data' | 'compute' | 'workflow' | 'monitoring';

/** One synthesized app: each stack's cdk.tf.json as text and as JSON. */
export interface SynthesizedApp {
  readonly outdir: string;
  readonly stacks: PipelineStacks;
  readonly text: Record<StackKey, string>;
  readonly json: Record<StackKey, TerraformJson>;
}

/** The parts of a cdk.tf.json the tests read. */
export interface TerraformJson {
  resource: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown; sensitive?: boolean }>;
  terraform: Record<string, unknown>;
  provider: Record<string, unknown[]>;
}

/** Synths already made in this test file, by configuration: tests only read them. */
const made = new Map<string, SynthesizedApp>();

/** Synthesizes an environment into a temporary folder, as `npm run synth` does (once per configuration and file). */
export function synthesize(config: EnvironmentConfig = ENVIRONMENTS.dev, env: NodeJS.ProcessEnv = {}): SynthesizedApp {
  const key = JSON.stringify([config, env]);
  const earlier = made.get(key);
  if (earlier) return earlier;
  const app = synthesizeOnce(config, env);
  made.set(key, app);
  return app;
}

function synthesizeOnce(config: EnvironmentConfig, env: NodeJS.ProcessEnv): SynthesizedApp {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdktf-'));
    const app = new App({ outdir });
    const stacks = buildPipeline(app, config);
    app.synth();
    const read = (key: StackKey) => readFileSync(path.join(outdir, 'stacks', stacks[key].node.id, 'cdk.tf.json'), 'utf8');
    const keys: StackKey[] = ['network', 'data', 'compute', 'workflow', 'monitoring'];
    const text = Object.fromEntries(keys.map((key) => [key, read(key)])) as Record<StackKey, string>;
    const json = Object.fromEntries(keys.map((key) => [key, JSON.parse(text[key]) as TerraformJson])) as Record<StackKey, TerraformJson>;
    return { outdir, stacks, text, json };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** Every resource of a type in a stack, with its Terraform id. */
export function resources(stack: TerraformJson, type: string): (Record<string, unknown> & { __id: string })[] {
  return Object.entries(stack.resource[type] ?? {}).map(([id, properties]) => ({ ...properties, __id: id }));
}

/** The single resource of a type whose properties match `where`. */
export function resource(stack: TerraformJson, type: string, where: (properties: Record<string, unknown>) => boolean = () => true) {
  const found = resources(stack, type).filter(where);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as Record<string, unknown> & { __id: string };
}
