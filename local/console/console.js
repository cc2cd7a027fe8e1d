// The local console. Plain browser JavaScript, no framework, no build step.
// Everything shown comes from the runtime's /_local/ endpoints; every value is
// written with textContent (item and order ids are user input), never as HTML.

const $ = (selector) => document.querySelector(selector);
const SVG = 'http://www.w3.org/2000/svg';

/** An element with text and attributes; children are appended as given. */
function el(tag, options = {}, ...children) {
  const node = document.createElement(tag);
  if (options.text !== undefined) node.textContent = String(options.text);
  if (options.className) node.className = options.className;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, String(value));
  for (const child of children) if (child) node.append(child);
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

const state = {
  busName: '',
  requests: new Map(), // event id → list item
  answers: new Map(), // request id → answer event
  selected: null,
  definition: null,
  events: [],
};

// ------------------------------------------------------------------ sending

async function putEvent(entry) {
  const body = { Entries: [{ ...entry, EventBusName: state.busName, Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail) }] };
  const response = await fetch('/', {
    method: 'POST',
    headers: { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' },
    body: JSON.stringify(body),
  });
  const result = await response.json();
  const first = result.Entries?.[0] ?? {};
  $('#send-result').textContent = first.EventId ? `accepted: ${first.EventId}` : `refused: ${first.ErrorCode ?? response.status} ${first.ErrorMessage ?? ''}`;
}

async function loadSamples() {
  const samples = await getJson('/_local/samples');
  const box = $('#samples');
  box.replaceChildren(
    ...samples.map((sample) => {
      const button = el('button', { text: sample.name, attrs: { type: 'button', 'data-sample': sample.name } });
      button.addEventListener('click', () => putEvent(sample.entry).catch(showError));
      return button;
    }),
  );
}

$('#order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  putEvent({
    Source: 'orderPipeline',
    DetailType: 'orderCommand',
    Detail: {
      command: 'createOrder',
      orderId: String(form.get('orderId')),
      items: [{ itemid: String(form.get('itemid')), quantity: Number(form.get('quantity')) }],
    },
  }).catch(showError);
});

function showError(error) {
  $('#send-result').textContent = `error: ${error.message}`;
}

// ------------------------------------------------------------------ timeline

function describe(event) {
  const detail = event.detail ?? {};
  switch (event['detail-type']) {
    case 'orderCommand':
      return `${detail.command ?? '?'} ${detail.orderId ?? ''}`;
    case 'orderQuery':
      return [detail.query, detail.itemid, detail.orderId].filter((part) => part !== undefined).join(' ');
    default:
      return '';
  }
}

function answerLine(answer) {
  const detail = answer.detail ?? {};
  if ('commandStatus' in detail) {
    const ok = detail.commandStatus === 'orderCreated';
    return el('div', {
      className: `answer ${ok ? 'ok' : 'bad'}`,
      text: ok ? `→ ${detail.commandStatus}` : `→ ${detail.commandStatus} ${detail.error?.code ?? ''}: ${detail.error?.message ?? ''}`,
    });
  }
  const ok = detail.queryStatus === 200;
  const rows = Array.isArray(detail.queryResult) ? `${detail.queryResult.length} rows${detail.nextPageToken ? ' (more pages)' : ''}` : '';
  return el('div', {
    className: `answer ${ok ? 'ok' : 'bad'}`,
    text: ok ? `→ ${detail.queryStatus}, ${rows}` : `→ ${detail.queryStatus} ${detail.error?.code ?? ''}: ${detail.error?.message ?? ''}`,
  });
}

function addEvent(event) {
  state.events.push(event);
  const detail = event.detail ?? {};
  const answered = detail.commandMessageId ?? detail.queryMessageId;
  if (answered && state.requests.has(answered)) {
    state.answers.set(answered, event);
    state.requests.get(answered).append(answerLine(event));
    if (state.selected === answered) showExecution(answered);
    return;
  }
  const item = el(
    'li',
    { className: 'item', attrs: { 'data-id': event.id, 'data-type': event['detail-type'] } },
    el('span', { className: 'kind', text: event['detail-type'] }),
    el('span', { text: describe(event) }),
    el('div', { className: 'muted', text: `${event.time} · ${event.id}` }),
  );
  if (answered) item.append(answerLine(event));
  if (event['detail-type'] === 'orderCommand' || event['detail-type'] === 'orderQuery') {
    state.requests.set(event.id, item);
    item.addEventListener('click', () => select(event.id));
  }
  $('#timeline').prepend(item);
}

