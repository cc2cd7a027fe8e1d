/**
 * What `npm run synth` writes does not depend on how fast it gets there:
 * - it is the committed snapshot (`__tests__/fixtures/synth/`), byte for
 *   byte once the values that follow from bundle bytes are named; a change
 *   to the stacks that is meant to change their Terraform is recorded with
 *   `npm run synth:fixture`, and its diff reviewed;
 * - what it keeps between runs (bundles, anything compiled) gives exactly the
 *   bytes of a clean build synthesized in this process, hashes included.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdktf';
import { loadConfig } from '../../config/environments';
import { buildPipeline } from '../../stacks/app';
import { buildHandlers, ROOT } from '../../stacks/bundling/build';
import { firstDifference, nameBundleValues, npmRunSynth, readSnapshot, readStacks, snapshotEnvironment } from '../../stacks/synth-snapshot';
import { budget } from '../helpers/budget';

let written: Record<string, string>;

beforeAll(
  async () => {
    written = await npmRunSynth();
  },
  budget({ cliRuns: 1, seconds: 15 }),
);

describe('npm run synth', () => {
  it('writes the committed snapshot of the dev environment', () => {
    const committed = readSnapshot();
    expect(Object.keys(committed).length).toBeGreaterThan(0);
    expect(Object.keys(written)).toEqual(Object.keys(committed));
    for (const [stack, text] of Object.entries(written)) {
      // On a difference: npm run synth:fixture records an intended change (review its diff).
      expect({ stack, difference: firstDifference(nameBundleValues(text), committed[stack]) }).toEqual({ stack, difference: undefined });
    }
  });

  it(
    'writes, from what it keeps between runs, the bytes a clean build gives',
    async () => {
      // Beside dist/: a bundle's source map names its sources relative to its own folder.
      const dist = mkdtempSync(path.join(ROOT, '.test-dist-'));
      const outdir = mkdtempSync(path.join(tmpdir(), 'synth-clean-out-'));
      const saved = { ...process.env };
      try {
        await buildHandlers({ outRoot: dist, force: true });
        // The same configuration npm run synth read, from the same variables.
        for (const name of Object.keys(process.env)) delete process.env[name];
        Object.assign(process.env, snapshotEnvironment(outdir));
        const app = new App({ outdir });
        buildPipeline(app, loadConfig(), { distDir: dist });
        app.synth();
        const clean = readStacks(outdir);
        expect(Object.keys(written)).toEqual(Object.keys(clean));
        for (const [stack, text] of Object.entries(written))
          expect({ stack, difference: firstDifference(text, clean[stack]) }).toEqual({ stack, difference: undefined });
      } finally {
        for (const name of Object.keys(process.env)) delete process.env[name];
        Object.assign(process.env, saved);
        rmSync(dist, { recursive: true, force: true });
        rmSync(outdir, { recursive: true, force: true });
      }
    },
    budget({ seconds: 20 }),
  );
});
