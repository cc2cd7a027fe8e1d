/**
 * `npm run query -- <query> [arguments...]`, for every query of the registry
 * (handlers/queries/registry.ts); `npm run query` alone lists them.
 *
 * Sends the query, waits for the `orderQueryResponse` with the matching
 * `queryMessageId`, and prints its rows as a table; `--all` follows
 * `nextPageToken` to the last page. Local by default; a deployed stack with
 * `--bus <arn>` (responses read from its log group).
 */
import { parseCommandLine } from '../config/command-line';
import { DetailType, EVENT_SOURCE } from '../config/pipeline';
import { QUERIES, queryNamed } from '../handlers/queries/registry';
import { putEntries, resolveTarget, waitForResponse } from '../clients/pipeline-client';
import { formatTable } from '../clients/table';
import { ENDPOINT_USAGE } from '../config/local-endpoint';

const { values, positionals } = parseCommandLine('npm run query', {
  allowPositionals: true,
  options: {
    bus: { type: 'string' },
    endpoint: { type: 'string' },
    'log-group': { type: 'string' },
    json: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    'page-token': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const [name, ...args] = positionals;
const query = name === undefined ? undefined : queryNamed(name);
const usage = [
  'usage: npm run query -- <query> [arguments] [--all] [--page-token <token>] [--endpoint <url>] [--bus <arn>] [--json]',
  '',
  ...QUERIES.map((candidate) => `  ${[candidate.name, ...candidate.arguments.map((argument) => `<${argument}>`)].join(' ').padEnd(32)} ${candidate.summary}`),
  '',
  ENDPOINT_USAGE,
].join('\n');
if (values.help || !name || (query && args.length !== query.arguments.length)) {
  (values.help ? console.log : console.error)(usage);
  process.exit(values.help ? 0 : 2);
}

/** The fields of every query's answer that the output shows as its frame or its table; any other field is printed as a line. */
const ANSWER_FRAME = new Set(['query', 'queryMessageId', 'queryItemId', 'queryOrderId', 'queryStatus', 'queryResult', 'nextPageToken', 'error']);

const target = resolveTarget({ bus: values.bus, endpoint: values.endpoint, logGroup: values['log-group'] });
try {
  // An unknown query is still sent: the pipeline's own refusal is the answer.
  const fields = Object.fromEntries((query?.arguments ?? []).map((argument, index) => [argument, args[index]]));
  let pageToken = values['page-token'];
  const rows: Record<string, unknown>[] = [];
  for (;;) {
    const detail = { query: name, ...fields, ...(pageToken ? { pageToken } : {}) };
    const [id] = await putEntries(target, [{ Source: EVENT_SOURCE, DetailType: DetailType.query, Detail: detail }]);
    const response = await waitForResponse(target, id as string);
    const body = response.detail as {
      queryStatus: number;
      queryResult?: Record<string, unknown>[];
      nextPageToken?: string;
      error?: { code: string; message: string };
    };
    if (values.json) console.log(JSON.stringify(body, null, 2));
    if (body.queryStatus !== 200) {
      if (!values.json) console.log(`${name}: queryStatus ${body.queryStatus} ${body.error?.code}: ${body.error?.message}`);
      process.exit(1);
    }
    rows.push(...(body.queryResult ?? []));
    if (!values.json) {
      console.log(`${[name, ...args].join(' ')} (queryMessageId ${id})`);
      // What the answer says beside its rows (orderDetails: the order's queryOrderStatus), once.
      if (!pageToken)
        for (const [field, value] of Object.entries(body).filter(([field]) => !ANSWER_FRAME.has(field)))
          console.log(`${field}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
    }
    pageToken = body.nextPageToken;
    if (!values.all || !pageToken) break;
  }
  if (!values.json) {
    console.log(formatTable(rows));
    if (pageToken) console.log(`more rows: --page-token ${pageToken} (or --all)`);
  }
  process.exit(0);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
