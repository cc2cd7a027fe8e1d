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
  box.replaceChildren(...samples.map((sample) => {
    const button = el('button', { text: sample.name, attrs: { type: 'button', 'data-sample': sample.name } });
    button.addEventListener('click', () => putEvent(sample.entry).catch(showError));
    return button;
  }));
}

$('#order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  putEvent({
    Source: 'orderPipeline',
    DetailType: 'orderCommand',
    Detail: { command: 'createOrder', orderId: String(form.get('orderId')), items: [{ itemid: String(form.get('itemid')), quantity: Number(form.get('quantity')) }] },
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
    return el('div', { className: `answer ${ok ? 'ok' : 'bad'}`, text: ok ? `→ ${detail.commandStatus}` : `→ ${detail.commandStatus} ${detail.error?.code ?? ''}: ${detail.error?.message ?? ''}` });
  }
  const ok = detail.queryStatus === 200;
  const rows = Array.isArray(detail.queryResult) ? `${detail.queryResult.length} rows${detail.nextPageToken ? ' (more pages)' : ''}` : '';
  return el('div', { className: `answer ${ok ? 'ok' : 'bad'}`, text: ok ? `→ ${detail.queryStatus}, ${rows}` : `→ ${detail.queryStatus} ${detail.error?.code ?? ''}: ${detail.error?.message ?? ''}` });
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
  const item = el('li', { className: 'item', attrs: { 'data-id': event.id, 'data-type': event['detail-type'] } },
    el('span', { className: 'kind', text: event['detail-type'] }),
    el('span', { text: describe(event) }),
    el('div', { className: 'muted', text: `${event.time} · ${event.id}` }));
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

/** Every transition of a state: [next state, kind]. */
function transitions(definitionState) {
  const out = [];
  if (definitionState.Next) out.push(definitionState.Next);
  if (definitionState.Default) out.push(definitionState.Default);
  for (const choice of definitionState.Choices ?? []) out.push(choice.Next);
  for (const handler of definitionState.Catch ?? []) out.push(handler.Next);
  return [...new Set(out)];
}

/** States in layers from StartAt (breadth first), for a top-down drawing. */
function layout(definition) {
  const level = new Map([[definition.StartAt, 0]]);
  const queue = [definition.StartAt];
  while (queue.length > 0) {
    const name = queue.shift();
    for (const next of transitions(definition.States[name] ?? {})) {
      if (!level.has(next)) {
        level.set(next, level.get(name) + 1);
        queue.push(next);
      }
    }
  }
  for (const name of Object.keys(definition.States)) if (!level.has(name)) level.set(name, Math.max(...level.values()) + 1);
  const rows = [];
  for (const [name, depth] of level) (rows[depth] ??= []).push(name);
  return rows;
}

function drawGraph(definition, steps) {
  const visited = new Map(steps.map((step) => [step.state, step]));
  const taken = new Set(steps.slice(1).map((step, index) => `${steps[index].state}→${step.state}`));
  const rows = layout(definition);
  const width = 150;
  const height = 30;
  const gapX = 20;
  const gapY = 28;
  const columns = Math.max(...rows.map((row) => row.length));
  const position = new Map();
  rows.forEach((row, depth) => row.forEach((name, index) => position.set(name, { x: 10 + index * (width + gapX) + ((columns - row.length) * (width + gapX)) / 2, y: 10 + depth * (height + gapY) })));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', String(20 + columns * (width + gapX)));
  svg.setAttribute('height', String(20 + rows.length * (height + gapY)));
  for (const [name, definitionState] of Object.entries(definition.States)) {
    const from = position.get(name);
    for (const next of transitions(definitionState)) {
      const to = position.get(next);
      if (!from || !to) continue;
      const line = document.createElementNS(SVG, 'line');
      line.setAttribute('x1', String(from.x + width / 2));
      line.setAttribute('y1', String(from.y + height));
      line.setAttribute('x2', String(to.x + width / 2));
      line.setAttribute('y2', String(to.y));
      if (taken.has(`${name}→${next}`)) line.setAttribute('class', 'taken');
      svg.append(line);
    }
  }
  for (const [name, point] of position) {
    const group = document.createElementNS(SVG, 'g');
    const step = visited.get(name);
    group.setAttribute('class', step ? (step.error && !step.caught ? 'visited failed' : 'visited') : '');
    group.setAttribute('data-state', name);
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('x', String(point.x));
    rect.setAttribute('y', String(point.y));
    rect.setAttribute('width', String(width));
    rect.setAttribute('height', String(height));
    const text = document.createElementNS(SVG, 'text');
    text.setAttribute('x', String(point.x + 8));
    text.setAttribute('y', String(point.y + 19));
    text.textContent = name.length > 22 ? `${name.slice(0, 21)}…` : name;
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${name} (${definition.States[name]?.Type ?? '?'})`;
    group.append(title, rect, text);
    group.addEventListener('click', () => {
      const io = $('#state-io');
      io.hidden = false;
      io.textContent = step
        ? JSON.stringify({ state: name, input: step.input, output: step.output, error: step.error, retries: step.retries, caught: step.caught }, null, 2)
        : `${name}: not on this execution's path`;
    });
    svg.append(group);
  }
  $('#graph').replaceChildren(svg);
}

