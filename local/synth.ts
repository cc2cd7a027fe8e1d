/**
 * Synthesizes the `local` environment: the same stacks and constructs as
 * dev and prod, from `config/environments.ts`, into a folder the runtime then
 * reads. Nothing here wires the pipeline; the stacks do.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { ENVIRONMENTS, type EnvironmentConfig } from '../config/environments';
import { buildPipeline } from '../stacks/app';

/** Synthesizes `config` (default: the local environment) and returns the output folder. */
export function synthesizeLocal(options: { config?: EnvironmentConfig; outdir?: string; distDir?: string } = {}): string {
  const outdir = options.outdir ?? mkdtempSync(path.join(tmpdir(), 'order-pipeline-local-'));
  const app = new App({ outdir });
  buildPipeline(app, options.config ?? ENVIRONMENTS.local, options.distDir ? { distDir: options.distDir } : {});
  app.synth();
  return outdir;
}