function select(id) {
  state.selected = id;
  for (const item of document.querySelectorAll('li.item.selected')) item.classList.remove('selected');
  state.requests.get(id)?.classList.add('selected');
  showExecution(id).catch((error) => ($('#execution-summary').textContent = error.message));
}

// ------------------------------------------------------------------ execution graph

/** Every state a state can go to next: the branches a Choice names before its default, the way on before the catches. */
function transitions(definitionState) {
  const out = [];
  for (const choice of definitionState.Choices ?? []) out.push(choice.Next);
  if (definitionState.Default) out.push(definitionState.Default);
  if (definitionState.Next) out.push(definitionState.Next);
  for (const handler of definitionState.Catch ?? []) out.push(handler.Next);
  return [...new Set(out)];
}

/**
 * Layers for a top-down drawing: each state one layer below the furthest
 * state that leads to it (edges back up a cycle left out), so the flow reads
 * downwards and the states every branch ends in sit at the bottom. Within a
 * layer, states keep the order a walk from StartAt meets them (the command
 * branch before the query branch, as the Choices list them), until
 * {@link place} puts each under the states that lead to it.
 */
function layers(definition) {
  const names = Object.keys(definition.States);
  const order = [];
  const onPath = new Set();
  const seen = new Set();
  const forward = new Map(names.map((name) => [name, []]));
  const walk = (name) => {
    seen.add(name);
    onPath.add(name);
    order.push(name);
    for (const next of transitions(definition.States[name] ?? {})) {
      if (!(next in definition.States) || onPath.has(next)) continue;
      forward.get(name).push(next);
      if (!seen.has(next)) walk(next);
    }
    onPath.delete(name);
  };
  for (const name of [definition.StartAt, ...names]) if (!seen.has(name) && name in definition.States) walk(name);
  const depth = new Map(names.map((name) => [name, 0]));
  // Longest path: relax in an order where every edge points forward (reverse post-order).
  const finished = [];
  const visited = new Set();
  const finish = (name) => {
    visited.add(name);
    for (const next of forward.get(name)) if (!visited.has(next)) finish(next);
    finished.push(name);
  };
  for (const name of order) if (!visited.has(name)) finish(name);
  for (const name of [...finished].reverse()) for (const next of forward.get(name)) depth.set(next, Math.max(depth.get(next), depth.get(name) + 1));
  // Then each state moves down to just above its nearest next state (a Pass
  // state that prepares an answer sits beside the others, over the Task that sends it).
  for (const name of finished) {
    const next = forward.get(name);
    if (next.length > 0) depth.set(name, Math.max(depth.get(name), Math.min(...next.map((successor) => depth.get(successor))) - 1));
  }
  const rows = [];
  for (const name of order) (rows[depth.get(name)] ??= []).push(name);
  const previous = new Map(names.map((name) => [name, []]));
  for (const [name, next] of forward) for (const successor of next) previous.get(successor).push(name);
  return { rows: rows.filter(Boolean), previous };
}

/** A state name in words (`CompareWithExistingOrder` → Compare, With, Existing, Order), to wrap between them. */
function words(name) {
  return name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+|[^A-Za-z0-9]+/g) ?? [name];
}

/**
 * The label on as few lines as fit `width` pixels, broken between words and
 * balanced (the widest line as narrow as it can be); a word wider than
 * `width` stays whole on a line of its own.
 */
function wrap(name, width, measure) {
  const parts = words(name);
  let count = 0;
  let current = '';
  for (const word of parts) {
    if (current === '' || measure(current + word) > width) {
      count++;
      current = word;
    } else {
      current += word;
    }
  }
  let best = null;
  // Every way to cut the words into `count` lines (names are a few words long).
  const cut = (from, left, lines) => {
    if (left === 1) {
      const all = [...lines, parts.slice(from).join('')];
      const widest = Math.max(...all.map(measure));
      if (!best || widest < best.widest) best = { lines: all, widest };
      return;
    }
    for (let end = from + 1; end <= parts.length - left + 1; end++) cut(end, left - 1, [...lines, parts.slice(from, end).join('')]);
  };
  cut(0, Math.min(count, parts.length), []);
  return best.lines;
}

