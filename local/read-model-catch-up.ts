/**
 * A read model made at this start beside an orders table that was not (a
 * `--data` folder started against a new database, another state's read
 * model cleared, or `--take-over`) is rebuilt from the table before the
 * runtime says it is ready: the stacks' rebuild function is invoked through
 * the endpoint's Lambda API until it is done, as `npm run rebuild-read-model`
 * does. Left as it was, the stream resumed at its checkpoint and the read
 * model held only what came after: queries answered 200 with no rows, and
 * orderDetails 404, for orders the table held.
 */
import { resourceNames } from '../config/pipeline';
import type { LocalService } from './service';

declare module './service' {
  interface Parts {
    /** The runtime's read model: whether it was made (or made again) at this start, and the table it is derived from. */
    readModelClaim: { readonly made: boolean; readonly database: string; readonly sourceTable: string };
  }
}

/** What is read of the rebuild function's answer to each invocation (handlers/read-model/rebuild.ts `RebuildProgress`). */
interface Progress {
  readonly stage: 'scanning' | 'swapping' | 'done';
  readonly projected: number;
}

export const readModelCatchUpService: LocalService = {
  name: 'read-model-catch-up',
  serves: {},
  bind({ use, endpoint, onStart, log }) {
    const made = use('readModelClaim');
    if (!made.made) return;
    const dynamodb = use('dynamodb');
    const functionName = resourceNames('local').function('rebuildReadModel');
    onStart(async () => {
      const sample = await dynamodb.call('Scan', { TableName: made.sourceTable, Limit: 1, Select: 'COUNT' });
      if (sample.status !== 200 || Number(sample.body.Count) === 0) return;
      log(`read model ${made.database} was made at this start and ${made.sourceTable} holds orders: rebuilding it from the table`);
      let slices = 0;
      for (;;) {
        const response = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, {
          method: 'POST',
          body: JSON.stringify({ restart: false }),
        });
        const body = await response.text();
        if (response.status !== 200 || response.headers.get('x-amz-function-error'))
          throw new Error(`rebuilding read model ${made.database} from ${made.sourceTable} failed (npm run rebuild-read-model continues it): ${body}`);
        const progress = JSON.parse(body) as Progress;
        slices++;
        if (progress.stage === 'done') {
          log(`read model ${made.database} rebuilt: ${progress.projected} orders projected (${slices} invocation${slices === 1 ? '' : 's'})`);
          return;
        }
      }
    });
  },
};
