// One Lambda execution environment: a worker thread that sees only the
// function's environment, imports its handler once (the cold start), and runs
// one invocation at a time, as a Lambda sandbox does. Plain JavaScript: it runs
// without the TypeScript loader.
//
// Between invocations the environment is frozen, as Lambda freezes it once
// the handler has returned: the thread blocks on `freeze` (shared with the
// service) until the next invocation thaws it, so work the handler left
// running (a promise it did not await, a transaction a timeout abandoned)
// makes no progress meanwhile and resumes on the next invocation.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const { modulePath, exportName, freeze } = workerData;
/** freeze[0]: FROZEN while no invocation is running; the service sets THAWED and notifies with the next one. */
const gate = new Int32Array(freeze);
const FROZEN = 0;
let handler;

async function load() {
  if (!handler) {
    const module = await import(pathToFileURL(modulePath).href);
    handler = module[exportName];
    if (typeof handler !== 'function') throw new Error(`Runtime.HandlerNotFound: ${process.env._HANDLER} is undefined or not exported`);
  }
  return handler;
}

function errorPayload(error) {
  const failure = error instanceof Error ? error : new Error(String(error));
  const recordErrors = failure.recordErrors;
  return {
    errorType: failure.name || 'Error',
    errorMessage: failure.message,
    trace: (failure.stack ?? '').split('\n'),
    ...(Array.isArray(recordErrors)
      ? { recordErrors: recordErrors.map((item) => (item instanceof Error ? `${item.name}: ${item.message}` : String(item))) }
      : {}),
  };
}

/** Posts an invocation's result, then freezes once the event loop has taken one more turn (as the runtime's calls to post the result and ask for the next event take). */
function reply(message) {
  Atomics.store(gate, 0, FROZEN);
  parentPort.postMessage(message);
  setImmediate(() => Atomics.wait(gate, 0, FROZEN));
}

parentPort.on('message', async ({ id, event, context }) => {
  // Thawed: one turn of the event loop before the handler, so what happened while frozen
  // (a connection the server closed, a timer now due) is seen first, as on Lambda.
  await new Promise((resolve) => setImmediate(resolve));
  const deadline = context.deadline;
  const lambdaContext = {
    ...context,
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const run = await load();
    const payload = await run(event, lambdaContext);
    // Lambda serialises the response: undefined becomes null.
    reply({ id, ok: true, payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)) });
  } catch (error) {
    reply({ id, ok: false, error: errorPayload(error) });
  }
});