const GRAPH = { margin: 8, gapX: 10, gapY: 16, padX: 6, padY: 5, lineHeight: 13, minWidth: 64, maxWidth: 180, maxLines: 3 };

/**
 * Where each state goes in a box `boxWidth` pixels wide: as many columns as
 * fit with every label whole (wrapped between words on at most three lines);
 * a layer wider than that continues on the next row. The drawing is never
 * wider than its box, whatever the screen.
 */
function place(definition, boxWidth, measure) {
  const { rows, previous } = layers(definition);
  const names = rows.flat();
  const widest = Math.max(...rows.map((row) => row.length));
  const usable = boxWidth - 2 * GRAPH.margin;
  let columns = 1;
  let nodeWidth = Math.min(GRAPH.maxWidth, usable);
  for (let candidate = widest; candidate >= 1; candidate--) {
    const width = Math.min(GRAPH.maxWidth, Math.floor((usable - (candidate - 1) * GRAPH.gapX) / candidate));
    const inner = width - 2 * GRAPH.padX;
    const fits =
      width >= GRAPH.minWidth &&
      names.every((name) => wrap(name, inner, measure).every((line) => measure(line) <= inner) && wrap(name, inner, measure).length <= GRAPH.maxLines);
    if (fits || candidate === 1) {
      columns = candidate;
      nodeWidth = width;
      break;
    }
  }
  const labels = new Map(names.map((name) => [name, wrap(name, nodeWidth - 2 * GRAPH.padX, measure)]));
  // A grid of `columns` slots; each state takes the free slot nearest the states that lead to it.
  const pitch = nodeWidth + GRAPH.gapX;
  const left = Math.round((boxWidth - (columns * nodeWidth + (columns - 1) * GRAPH.gapX)) / 2);
  const position = new Map();
  /** Where the states above that lead to a state stand, on average (in columns); undefined when none is placed yet. */
  const under = (name) => {
    const above = previous
      .get(name)
      .map((before) => position.get(before))
      .filter(Boolean);
    return above.length > 0 ? above.reduce((sum, point) => sum + (point.x - left) / pitch, 0) / above.length : undefined;
  };
  let y = GRAPH.margin;
  for (const layer of rows) {
    // Ordered by where the states leading to them stand (fewer crossings); the others keep their place in the walk.
    const keyed = layer.map((name, index) => ({ name, key: under(name) ?? (index * (columns - 1)) / Math.max(1, layer.length - 1) }));
    const row = keyed.sort((a, b) => a.key - b.key).map(({ name }) => name);
    for (let start = 0; start < row.length; start += columns) {
      const line = row.slice(start, start + columns);
      const height = Math.max(...line.map((name) => labels.get(name).length)) * GRAPH.lineHeight + 2 * GRAPH.padY;
      const centred = (columns - line.length) / 2;
      const wanted = line.map((name, index) => Math.round(under(name) ?? centred + index));
      const slots = [];
      wanted.forEach((slot, index) => slots.push(Math.max(slot, index > 0 ? slots[index - 1] + 1 : 0)));
      for (let index = line.length - 1; index >= 0; index--)
        slots[index] = Math.min(slots[index], index === line.length - 1 ? columns - 1 : slots[index + 1] - 1);
      line.forEach((name, index) => position.set(name, { x: left + slots[index] * pitch, y, width: nodeWidth, height }));
      y += height + GRAPH.gapY;
    }
  }
  return { position, labels, width: boxWidth, height: y - GRAPH.gapY + GRAPH.margin };
}

