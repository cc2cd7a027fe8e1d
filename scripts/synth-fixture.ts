/**
 * `npm run synth:fixture`: runs `npm run synth` (dev, offline) and writes its
 * stacks to `__tests__/fixtures/synth/`, the snapshot the synth-output test
 * compares against (see stacks/synth-snapshot.ts). Run it when a change to
 * the stacks is meant to change what they synthesize, and review the diff.
 *
 *   npm run synth:fixture            write the snapshot
 *   npm run synth:fixture -- --check exit 1 when the synth differs from it
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { firstDifference, readSnapshot, snapshotSynth, SNAPSHOT_DIR } from '../stacks/synth-snapshot';

const synthesized = await snapshotSynth();
if (process.argv.includes('--check')) {
  const committed = readSnapshot();
  const differing = [...new Set([...Object.keys(synthesized), ...Object.keys(committed)])].filter((stack) => synthesized[stack] !== committed[stack]);
  for (const stack of differing) console.error(`${stack}: ${JSON.stringify(firstDifference(synthesized[stack], committed[stack]))}`);
  if (differing.length > 0) {
    console.error(
      `the synth differs from __tests__/fixtures/synth in ${differing.join(', ')}: if that is intended, run npm run synth:fixture and review the diff`,
    );
    process.exitCode = 1;
  } else {
    console.log(`the synth matches __tests__/fixtures/synth (${Object.keys(committed).length} stacks)`);
  }
} else {
  rmSync(SNAPSHOT_DIR, { recursive: true, force: true });
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  for (const [stack, text] of Object.entries(synthesized)) writeFileSync(path.join(SNAPSHOT_DIR, `${stack}.tf.json`), text);
  console.log(`wrote ${Object.keys(synthesized).length} stacks to ${path.relative(process.cwd(), SNAPSHOT_DIR)}`);
}
