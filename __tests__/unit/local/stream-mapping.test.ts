import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