function svgElement(tag, attributes = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

/** The last graph drawn, to draw again when its box changes width. */
let drawn = null;

function drawGraph(definition, steps) {
  const box = $('#graph');
  drawn = { definition, steps, width: box.clientWidth };
  const visited = new Map(steps.map((step) => [step.state, step]));
  const active = steps.at(-1)?.state;
  const taken = new Set(steps.slice(1).map((step, index) => `${steps[index].state}→${step.state}`));
  const svg = svgElement('svg');
  box.replaceChildren(svg);
  // Labels are measured in the drawing itself, with the font the page gives it.
  const probe = svgElement('text');
  svg.append(probe);
  const measure = (text) => {
    probe.textContent = text;
    return probe.getComputedTextLength();
  };
  const { position, labels, width, height } = place(definition, drawn.width, measure);
  probe.remove();
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `the workflow's states${active ? `; this execution's path ends at ${active}` : ''}`);
  const edges = [];
  for (const [name, definitionState] of Object.entries(definition.States)) {
    const from = position.get(name);
    for (const next of transitions(definitionState)) {
      const to = position.get(next);
      if (!from || !to) continue;
      const down = to.y > from.y;
      const line = svgElement('line', {
        x1: from.x + from.width / 2,
        y1: down ? from.y + from.height : from.y,
        x2: to.x + to.width / 2,
        y2: down ? to.y : to.y + to.height,
      });
      if (taken.has(`${name}→${next}`)) line.setAttribute('class', 'taken');
      edges.push(line);
    }
  }
  // The path taken is drawn over the other edges.
  svg.append(...edges.filter((line) => !line.classList.contains('taken')), ...edges.filter((line) => line.classList.contains('taken')));
  for (const [name, point] of position) {
    const step = visited.get(name);
    const classes = [step ? 'visited' : '', step?.error && !step.caught ? 'failed' : '', name === active ? 'active' : ''].filter(Boolean);
    const group = svgElement('g', { class: classes.join(' '), 'data-state': name, tabindex: 0 });
    const title = svgElement('title');
    title.textContent = `${name} (${definition.States[name]?.Type ?? '?'})${step ? ', on this path' : ''}`;
    const rect = svgElement('rect', { x: point.x, y: point.y, width: point.width, height: point.height });
    const lines = labels.get(name);
    // Centred in a node a neighbour's longer label made taller.
    const text = svgElement('text', {
      x: point.x + point.width / 2,
      y: point.y + (point.height - lines.length * GRAPH.lineHeight) / 2 + GRAPH.lineHeight - 3,
      'text-anchor': 'middle',
    });
    lines.forEach((line, index) => {
      const span = svgElement('tspan', { x: point.x + point.width / 2, dy: index === 0 ? 0 : GRAPH.lineHeight });
      span.textContent = line;
      text.append(span);
    });
    group.append(title, rect, text);
    const show = () => {
      const io = $('#state-io');
      io.hidden = false;
      io.textContent = step
        ? JSON.stringify({ state: name, input: step.input, output: step.output, error: step.error, retries: step.retries, caught: step.caught }, null, 2)
        : `${name}: not on this execution's path`;
    };
    group.addEventListener('click', show);
    group.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') show();
    });
    svg.append(group);
  }
}

new ResizeObserver(() => {
  const box = $('#graph');
  if (drawn && box.clientWidth > 0 && box.clientWidth !== drawn.width) drawGraph(drawn.definition, drawn.steps);
}).observe($('#graph'));

async function showExecution(id) {
  $('#execution-hint').hidden = true;
  state.definition ??= await getJson('/_local/definition');
  const executions = await getJson('/_local/console/executions');
  const summary = executions.filter((execution) => execution.eventId === id).at(-1);
  if (!summary) {
    $('#execution-summary').replaceChildren(el('p', { className: 'muted', text: `no execution yet for ${id}` }));
    $('#graph').replaceChildren();
    drawn = null;
    return;
  }
  const execution = await getJson(`/_local/execution?id=${encodeURIComponent(summary.executionArn)}`);
  const steps = execution.history ?? [];
  $('#execution-summary').replaceChildren(
    el(
      'p',
      {},
      el('strong', { text: execution.status, className: execution.status === 'SUCCEEDED' ? 'ok' : execution.status === 'FAILED' ? 'bad' : '' }),
      el('span', {
        text: ` · ${steps.length} states · ${execution.stopDate ? `${execution.stopDate - execution.startDate} ms` : 'running'} · ${execution.name}`,
      }),
    ),
    execution.error ? el('p', { className: 'bad', text: `${execution.error}: ${execution.cause ?? ''}` }) : '',
  );
  drawGraph(state.definition, steps);
  $('#state-io').hidden = true;
  await showProjection(id, execution);
}

