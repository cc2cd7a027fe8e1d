/**
 * Hostile requests against the local runtime (loopback only, bounded): none
 * may take the process down, each gets its own error response, and PutEvents
 * fails per entry as AWS does. The runtime must still answer at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForResponse, type Target } from '../../clients/pipeline-client';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { resourceNames } from '../../config/pipeline';
import { budget } from '../helpers/budget';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let runtime: RunningLocalRuntime;
let target: Target;

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
    target = { kind: 'local', bus: runtime.busName, endpoint: runtime.endpoint };
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await runtime?.stop();
});

/** A raw HTTP request: the path is sent as is (no URL normalisation). */
function raw(
  method: string,
  rawPath: string,
  headers: Record<string, string> = {},
  body: string | Buffer = '',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(runtime.endpoint);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: hostname, port, method, path: rawPath, headers: { 'content-length': Buffer.byteLength(body), ...headers } },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const putEvents = (entries: string) =>
  raw('POST', '/', { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' }, `{"Entries":${entries}}`);
const entry = (orderId: string, time = '"2022-10-13T19:00:00Z"') =>
  `{"EventBusName":"${runtime.busName}","Source":"orderPipeline","DetailType":"orderCommand","Time":${time},"Detail":${JSON.stringify(JSON.stringify({ command: 'createOrder', orderId, items: [{ itemid: 'z1', quantity: 1 }] }))}}`;

describe('hostile requests', () => {
  it('disconnects a server-sent-events client that never reads, instead of keeping every event for it', async () => {
    // Prepare: a client that asks for the stream and then reads nothing.
    const { hostname, port } = new URL(runtime.endpoint);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /_local/stream HTTP/1.1\r\nHost: local\r\n\r\n');
    socket.pause();
    const closed = new Promise((resolve) => socket.once('close', () => resolve('closed')));
    const big = JSON.stringify({ padding: 'p'.repeat(200 * 1024) });

    // Act: 80 events of 200 KB (16 MB) pass the bus, and so the stream.
    for (let index = 0; index < 80; index++) {
      const response = await raw(
        'POST',
        '/',
        { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' },
        JSON.stringify({ Entries: [{ EventBusName: runtime.busName, Source: 'slow-client-test', DetailType: 'padding', Detail: big }] }),
      );
      expect(response.status).toBe(200);
    }
    const clients = (await (await fetch(`${runtime.endpoint}/_local/stream/clients`)).json()) as { disconnectedSlow: number; maxBufferedBytes: number };
    socket.resume();

    // Assess
    expect(clients.disconnectedSlow).toBeGreaterThanOrEqual(1);
    expect(await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve('open'), 5_000))])).toBe('closed');
    socket.destroy();
  }, 60_000);

  it.each(['StartSyncExecution', 'StartExecution'])('answers %s with an input nested 10,000 deep at once, leaving nothing running', async (operation) => {
    const started = Date.now();
    const input = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const response = await raw(
      'POST',
      '/',
      { 'x-amz-target': `AWSStepFunctions.${operation}`, 'content-type': 'application/x-amz-json-1.0' },
      JSON.stringify({ stateMachineArn: runtime.stateMachineArn, input }),
    );
    expect({ status: response.status, type: response.headers['x-amzn-errortype'] }).toEqual({ status: 400, type: 'InvalidExecutionInput' });
    const idle = (await (await fetch(`${runtime.endpoint}/_local/idle`)).json()) as { idle: boolean };
    expect(idle.idle).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'putEvents', 'Put-Events', ''])(
    'answers X-Amz-Target AWSEvents.%s with 400 UnknownOperationException',
    async (operation) => {
      for (const prefix of ['AWSEvents', 'DynamoDB_20120810', 'AWSStepFunctions', 'secretsmanager']) {
        const response = await raw('POST', '/', { 'x-amz-target': `${prefix}.${operation}`, 'content-type': 'application/x-amz-json-1.1' }, '{}');
        expect({ target: `${prefix}.${operation}`, status: response.status, type: response.headers['x-amzn-errortype'] }).toEqual({
          target: `${prefix}.${operation}`,
          status: 400,
          type: 'UnknownOperationException',
        });
      }
    },
  );

  it.each(['//', '///', '//@', '//%', '/%E0%A4%A'])('answers the path %s with an error response, not a crash', async (rawPath) => {
    const response = await raw('GET', rawPath);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
  });

  it('answers a malformed function name in the invoke path with 400', async () => {
    const response = await raw('POST', '/2015-03-31/functions/%E0%A4%A/invocations', {}, '{}');
    expect(response.status).toBe(400);
  });

  it('answers an asynchronous invoke of a missing function with ResourceNotFoundException (404)', async () => {
    const response = await raw('POST', '/2015-03-31/functions/nope/invocations', { 'x-amz-invocation-type': 'Event' }, '{}');
    expect({ status: response.status, type: response.headers['x-amzn-errortype'] }).toEqual({ status: 404, type: 'ResourceNotFoundException' });
  });

  it('fails an entry with an impossible Time on its own, and delivers its valid neighbour once', async () => {
    // Act
    const response = await putEvents(
      `[${entry('hostile-time-1', '10000000000000')}, ${entry('hostile-time-2')}, ${entry('hostile-time-3', '"2022-02-30T00:00:00Z"')}]`,
    );

    // Assess
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body) as { FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string }[] };
    expect(body.FailedEntryCount).toBe(2);
    expect(body.Entries.map((item) => item.ErrorCode ?? 'ok')).toEqual(['InvalidArgument', 'ok', 'InvalidArgument']);
    const answer = await waitForResponse(target, body.Entries[1]?.EventId as string, 15_000);
    expect(answer.detail).toMatchObject({ orderid: 'hostile-time-2', commandStatus: 'orderCreated' });
  });

  it('fails a null entry on its own and keeps its valid neighbour', async () => {
    const response = await putEvents(`[${entry('hostile-null-1')}, null]`);
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body) as { FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string }[] };
    expect(body.FailedEntryCount).toBe(1);
    expect(body.Entries[0]?.EventId).toEqual(expect.any(String));
    expect(body.Entries[1]?.ErrorCode).toBe('InvalidArgument');
  });

  it('refuses a request member that is not a string with SerializationException, never reading it as "[object Object]"', async () => {
    // Prepare: JSON-protocol calls with an object where the API takes a string; the logs call signed as the consumer identity, so it is authorized on the member.
    const json = (target: string, version: '1.0' | '1.1', body: unknown, accessKey?: string) =>
      raw(
        'POST',
        '/',
        {
          'x-amz-target': target,
          'content-type': `application/x-amz-json-${version}`,
          ...(accessKey
            ? { authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/20240101/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0` }
            : {}),
        },
        JSON.stringify(body),
      );

    // Act
    const answers = await Promise.all([
      putEvents(`[{"EventBusName":{"name":"${runtime.busName}"},"Source":"orderPipeline","DetailType":"orderCommand","Detail":"{}"}]`),
      putEvents(`[${entry('hostile-typed-1')}, {"Source":"orderPipeline","DetailType":"orderCommand","Detail":{"command":"createOrder"}}]`),
      putEvents(`[{"Source":123,"DetailType":"orderCommand","Detail":"{}"}]`),
      putEvents(`[{"Source":"orderPipeline","DetailType":["orderCommand"],"Detail":"{}"}]`),
      json('AWSStepFunctions.StartExecution', '1.0', { stateMachineArn: runtime.stateMachineArn, input: { command: 'createOrder' } }),
      json('AWSStepFunctions.StartSyncExecution', '1.0', { stateMachineArn: runtime.stateMachineArn, input: '{}', name: ['n'] }),
      json('Logs_20140328.FilterLogEvents', '1.1', { logGroupName: { name: '/aws/events/order-pipeline-local-responses' } }, 'consumer'),
    ]);

    // Assess
    for (const answer of answers) {
      expect({ status: answer.status, type: answer.headers['x-amzn-errortype'], body: answer.body }).toEqual({
        status: 400,
        type: 'SerializationException',
        body: expect.not.stringContaining('[object Object]') as unknown,
      });
    }
    expect(answers.map((answer) => (JSON.parse(answer.body) as { message: string }).message)).toEqual([
      'Entries[0].EventBusName must be a string, got an object',
      'Entries[1].Detail must be a string, got an object',
      'Entries[0].Source must be a string, got a number',
      'Entries[0].DetailType must be a string, got an array',
      'input must be a string, got an object',
      'name must be a string, got an array',
      'logGroupName must be a string, got an object',
    ]);
  });

  it.each([
    ['bytes FF FE', [0xff, 0xfe]],
    ['a lone continuation byte', [0x80]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['a character cut short', [0xe2, 0x82]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('refuses a body that is not UTF-8 (%s) with SerializationException, storing nothing, and takes real UTF-8', async (_case, bytes) => {
    // Prepare: the same entry with those bytes inside its item id, and with valid multi-byte characters there.
    const [before, after] = JSON.stringify({
      Entries: [
        {
          EventBusName: runtime.busName,
          Source: 'orderPipeline',
          DetailType: 'orderCommand',
          Detail: JSON.stringify({ command: 'createOrder', orderId: `utf8-${bytes.join('-')}`, items: [{ itemid: 'a<MIDDLE>b', quantity: 1 }] }),
        },
      ],
    }).split('<MIDDLE>') as [string, string];
    const body = (middle: Buffer) => Buffer.concat([Buffer.from(before), middle, Buffer.from(after)]);
    const headers = { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' };

    // Act
    const refused = await raw('POST', '/', headers, body(Buffer.from(bytes)));
    const taken = await raw('POST', '/', headers, body(Buffer.from('é€😀', 'utf8')));

    // Assess
    expect({ status: refused.status, type: refused.headers['x-amzn-errortype'], message: (JSON.parse(refused.body) as { message: string }).message }).toEqual({
      status: 400,
      type: 'SerializationException',
      message: 'the request body is not valid UTF-8',
    });
    expect(JSON.parse(taken.body)).toMatchObject({ FailedEntryCount: 0 });
  });

  it("refuses bytes that are not UTF-8 in the other protocols' bodies too: a form's percent-escapes and raw bytes (SNS), a Lambda payload", async () => {
    // Prepare
    const topic = `arn:aws:sns:us-east-1:000000000000:${resourceNames('local').prefix}-alarms`;
    const form = (message: Buffer) =>
      raw(
        'POST',
        '/',
        { 'content-type': 'application/x-www-form-urlencoded' },
        Buffer.concat([Buffer.from(`Action=Publish&Version=2010-03-31&TopicArn=${encodeURIComponent(topic)}&Message=`), message]),
      );

    // Act
    const escaped = await form(Buffer.from('drill%FF%FE'));
    const rawBytes = await form(Buffer.from([0x64, 0xff, 0x72]));
    const valid = await form(Buffer.from(encodeURIComponent('drill é 😀')));
    const invoke = await raw(
      'POST',
      `/2015-03-31/functions/${resourceNames('local').function('itemsSalesReport')}/invocations`,
      {},
      Buffer.from([0x7b, 0xff, 0x7d]),
    );

    // Assess
    for (const refused of [escaped, rawBytes])
      expect({ status: refused.status, body: refused.body }).toEqual({ status: 400, body: expect.stringContaining('MalformedQueryString') });
    expect(valid.status).toBe(200);
    expect({ status: invoke.status, type: invoke.headers['x-amzn-errortype'] }).toEqual({ status: 400, type: 'InvalidRequestContentException' });
  });

  it('logs a refused orderId holding a newline JSON-escaped, on one line', async () => {
    // Act
    const response = await putEvents(
      `[{"EventBusName":"${runtime.busName}","Source":"orderPipeline","DetailType":"orderCommand","Detail":${JSON.stringify(JSON.stringify({ command: 'createOrder', orderId: 'evil\n← forged line', items: [] }))}}]`,
    );
    const id = (JSON.parse(response.body) as { Entries: { EventId: string }[] }).Entries[0]?.EventId as string;
    await waitForResponse(target, id, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Assess
    expect(runtime.output()).not.toMatch(/^← forged line/m);
  });

  it('still answers, with every event readable', async () => {
    const response = await raw('GET', '/_local/events');
    expect(response.status).toBe(200);
    expect(Array.isArray(JSON.parse(response.body))).toBe(true);
    expect(runtime.process.exitCode).toBeNull();
  });
});

describe('start-up errors', () => {
  const start = (dbUrl: string) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--port', '0', '--db-url', dbUrl], {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });

  it(
    'never prints the password of a DB_URL it cannot parse',
    async () => {
      const { code, output } = await start('mysql://user:pa#ss@host/db');
      expect(code).toBe(1);
      expect(output).toContain('DB_URL is not a URL');
      expect(output).not.toContain('pa#ss');
    },
    budget({ runtimeStarts: 1 }),
  );

  it(
    'says in one line what to do when DB_URL does not answer',
    async () => {
      const { code, output } = await start('mysql://root:secret@127.0.0.1:1/orders');
      expect(code).toBe(1);
      expect(output.trim().split('\n')).toEqual([expect.stringMatching(/^the local pipeline could not start: .*not usable.*point DB_URL/)]);
      expect(output).not.toContain('secret');
    },
    budget({ runtimeStarts: 1 }),
  );
});
