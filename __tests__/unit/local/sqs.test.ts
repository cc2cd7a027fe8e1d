/**
 * The local SQS refuses what SQS refuses (`AWS_LIMITS` in local/aws-limits.ts),
 * proven with the AWS SDK's SQS client over HTTP: the error's name is AWS's code.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InvalidMessageContents, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LocalSqs } from '../../../local/sqs';
import { clientOptions, startTestEndpoint, type TestEndpoint } from '../../helpers/endpoint';
import { JSON_PROTOCOL } from '../../../local/protocols/json';

let endpoint: TestEndpoint;
let client: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  endpoint = await startTestEndpoint();
  const sqs = new LocalSqs({ endpoint: endpoint.url, region: 'us-east-1', account: '000000000000' });
  queueUrl = sqs.create('limits').url;
  endpoint.router.serve(JSON_PROTOCOL, sqs.service());
  client = new SQSClient(clientOptions(endpoint));
});

afterAll(async () => {
  client?.destroy();
  await endpoint?.close();
});

/** The error a send fails with (undefined when it succeeds). */
async function sendError(
  body: string,
  delaySeconds?: number,
): Promise<(Error & { $metadata?: { httpStatusCode?: number }; Code?: string; Type?: string }) | undefined> {
  try {
    await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}) }));
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/** A body of exactly `bytes` bytes of UTF-8, mostly 3-byte characters: a limit counted in characters would take far more. */
const bodyOf = (bytes: number) => '€'.repeat(Math.floor(bytes / 3)) + 'a'.repeat(bytes % 3);

describe('SQS SendMessage limits', () => {
  it('takes a body of 1,048,576 bytes of UTF-8 and refuses 1,048,577 with InvalidParameterValue', async () => {
    // Prepare
    const atLimit = bodyOf(1_048_576);
    const pastLimit = bodyOf(1_048_577);
    expect([Buffer.byteLength(atLimit), Buffer.byteLength(pastLimit)]).toEqual([1_048_576, 1_048_577]);

    // Act
    const accepted = await sendError(atLimit);
    const refused = await sendError(pastLimit);

    // Assess
    expect(accepted).toBeUndefined();
    expect(refused).toMatchObject({ name: 'InvalidParameterValue', Code: 'InvalidParameterValue', Type: 'Sender', $metadata: { httpStatusCode: 400 } });
    expect(refused?.message).toBe(
      'One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes. (The message body is 1048577 bytes.)',
    );
  }, 30_000);

  it('takes DelaySeconds 0 to 900, delaying the message, and refuses -1 and 901 with InvalidParameterValue', async () => {
    // Act
    const inRange = [await sendError('delayed', 900), await sendError('at once', 0)];
    const outOfRange = [await sendError('too late', 901), await sendError('too early', -1)];
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));

    // Assess
    expect(inRange).toEqual([undefined, undefined]);
    expect(outOfRange.map((error) => ({ name: error?.name, message: error?.message }))).toEqual([
      { name: 'InvalidParameterValue', message: 'Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.' },
      { name: 'InvalidParameterValue', message: 'Value -1 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.' },
    ]);
    const bodies = (received.Messages ?? []).map((message) => message.Body);
    expect(bodies).toContain('at once');
    expect(bodies).not.toContain('delayed');
  });

  it.each([
    ['tab, line feed, carriage return', '\t\n\r'],
    ['#x20 and #xD7FF', ' \ud7ff'],
    ['#xE000 and #xFFFD', '\ue000\ufffd'],
    ['#x10000 and #x10FFFF', '\u{10000}\u{10ffff}'],
  ])('takes a body of the allowed characters (%s)', async (_label, body) => {
    expect(await sendError(`ok ${body} ok`)).toBeUndefined();
  });

  it.each([
    ['#x0', '\u0000'],
    ['#x8', '\u0008'],
    ['#xB', '\u000b'],
    ['#x1F', '\u001f'],
    ['#xD800', '\ud800'],
    ['#xFFFE', '\ufffe'],
    ['#xFFFF', '\uffff'],
  ])('refuses a body holding %s with InvalidMessageContents', async (hex, char) => {
    // Act
    const refused = await sendError(`before ${char} after`);

    // Assess
    expect(refused).toBeInstanceOf(InvalidMessageContents);
    expect(refused).toMatchObject({ name: 'InvalidMessageContents', $metadata: { httpStatusCode: 400 } });
    expect(refused?.message).toBe(
      `Invalid binary character '${hex}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].`,
    );
  });
});
