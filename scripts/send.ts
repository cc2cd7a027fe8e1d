/**
 * `npm run send -- <file.json | inline JSON> [--bus <name|arn>] [--wait]`
 *
 * Puts one event, or an array of them, on the bus: the local runtime's by
 * default, a deployed one with `--bus <arn>` or `AWS_CQRS_EVENTBRIDGE_ARN`
 * (normal AWS credentials). Entries are PutEvents entries; `Detail` may be an
 * object. With `--wait`, prints the response that answers each event.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { putEntries, resolveTarget, waitForResponse, type EntryInput } from '../clients/pipeline-client';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { bus: { type: 'string' }, endpoint: { type: 'string' }, wait: { type: 'boolean', default: false } },
});
const input = positionals[0];
if (!input) {
  console.error('usage: npm run send -- <file.json | inline JSON> [--bus <name|arn>] [--wait]');
  process.exit(2);
}

let parsed: unknown;
try {
  parsed = JSON.parse(existsSync(input) ? readFileSync(input, 'utf8') : input);
} catch (error) {
  console.error(`${input} is neither a readable JSON file nor inline JSON: ${(error as Error).message}`);
  process.exit(2);
}
const entries = (Array.isArray(parsed) ? parsed : [parsed]) as EntryInput[];
const target = resolveTarget({ bus: values.bus, endpoint: values.endpoint });

try {
  const ids = await putEntries(target, entries);
  for (const id of ids) console.log(`sent ${id}`);
  if (values.wait) {
    for (const id of ids) console.log(JSON.stringify((await waitForResponse(target, id)).detail, null, 2));
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
