import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_STREAM_MAPPING } from '../../../config/pipeline';
import { TableStream, type StreamRecord } from '../../../local/dynamodb';
import { LocalFunctions } from '../../../local/functions';
import { LocalQueue } from '../../../local/sqs';
import { StreamMapping } from '../../../local/stream-mapping';

// A projection that cannot reach its dependencies: every batch fails.
const codeDir = mkdtempSync(path.join(tmpdir(), 'stream-mapping-'));
writeFileSync(path.join(codeDir, 'index.mjs'), `export const handler = async () => { throw new Error('endpoint gone'); };`);

const functions = new LocalFunctions({
  region: 'eu-west-1',
  endpoint: 'http://127.0.0.1:1',
  credentials: () => ({ accessKeyId: 'ASIAROLEKEY', secretAccessKey: 'secret', sessionToken: 'token' }),
});
functions.register({
  name: 'project',
  arn: 'arn:aws:lambda:eu-west-1:000000000000:function:project',
  roleArn: 'arn:aws:iam::000000000000:role/r',
  codeDir,
  handler: 'index.handler',
  timeoutSeconds: 5,
  memoryMb: 128,
  environment: {},
  logGroup: '/aws/lambda/project',
  jsonLogs: true,
});

afterAll(() => functions.stop());

function record(stream: TableStream, index: number): StreamRecord {
  const key = { pk: { S: `order-${index}` } };
  return {
    eventID: `event-${index}`,
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'eu-west-1',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
      Keys: key,
      NewImage: key,
      SequenceNumber: String(100 + index).padStart(21, '0'),
      SizeBytes: 20,
      StreamViewType: 'NEW_IMAGE',
    },
    eventSourceARN: stream.arn,
  };
}

describe('stream mapping stop', () => {
  it('abandons a failing batch mid-retry, without checkpointing it or sending it to the destination', async () => {
    const stream = new TableStream('orders', 'NEW_IMAGE', 'eu-west-1', '000000000000');
    for (let index = 0; index < 64; index++) stream.append(record(stream, index));
    const destination = new LocalQueue('failures', 'http://127.0.0.1:1/000000000000/failures', 'arn:aws:sqs:eu-west-1:000000000000:failures');
    const checkpoints: string[] = [];
    // AWS's defaults: bisection, 10 retries backing off to seconds each. Stopping
    // used to wait for every split and retry: minutes for 64 failing records.
    const mapping = new StreamMapping({
      stream,
      functions,
      functionName: 'project',
      settings: DEFAULT_STREAM_MAPPING,
      destination,
      pollIntervalMs: 10,
      checkpoint: { read: () => undefined, write: (sequenceNumber) => checkpoints.push(sequenceNumber) },
    });
    mapping.start();
    while (mapping.status().invocations < 3) await new Promise((resolve) => setTimeout(resolve, 10));

    const started = Date.now();
    await mapping.stop();

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(mapping.status()).toMatchObject({ position: 0, pending: 64, busy: false, sentToDestination: 0 });
    expect(checkpoints).toEqual([]);
    expect(destination.size).toBe(0);
  });
});

