/**
 * `npm run rebuild-read-model [-- --env dev] [--restart]`
 *
 * Rebuilds the read model from the orders table: the rebuild function scans,
 * re-projects into fresh tables, catches up with what the live projection
 * wrote meanwhile and swaps them in, without a moment where queries see
 * fewer orders. It works in slices of its timeout; this CLI invokes it until
 * the rebuild is done. Idempotent and resumable: stopping anywhere and running
 * again continues, unless the saved rebuild no longer matches the read model
 * or the orders table (then it starts over and says why).
 * Locally by default; `--env <environment>` for a deployed stack.
 */
import { parseCommandLine } from '../config/command-line';
import type { RebuildProgress } from '../handlers/read-model/rebuild';
import { invokeFunction, operationsTarget } from '../clients/operations';
import { ENDPOINT_USAGE } from '../config/local-endpoint';

const USAGE = `usage: npm run rebuild-read-model -- [--env <environment>] [--endpoint <url>] [--restart]

Without --env, the local runtime. ${ENDPOINT_USAGE}`;
const { values } = parseCommandLine('npm run rebuild-read-model', {
  options: {
    env: { type: 'string' },
    endpoint: { type: 'string' },
    restart: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const target = operationsTarget(values.env, values.endpoint);
console.log(`rebuilding the read model of ${target.environment}${target.endpoint ? ` (${target.endpoint})` : ''}`);

try {
  let restart = values.restart;
  for (;;) {
    const progress = await invokeFunction<RebuildProgress>(target, 'rebuildReadModel', { restart });
    restart = false;
    if (progress.restarted) console.log(`  the saved rebuild was discarded and this one started over: ${progress.restarted}`);
    const stage = progress.stage === 'swapping' ? 'scanned; the swap waits for its locks' : progress.stage;
    console.log(
      `  ${stage}: ${progress.scanned} orders scanned, ${progress.projected} projected, ${progress.malformed} malformed skipped, ${progress.caughtUp} projected live meanwhile and caught up before the swap`,
    );
    if (progress.stage === 'done') break;
  }
  console.log('read model rebuilt and swapped in');
} catch (error) {
  console.error((error as Error).message);
  if (!/^nothing answers at/.test((error as Error).message)) console.error('nothing is lost: run the same command again to continue');
  process.exit(1);
}