async function showExecution(id) {
  $('#execution-hint').hidden = true;
  state.definition ??= await getJson('/_local/definition');
  const executions = await getJson('/_local/console/executions');
  const summary = executions.filter((execution) => execution.eventId === id).at(-1);
  if (!summary) {
    $('#execution-summary').replaceChildren(el('p', { className: 'muted', text: `no execution yet for ${id}` }));
    $('#graph').replaceChildren();
    return;
  }
  const execution = await getJson(`/_local/execution?id=${encodeURIComponent(summary.executionArn)}`);
  const steps = execution.history ?? [];
  $('#execution-summary').replaceChildren(
    el('p', {}, el('strong', { text: execution.status, className: execution.status === 'SUCCEEDED' ? 'ok' : execution.status === 'FAILED' ? 'bad' : '' }),
      el('span', { text: ` · ${steps.length} states · ${execution.stopDate ? `${execution.stopDate - execution.startDate} ms` : 'running'} · ${execution.name}` })),
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
  box.replaceChildren(batch
    ? el('p', { text: `projected in a batch of ${batch.size} record${batch.size === 1 ? '' : 's'} at ${batch.time}: ${batch.durationMs} ms, ${batch.statements ?? '?'} SQL statements (sequence ${batch.firstSequenceNumber}…${batch.lastSequenceNumber})` })
    : el('p', { className: 'muted', text: 'not projected yet (the stream is polled four times a second)' }));
}

// ------------------------------------------------------------------ read model and trouble

function fill(table, rows, columns) {
  table.querySelector('tbody').replaceChildren(...rows.map((row) => el('tr', {}, ...columns.map((column) => el('td', { text: row[column] ?? '' })))));
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

async function refreshReadModel() {
  const model = await getJson('/_local/readmodel');
  fill($('#items'), model.items, ['itemid', 'totalordered', 'lastorderdate']);
  fill($('#months'), model.months.map((row) => ({ ...row, monthyear: `${MONTHS[Number(row.monthstart.slice(5, 7)) - 1]} ${row.monthstart.slice(0, 4)}` })), ['itemid', 'monthyear', 'monthlyordered']);
  fill($('#orders'), model.orders, ['orderid', 'itemid', 'quantity', 'orderdate']);
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
      const reason = body.localDiagnostics ? (body.localDiagnostics.recordErrors?.[0] ?? body.localDiagnostics.errorMessage ?? JSON.stringify(body.localDiagnostics)) : `${body['detail-type'] ?? ''} ${body.id ?? ''}`;
      parts.push(el('p', { text: `${body.requestContext?.condition ?? 'undeliverable'}: ${reason}` }));
    }
    parts.push(el('p', { className: 'todo', text: isProjection ? 'Fix the cause, then: npm run redrive -- --queue projection (or npm run rebuild-read-model)' : 'Fix the cause, then: npm run redrive -- --queue workflow' }));
  }
  if (trouble.checkpointError) {
    const failure = trouble.checkpointError;
    parts.push(el('h3', { text: `Stream checkpoint not saved since ${failure.since} (${failure.failures} tries)` }));
    parts.push(el('p', { className: 'bad', text: failure.message }));
    parts.push(el('p', { className: 'todo', text: 'Orders are still projected; a crash now replays them (harmlessly). Free disk space or file descriptors under the --data folder: the next poll saves it.' }));
  }
  if (trouble.denials.length > 0) {
    parts.push(el('h3', { text: `IAM denials: ${trouble.denials.length}` }));
    for (const denial of trouble.denials.slice(-10)) parts.push(el('p', { className: 'bad', text: `${denial.principal} may not ${denial.action} on ${denial.resource}: ${denial.missing}` }));
    parts.push(el('p', { className: 'todo', text: 'A statement the stacks lack: add it where the resource grants access (stacks/constructs), synthesize, and restart npm start.' }));
  }
  if (trouble.failedExecutions.length > 0) {
    parts.push(el('h3', { text: `Failed executions: ${trouble.failedExecutions.length}` }));
    for (const execution of trouble.failedExecutions.slice(-10)) parts.push(el('p', { text: `${execution.error}: ${execution.cause ?? ''}` }));
    parts.push(el('p', { className: 'todo', text: 'An execution fails only for unroutable input or an answer it could not publish; the event is in the bus archive on AWS (replay) and in /_local/events here.' }));
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
  $('#summary').textContent = `${status.endpoint} · bus ${status.eventBus.name} · IAM ${status.iam.mode} · read model ${status.readModel}`;
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
