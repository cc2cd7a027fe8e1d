/**
 * `npm run query -- itemsSalesReport` / `npm run query -- monthlySalesByItem z3333`
 *
 * Sends the query, waits for the `orderQueryResponse` with the matching
 * `queryMessageId`, and prints its rows as a table. Local by default; a
 * deployed stack with `--bus <arn>` (responses read from its log group).
 */
import { parseArgs } from 'node:util';
import { DetailType, EVENT_SOURCE } from '../config/pipeline';
import { putEntries, resolveTarget, waitForResponse } from '../clients/pipeline-client';
import { formatTable } from '../clients/table';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { bus: { type: 'string' }, endpoint: { type: 'string' }, 'log-group': { type: 'string' }, json: { type: 'boolean', default: false } },
});
const [query, itemid] = positionals;
if (!query) {
  console.error('usage: npm run query -- itemsSalesReport | monthlySalesByItem <itemid> [--bus <arn>] [--json]');
  process.exit(2);
}

const target = resolveTarget({ bus: values.bus, endpoint: values.endpoint, logGroup: values['log-group'] });
try {
  const detail = itemid === undefined ? { query } : { query, itemid };
  const [id] = await putEntries(target, [{ Source: EVENT_SOURCE, DetailType: DetailType.query, Detail: detail }]);
  const response = await waitForResponse(target, id as string);
  const body = response.detail as { queryStatus: number; queryResult?: Record<string, unknown>[]; error?: { code: string; message: string } };
  if (values.json) {
    console.log(JSON.stringify(body, null, 2));
  } else if (body.queryStatus === 200) {
    console.log(`${query}${itemid ? ` ${itemid}` : ''} (queryMessageId ${id})`);
    console.log(formatTable(body.queryResult ?? []));
  } else {
    console.log(`${query}: queryStatus ${body.queryStatus} ${body.error?.code}: ${body.error?.message}`);
  }
  process.exit(body.queryStatus === 200 ? 0 : 1);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