describe('stream mapping checkpoint', () => {
  it('keeps projecting when the checkpoint cannot be written, reports it, and saves it once the write works again', async () => {
    // Prepare: a projection that succeeds, and a checkpoint file that fails like EMFILE for a while.
    const okDir = mkdtempSync(path.join(tmpdir(), 'stream-mapping-ok-'));
    writeFileSync(path.join(okDir, 'index.mjs'), 'export const handler = async () => ({ batchItemFailures: [] });');
    functions.register({
      name: 'project-ok',
      arn: 'arn:aws:lambda:eu-west-1:000000000000:function:project-ok',
      roleArn: 'arn:aws:iam::000000000000:role/r',
      codeDir: okDir,
      handler: 'index.handler',
      timeoutSeconds: 5,
      memoryMb: 128,
      environment: {},
      logGroup: '/aws/lambda/project-ok',
      jsonLogs: true,
    });
    const stream = new TableStream('orders-ok', 'NEW_IMAGE', 'eu-west-1', '000000000000');
    const saved: string[] = [];
    let broken = true;
    const mapping = new StreamMapping({
      stream,
      functions,
      functionName: 'project-ok',
      settings: { ...DEFAULT_STREAM_MAPPING, batchSize: 5 },
      destination: new LocalQueue('failures-ok', 'http://127.0.0.1:1/000000000000/failures-ok', 'arn:aws:sqs:eu-west-1:000000000000:failures-ok'),
      pollIntervalMs: 10,
      checkpoint: {
        read: () => undefined,
        write: (sequenceNumber) => {
          if (broken) throw Object.assign(new Error("EMFILE: too many open files, open 'checkpoint.json.tmp'"), { code: 'EMFILE' });
          saved.push(sequenceNumber);
        },
      },
    });
    mapping.start();
    try {
      // Act: records arrive while the checkpoint fails, then more after it works again.
      for (let index = 0; index < 12; index++) stream.append(record(stream, index));
      expect(await mapping.idle(10_000)).toBe(true);
      const failing = mapping.status();
      for (let index = 12; index < 20; index++) stream.append(record(stream, index));
      expect(await mapping.idle(10_000)).toBe(true);
      broken = false;
      for (let index = 20; index < 23; index++) stream.append(record(stream, index));
      expect(await mapping.idle(10_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));

      // Assess: nothing stopped; the failure was visible; the latest position is saved.
      expect(failing).toMatchObject({
        position: 12,
        pending: 0,
        checkpointError: { message: expect.stringContaining('EMFILE'), failures: expect.any(Number) },
      });
      expect(mapping.status()).toMatchObject({ position: 23, pending: 0 });
      expect(mapping.status().checkpointError).toBeUndefined();
      expect(saved[saved.length - 1]).toBe(String(100 + 22).padStart(21, '0'));
    } finally {
      await mapping.stop();
    }
  });
});

