/**
 * The console at `/_local/`: a page for people, served by the runtime from
 * `local/console/` (plain HTML, CSS and JavaScript, no build step), and the
 * endpoints it reads: the definition the workflow runs, executions with
 * their paths, the read model's tables, the sample events, and a stream of
 * server-sent events that tells the page when something changed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { READ_MODEL_TABLES } from '../config/read-model-tables';
import { StaticFile } from './http';
import type { Binding, BusEvent, LocalService } from './service';
import type { LocalStateMachine } from './state-machine';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONSOLE_DIR = path.join(HERE, 'console');
const EVENTS_DIR = path.join(HERE, '..', 'events');

/**
 * The console service: no Terraform type of its own; it reads what the
 * services bound before it provide.
 */
export const consoleService: LocalService = {
  name: 'console',
  serves: {},
  bind(binding) {
    binding.summary('console', `${binding.endpoint}/_local/`);
    servePage(binding);
    serveViews(binding);
    serveTrouble(binding);
    serveChanges(binding);
  },
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The page's files, and the sample events it offers to send. */
function servePage({ page }: Binding): void {
  for (const file of readdirSync(CONSOLE_DIR)) {
    const type = CONTENT_TYPES[path.extname(file)];
    if (!type) continue;
    const content = readFileSync(path.join(CONSOLE_DIR, file));
    page(file === 'index.html' ? '/_local/' : `/_local/${file}`, () => new StaticFile(content, type));
  }
  page('/_local/samples', () =>
    readdirSync(EVENTS_DIR)
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => ({ name: file.replace(/\.json$/, ''), entry: JSON.parse(readFileSync(path.join(EVENTS_DIR, file), 'utf8')) as unknown })),
  );
}

/** The workflow's definition and executions, and the read model's tables. */
function serveViews({ page, use }: Binding): void {
  const stateMachine = use('stateMachine');
  const inspector = use('inspector');
  page('/_local/definition', () => stateMachine.definition);
  page(
    '/_local/execution',
    (url) => stateMachine.execution(url.searchParams.get('id') ?? '') ?? { error: 'no such execution (only the latest 10,000 are kept)' },
  );
  page('/_local/console/executions', () => stateMachine.executions().slice(-500).map(executionSummary));
  page('/_local/readmodel', async () => {
    const [items] = await inspector.query(
      'SELECT item_id AS itemid, total_ordered AS totalordered, last_order_date AS lastorderdate FROM ?? ORDER BY item_id LIMIT 500',
      [READ_MODEL_TABLES.itemTotals],
    );
    const [months] = await inspector.query(
      'SELECT item_id AS itemid, month_start AS monthstart, monthly_ordered AS monthlyordered FROM ?? ORDER BY item_id, month_start DESC LIMIT 1000',
      [READ_MODEL_TABLES.itemMonthlyTotals],
    );
    const [orders] = await inspector.query(
      `SELECT o.order_id AS orderid, DATE_FORMAT(o.ordered_at, '%Y-%m-%d') AS orderdate, l.line_no AS line, l.item_id AS itemid, l.quantity
         FROM (SELECT order_id, ordered_at FROM ?? ORDER BY projected_at DESC, order_id LIMIT 50) o
         JOIN ?? l ON l.order_id = o.order_id ORDER BY o.ordered_at DESC, o.order_id, l.line_no`,
      [READ_MODEL_TABLES.orders, READ_MODEL_TABLES.orderLines],
    );
    const number = (rows: unknown, fields: string[]) =>
      (rows as Record<string, unknown>[]).map((row) => ({ ...row, ...Object.fromEntries(fields.map((field) => [field, Number(row[field])])) }));
    return { items: number(items, ['totalordered']), months: number(months, ['monthlyordered']), orders: number(orders, ['line', 'quantity']) };
  });
}

/** An execution as the console lists it, with the event that started it. */
function executionSummary(execution: ReturnType<LocalStateMachine['executions']>[number]) {
  let event: { id?: unknown; 'detail-type'?: unknown } = {};
  try {
    event = JSON.parse(execution.input) as typeof event;
  } catch {
    // A direct StartExecution may carry anything.
  }
  return {
    executionArn: execution.executionArn,
    name: execution.name,
    status: execution.status,
    startDate: execution.startDate,
    stopDate: execution.stopDate,
    eventId: typeof event.id === 'string' ? event.id : null,
    detailType: typeof event['detail-type'] === 'string' ? event['detail-type'] : null,
    error: execution.error ?? null,
    cause: execution.cause ?? null,
  };
}

/**
 * The Trouble panel: the checkpoint, the queues' messages, denials and failed
 * executions. Each denial says who was refused: a client identity refused what
 * its policy leaves out (as designed), or a principal of the pipeline refused
 * a grant the stacks lack.
 */
function serveTrouble({ gate, page, use }: Binding): void {
  const mapping = use('mapping');
  const stateMachine = use('stateMachine');
  const sqs = use('sqs');
  const principals = use('principals');
  page('/_local/trouble', () => ({
    ...(mapping.status().checkpointError ? { checkpointError: mapping.status().checkpointError } : {}),
    queues: [...sqs.queues()].map((queue) => ({
      name: queue.name,
      messages: queue
        .peek()
        .slice(-50)
        .map((message) => ({ ...message, body: safeJson(message.body) })),
    })),
    denials: gate
      .denials()
      .slice(-100)
      .map((denial) => ({ ...denial, who: principals(denial.principal) })),
    failedExecutions: stateMachine
      .executions()
      .filter((execution) => execution.status === 'FAILED')
      .slice(-50)
      .map((execution) => ({
        executionArn: execution.executionArn,
        error: execution.error,
        cause: execution.cause?.slice(0, 1_000),
        input: execution.input.slice(0, 1_000),
      })),
  }));
}

/** Server-sent events: every new bus event, and a note whenever anything else changed. */
function serveChanges({ gate, page, stream, use }: Binding): void {
  const [bus, stateMachine, mapping, sqs] = [use('bus'), use('stateMachine'), use('mapping'), use('sqs')];
  const clients = new Set<ServerResponse>();
  let disconnectedSlow = 0;
  const send = (name: string, data: unknown) => {
    const message = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of clients) {
      // A client that does not read would make the server keep every event for it:
      // past the bound it is disconnected (EventSource reconnects and the page reloads its state).
      if (client.writableLength > MAX_CLIENT_BUFFER_BYTES) {
        clients.delete(client);
        client.destroy();
        disconnectedSlow++;
        continue;
      }
      client.write(message);
    }
  };
  page('/_local/stream/clients', () => ({ connected: clients.size, disconnectedSlow, maxBufferedBytes: MAX_CLIENT_BUFFER_BYTES }));
  bus.subscribe((event: BusEvent) => send('bus', event));
  let last = '';
  const watcher = setInterval(() => {
    const now = JSON.stringify([
      stateMachine.executions().length,
      mapping.batches().length,
      mapping.batches().at(-1)?.time,
      gate.denials().length,
      [...sqs.queues()].map((queue) => queue.size),
    ]);
    if (now !== last) {
      last = now;
      send('update', { at: Date.now() });
    }
  }, 500);
  watcher.unref();
  stream('/_local/stream', (request, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    response.write('retry: 1000\n\n');
    clients.add(response);
    request.on('close', () => clients.delete(response));
  });
}

/** Bytes a server-sent-events client may have waiting before it is disconnected. */
const MAX_CLIENT_BUFFER_BYTES = 4 * 1024 * 1024;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
