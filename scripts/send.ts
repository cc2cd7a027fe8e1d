/**
 * `npm run send -- <file.json | inline JSON> [--endpoint <url>] [--bus <name|arn>] [--wait]`
 *
 * Puts one event, or an array of them, on the bus: the local runtime's by
 * default, a deployed one with `--bus <arn>` or `AWS_CQRS_EVENTBRIDGE_ARN`
 * (normal AWS credentials). Entries are PutEvents entries; `Detail` may be an
 * object. With `--wait`, prints the response that answers each event.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseCommandLine } from '../config/command-line';
import { putEntries, resolveTarget, waitForResponse, type EntryInput } from '../clients/pipeline-client';
import { ENDPOINT_USAGE } from '../config/local-endpoint';

const { values, positionals } = parseCommandLine('npm run send', {
  allowPositionals: true,
  options: {
    bus: { type: 'string' },
    endpoint: { type: 'string' },
    wait: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const USAGE = `usage: npm run send -- <file.json | inline JSON> [--endpoint <url>] [--bus <name|arn>] [--wait]

Puts the event (or array of events) on the local runtime's bus, or on a deployed
bus with --bus <arn> or AWS_CQRS_EVENTBRIDGE_ARN. --wait prints each response.
${ENDPOINT_USAGE}`;
const input = positionals[0];
if (values.help || !input) {
  (values.help ? console.log : console.error)(USAGE);
  process.exit(values.help ? 0 : 2);
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
