// One Lambda execution environment: a worker thread that sees only the
// function's environment, imports its handler once (the cold start), and runs
// one invocation at a time, as a Lambda sandbox does. Plain JavaScript: it runs
// without the TypeScript loader.
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';

const { modulePath, exportName } = workerData;
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

parentPort.on('message', async ({ id, event, context }) => {
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
    parentPort.postMessage({ id, ok: true, payload: payload === undefined ? null : JSON.parse(JSON.stringify(payload)) });
  } catch (error) {
    parentPort.postMessage({ id, ok: false, error: errorPayload(error) });
  }
});