async function showProjection(id, execution) {
  const box = $('#projection');
  const request = state.events.find((event) => event.id === id);
  if (request?.['detail-type'] !== 'orderCommand' || !execution.stopDate) {
    box.replaceChildren(el('p', { className: 'muted', text: 'Queries read the maintained aggregates; only commands are projected.' }));
    return;
  }
  const batches = await getJson('/_local/batches');
  const batch = batches.find((candidate) => Date.parse(candidate.time) >= execution.startDate && candidate.ok);
  if (!batch) {
    box.replaceChildren(el('p', { className: 'muted', text: 'not projected yet (the stream is polled four times a second)' }));
    return;
  }
  box.replaceChildren(
    el('p', { text: `projected in a batch of ${batch.size} record${batch.size === 1 ? '' : 's'} at ${batch.time}, in ${batch.durationMs} ms` }),
    el('p', { text: statementsOf(batch.sql), attrs: { 'data-sql': '' } }),
    el('p', { className: 'muted', text: `stream records ${batch.firstSequenceNumber} to ${batch.lastSequenceNumber}` }),
  );
}

/**
 * The statements the projection's own connections sent for a batch (counted
 * by the runtime between the function and the server): those of its
 * transactions, and apart, any sent outside them, such as a new connection's
 * session settings.
 */
function statementsOf(sql) {
  if (!sql) return 'SQL statements not counted';
  const plural = (count, word) => `${count} ${word}${count === 1 ? '' : 's'}`;
  const inside =
    sql.transactions > 0
      ? `${plural(sql.inTransaction, 'SQL statement')} in ${plural(sql.transactions, 'transaction')}`
      : plural(sql.statements, 'SQL statement');
  const outside = sql.statements - sql.inTransaction;
  if (sql.transactions === 0 || outside === 0) return inside;
  const where =
    sql.connections > 0
      ? `to set up the ${sql.connections === 1 ? 'connection' : `${sql.connections} connections`} it opened`
      : `outside ${sql.transactions === 1 ? 'it' : 'them'}`;
  return `${inside}, and ${outside} more ${where}`;
}

// ------------------------------------------------------------------ read model and trouble

