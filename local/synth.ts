/**
 * Synthesizes the `local` environment: the same stacks and constructs as
 * dev and prod, from `config/environments.ts`, into a folder the runtime then
 * reads. Nothing here wires the pipeline; the stacks do.
 *
 * The result is cached under `node_modules/.cache`, keyed by a hash of
 * everything a synth reads (the stacks, config, ASL, handlers, the built
 * zips, the lock file): an unchanged tree is not synthesized twice.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INPUTS = ['main.ts', 'package-lock.json', 'config', 'stacks', 'asl', 'handlers'];

function filesUnder(entry: string): string[] {
  const full = path.join(ROOT, entry);
  if (!existsSync(full)) return [];
  if (statSync(full).isFile()) return [entry];
  return readdirSync(full, { withFileTypes: true }).flatMap((child) => filesUnder(path.join(entry, child.name)));
}

/** A hash of every input of a local synth (sources, and the zips the stacks read). */
function inputHash(distDir: string): string {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(filesUnder).sort()) hash.update(file).update(readFileSync(path.join(ROOT, file)));
  if (existsSync(distDir))
    for (const file of readdirSync(distDir)
      .filter((name) => name.endsWith('.zip'))
      .sort())
      hash.update(file).update(readFileSync(path.join(distDir, file)));
  return hash.digest('hex').slice(0, 32);
}

/** Synthesizes the local environment (or reuses an identical earlier synth) and returns the output folder. */
export async function synthesizeLocal(options: { distDir?: string } = {}): Promise<string> {
  const distDir = options.distDir ?? path.join(ROOT, 'dist');
  const cacheRoot = path.join(ROOT, 'node_modules', '.cache', 'order-pipeline-local-synth');
  const cached = path.join(cacheRoot, inputHash(distDir));
  if (existsSync(path.join(cached, 'manifest.json'))) return cached;

  // Imported only on a cache miss: cdktf and the provider classes take a while to load.
  const [{ App }, { ENVIRONMENTS }, { buildPipeline }] = await Promise.all([import('cdktf'), import('../config/environments'), import('../stacks/app')]);
  const outdir = mkdtempSync(path.join(tmpdir(), 'order-pipeline-local-'));
  const app = new App({ outdir });
  buildPipeline(app, ENVIRONMENTS.local, options.distDir ? { distDir: options.distDir } : {});
  app.synth();
  mkdirSync(cacheRoot, { recursive: true });
  const staging = `${cached}.${process.pid}.tmp`;
  try {
    cpSync(outdir, staging, { recursive: true });
    renameSync(staging, cached);
  } catch {
    // Another runtime cached the same synth first.
    rmSync(staging, { recursive: true, force: true });
  }
  return existsSync(path.join(cached, 'manifest.json')) ? cached : outdir;
}