describe('stream mapping batch payload (AWS_LIMITS.streamBatchPayload)', () => {
  // A projection that notes what each invocation received: its event's bytes and its records' sequence numbers.
  const receivedDir = mkdtempSync(path.join(tmpdir(), 'stream-mapping-payload-'));
  writeFileSync(
    path.join(receivedDir, 'index.mjs'),
    `import { appendFileSync } from 'node:fs';
     export const handler = async (event) => {
       appendFileSync(process.env.RECEIVED, JSON.stringify({ bytes: Buffer.byteLength(JSON.stringify(event)), sequenceNumbers: event.Records.map((record) => record.dynamodb.SequenceNumber) }) + '\\n');
       return { batchItemFailures: [] };
     };`,
  );
  let run = 0;

  /** A record carrying `padding` characters in its image. */
  function padded(stream: TableStream, index: number, padding: number): StreamRecord {
    const base = record(stream, index);
    const image = { ...base.dynamodb.Keys, padding: { S: 'p'.repeat(padding) } };
    return { ...base, dynamodb: { ...base.dynamodb, NewImage: image } };
  }

  /** A mapping (batch size 1000) over a stream holding `build`'s records, into a function that notes what it receives in `received`. */
  function mappingOver(build: (stream: TableStream) => StreamRecord[], maximumBatchingWindowInSeconds = 0) {
    run++;
    const received = path.join(receivedDir, `received-${run}.jsonl`);
    writeFileSync(received, '');
    const name = `project-received-${run}`;
    functions.register({
      name,
      arn: `arn:aws:lambda:eu-west-1:000000000000:function:${name}`,
      roleArn: 'arn:aws:iam::000000000000:role/r',
      codeDir: receivedDir,
      handler: 'index.handler',
      timeoutSeconds: 30,
      memoryMb: 512,
      environment: { RECEIVED: received },
      logGroup: `/aws/lambda/${name}`,
      jsonLogs: true,
    });
    const stream = new TableStream(`orders-payload-${run}`, 'NEW_IMAGE', 'eu-west-1', '000000000000');
    for (const item of build(stream)) stream.append(item);
    const mapping = new StreamMapping({
      stream,
      functions,
      functionName: name,
      settings: { ...DEFAULT_STREAM_MAPPING, batchSize: 1000, maximumBatchingWindowInSeconds },
      destination: new LocalQueue(`failures-payload-${run}`, 'http://127.0.0.1:1/000000000000/f', 'arn:aws:sqs:eu-west-1:000000000000:f'),
      pollIntervalMs: 10,
    });
    const invocations = () =>
      readFileSync(received, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as { bytes: number; sequenceNumbers: string[] });
    return { mapping, invocations };
  }

  /** Runs a mapping over `build`'s records (all in the stream before it starts) and returns what each invocation received. */
  async function deliver(build: (stream: TableStream) => StreamRecord[]): Promise<{ bytes: number; sequenceNumbers: string[] }[]> {
    const { mapping, invocations } = mappingOver(build);
    mapping.start();
    try {
      expect(await mapping.idle(90_000)).toBe(true);
      expect(mapping.status()).toMatchObject({ pending: 0, sentToDestination: 0 });
    } finally {
      await mapping.stop();
    }
    return invocations();
  }

  /** Records whose event `{"Records":[...]}` is exactly `bytes` bytes: `count` - 1 alike, the last one padded to fit. */
  function recordsTotalling(stream: TableStream, count: number, bytes: number): StreamRecord[] {
    const eventBytes = (records: StreamRecord[]) => Buffer.byteLength(JSON.stringify({ Records: records }));
    const each = Math.floor(bytes / count) - 400;
    const records = Array.from({ length: count - 1 }, (_, index) => padded(stream, index, each));
    const withLast = [...records, padded(stream, count - 1, 0)];
    const shortBy = bytes - eventBytes(withLast);
    const result = [...records, padded(stream, count - 1, shortBy)];
    expect(eventBytes(result)).toBe(bytes);
    return result;
  }

  it('delivers records whose event is exactly 6,291,456 bytes in one invocation, and one byte more in two', async () => {
    // Act
    const atLimit = await deliver((stream) => recordsTotalling(stream, 20, 6_291_456));
    const pastLimit = await deliver((stream) => recordsTotalling(stream, 20, 6_291_457));

    // Assess
    expect(atLimit.map((invocation) => [invocation.bytes, invocation.sequenceNumbers.length])).toEqual([[6_291_456, 20]]);
    expect(pastLimit.map((invocation) => invocation.sequenceNumbers.length)).toEqual([19, 1]);
    expect(pastLimit.every((invocation) => invocation.bytes <= 6_291_456)).toBe(true);
  }, 120_000);

  it('sends a batch whose payload reached 6 MB at once, without waiting for the batching window', async () => {
    // Prepare: a 60 s window, and 8.1 MB of records in the stream.
    const { mapping, invocations } = mappingOver((stream) => Array.from({ length: 296 }, (_, index) => padded(stream, index, 28_000)), 60);

    // Act
    const started = Date.now();
    mapping.start();
    try {
      while (mapping.status().position === 0 && Date.now() - started < 30_000) await new Promise((resolve) => setTimeout(resolve, 20));
      const elapsed = Date.now() - started;

      // Assess: the full batch went at once; the rest waits for the window (or more records).
      expect(elapsed).toBeLessThan(30_000);
      expect(mapping.status()).toMatchObject({ invocations: 1, pending: expect.any(Number) });
      expect(mapping.status().pending).toBeGreaterThan(0);
      const [first] = invocations();
      expect(first?.bytes).toBeGreaterThan(6_291_456 - 30_000);
      expect(first?.bytes).toBeLessThanOrEqual(6_291_456);
    } finally {
      await mapping.stop();
    }
  }, 60_000);

  it('splits 296 records of 28 KB (8.1 MB) into invocations of at most 6 MB, each record once and in order', async () => {
    // Act
    const invocations = await deliver((stream) => Array.from({ length: 296 }, (_, index) => padded(stream, index, 28_000)));

    // Assess
    const total = invocations.reduce((sum, invocation) => sum + invocation.bytes, 0);
    expect(total).toBeGreaterThan(8_000_000);
    expect(invocations.length).toBeGreaterThanOrEqual(2);
    for (const invocation of invocations) expect(invocation.bytes).toBeLessThanOrEqual(6_291_456);
    expect(invocations.flatMap((invocation) => invocation.sequenceNumbers)).toEqual(
      Array.from({ length: 296 }, (_, index) => String(100 + index).padStart(21, '0')),
    );
  }, 120_000);
});