function fill(table, rows, columns) {
  table.querySelector('tbody').replaceChildren(...rows.map((row) => el('tr', {}, ...columns.map((column) => el('td', { text: row[column] ?? '' })))));
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

async function refreshReadModel() {
  const model = await getJson('/_local/readmodel');
  fill($('#items'), model.items, ['itemid', 'totalordered', 'lastorderdate']);
  fill(
    $('#months'),
    model.months.map((row) => ({ ...row, monthyear: `${MONTHS[Number(row.monthstart.slice(5, 7)) - 1]} ${row.monthstart.slice(0, 4)}` })),
    ['itemid', 'monthyear', 'monthlyordered'],
  );
  fill($('#orders'), model.orders, ['orderid', 'itemid', 'quantity', 'orderdate']);
}

/**
 * IAM denials in two kinds: a client identity (the producer or consumer
 * policy the stacks export for client teams) refused what its policy leaves
 * out is that policy at work; a role of the pipeline (or a service under a
 * resource policy) refused is a grant the stacks lack.
 */
function denialParts(denials) {
  const parts = [];
  const designed = denials.filter((denial) => denial.who?.kind === 'client');
  const missing = denials.filter((denial) => denial.who?.kind !== 'client');
  if (designed.length > 0) {
    parts.push(el('h3', { text: `Refused as designed: ${designed.length}`, attrs: { 'data-denials': 'designed' } }));
    for (const denial of designed.slice(-10)) {
      parts.push(
        el(
          'p',
          { className: 'designed', attrs: { 'data-principal': denial.who.accessKeyId } },
          el('strong', { text: denial.who.accessKeyId }),
          el('span', { text: ` (${denial.who.policy}) may not ${denial.action}${entryTypes(denial)} on ${denial.resource}` }),
        ),
      );
    }
    const policies = [...new Map(designed.map((denial) => [denial.who.policy, denial.who])).values()];
    parts.push(
      el('p', {
        className: 'note',
        text: `Client identities act under the policies the stacks export for client teams (${policies.map((who) => `${who.policy}: ${who.description ?? 'no description'}`).join('; ')}). Refusing what a policy leaves out is what it is for: nothing to fix. Any other access key is the local operator.`,
      }),
    );
  }
  if (missing.length > 0) {
    parts.push(el('h3', { text: `Missing grants: ${missing.length}`, attrs: { 'data-denials': 'missing' } }));
    for (const denial of missing.slice(-10)) {
      const who =
        denial.who?.kind === 'role'
          ? `role ${denial.who.role}${denial.who.usedBy.length > 0 ? ` (${denial.who.usedBy.join(', ')})` : ''}`
          : `${denial.who?.service ?? denial.principal} (resource policy)`;
      parts.push(el('p', { className: 'bad', text: `${who} may not ${denial.action}${entryTypes(denial)} on ${denial.resource}: ${denial.missing}` }));
    }
    parts.push(
      el('p', {
        className: 'todo',
        text: 'A statement the stacks lack: add it where the resource grants access (stacks/constructs), synthesize, and restart npm start.',
      }),
    );
  }
  return parts;
}

/** The detail types of a refused PutEvents (its entries' values, as IAM saw them). */
function entryTypes(denial) {
  const types = denial.context?.['events:detail-type'];
  return types === undefined ? '' : ` (${[].concat(types).join(', ')})`;
}

async function refreshTrouble() {
  const trouble = await getJson('/_local/trouble');
  const parts = [];
  for (const queue of trouble.queues) {
    if (queue.messages.length === 0) continue;
    const isProjection = queue.name.endsWith('projection-failures');
    parts.push(el('h3', { text: `${queue.name}: ${queue.messages.length} message(s)` }));
    for (const message of queue.messages) {
      const body = message.body ?? {};
      const reason = body.localDiagnostics
        ? (body.localDiagnostics.recordErrors?.[0] ?? body.localDiagnostics.errorMessage ?? JSON.stringify(body.localDiagnostics))
        : `${body['detail-type'] ?? ''} ${body.id ?? ''}`;
      parts.push(el('p', { text: `${body.requestContext?.condition ?? 'undeliverable'}: ${reason}` }));
    }
    parts.push(
      el('p', {
        className: 'todo',
        text: isProjection
          ? 'Fix the cause, then: npm run redrive -- --queue projection (or npm run rebuild-read-model)'
          : 'Fix the cause, then: npm run redrive -- --queue workflow',
      }),
    );
  }
  if (trouble.checkpointError) {
    const failure = trouble.checkpointError;
    parts.push(el('h3', { text: `Stream checkpoint not saved since ${failure.since} (${failure.failures} tries)` }));
    parts.push(el('p', { className: 'bad', text: failure.message }));
    parts.push(
      el('p', {
        className: 'todo',
        text: 'Orders are still projected; a crash now replays them (harmlessly). Free disk space or file descriptors under the --data folder: the next poll saves it.',
      }),
    );
  }
  parts.push(...denialParts(trouble.denials));
  if (trouble.failedExecutions.length > 0) {
    parts.push(el('h3', { text: `Failed executions: ${trouble.failedExecutions.length}` }));
    for (const execution of trouble.failedExecutions.slice(-10)) parts.push(el('p', { text: `${execution.error}: ${execution.cause ?? ''}` }));
    parts.push(
      el('p', {
        className: 'todo',
        text: 'An execution fails only for unroutable input or an answer it could not publish; the event is in the bus archive on AWS (replay) and in /_local/events here.',
      }),
    );
  }
  $('#trouble').replaceChildren(...(parts.length > 0 ? parts : [el('p', { className: 'muted', text: 'Nothing went wrong.' })]));
}

let pending = null;
function refreshSoon() {
  if (pending) return;
  pending = setTimeout(async () => {
    pending = null;
    try {
      await Promise.all([refreshReadModel(), refreshTrouble(), state.selected ? showExecution(state.selected) : null]);
    } catch (error) {
      $('#summary').textContent = `refresh failed: ${error.message}`;
    }
  }, 250);
}

// ------------------------------------------------------------------ start

async function start() {
  const status = await getJson('/_local/status');
  state.busName = status.eventBus.name;
  $('#summary').textContent = `${status.endpoint} · bus ${status.eventBus.name} · IAM ${status.iam.mode} · read model ${status.readModel.url}`;
  await loadSamples();
  for (const event of await getJson('/_local/events')) addEvent(event);
  refreshSoon();
  const stream = new EventSource('/_local/stream');
  stream.addEventListener('bus', (message) => {
    addEvent(JSON.parse(message.data));
    refreshSoon();
  });
  stream.addEventListener('update', refreshSoon);
}

start().catch((error) => ($('#summary').textContent = `could not start: ${error.message}`));
