/**
 * The alarm topic with the AWS CLI, as an operator would use it against the
 * local runtime (`npm start`): SNS speaks the query protocol, and the topic
 * policy and the topic's key are enforced. The operator (any key but a role's
 * or a client identity's) lists, reads and publishes; the producer client
 * identity and a function's role are refused with SNS's `AuthorizationError`,
 * and nothing of theirs is published. CloudWatch's own publish (the one the
 * topic policy allows) is proved in `__tests__/unit/local/sns.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { roleAccessKeyId } from '../../local/sessions';
import { installedAwsClis } from '../helpers/aws-cli';
import { budget } from '../helpers/budget';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';

const run = promisify(execFile);
let runtime: RunningLocalRuntime;
let clis: Map<string, string>;
let topicArn: string;
/** The init-schema function's role: its session exists from the start (the schema trigger invokes it), signed with the access key id its ARN names. */
let schemaRole: string;

beforeAll(
  async () => {
    // The refusals are denials on purpose.
    runtime = await startLocalRuntime({ allowDenials: true });
    clis = await installedAwsClis();
    const status = (await (await fetch(`${runtime.endpoint}/_local/status`)).json()) as { functions: { name: string; role: string }[] };
    schemaRole = status.functions.find((fn) => fn.name.endsWith('init-schema'))?.role ?? '';
  },
  budget({ runtimeStarts: 1, awsCliRuns: 2 }),
);

afterAll(async () => {
  await runtime?.stop();
});

/** Runs `aws sns <args>` with the first installed CLI, signed with `accessKeyId`: its exit code, parsed output and error text. */
async function sns(
  args: string[],
  accessKeyId = 'local',
  cli = [...clis.values()][0] as string,
): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: '', AWS_PAGER: '' };
  try {
    const { stdout } = await run(cli, ['--endpoint-url', runtime.endpoint, '--region', 'us-east-1', '--output', 'json', 'sns', ...args], {
      env,
      maxBuffer: 4 * 1024 * 1024,
    });
    return { code: 0, json: stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {}, stderr: '' };
  } catch (error) {
    const failure = error as { code: number; stderr: string };
    return { code: failure.code, json: {}, stderr: failure.stderr };
  }
}

/** What the runtime kept of the topic's notifications. */
async function notifications(): Promise<
  {
    messageId: string;
    publishedBy: string;
    message: string;
    subject?: string;
    attributes: unknown;
    subscription?: { protocol: string; endpoint: string; delivered: boolean };
  }[]
> {
  return (await (await fetch(`${runtime.endpoint}/_local/notifications`)).json()) as never;
}

describe('the alarm topic, with the AWS CLI', () => {
  it(
    "lists the stacks' alarm topic and answers its attributes: its policy (CloudWatch may publish) and its key",
    async () => {
      // Act
      const listed = await sns(['list-topics']);
      topicArn = ((listed.json.Topics as { TopicArn: string }[]) ?? []).map((topic) => topic.TopicArn).find((arn) => arn.endsWith('-alarms')) as string;
      const attributes = await sns(['get-topic-attributes', '--topic-arn', topicArn]);

      // Assess
      expect(topicArn).toBe('arn:aws:sns:us-east-1:000000000000:order-pipeline-local-alarms');
      const read = attributes.json.Attributes as Record<string, string>;
      const statement = (JSON.parse(read.Policy as string) as { Statement: Record<string, unknown>[] }).Statement[0];
      expect(statement).toMatchObject({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' } });
      expect([statement?.Action, statement?.Resource].flat()).toEqual(['sns:Publish', topicArn]);
      expect(read.KmsMasterKeyId).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
    },
    budget({ awsCliRuns: 2 }),
  );

  it(
    'publishes as the operator with every installed AWS CLI (v1 and v2), keeping subject, message and attributes',
    async () => {
      for (const [major, cli] of clis) {
        // Act
        const published = await sns(
          [
            'publish',
            '--topic-arn',
            topicArn,
            '--subject',
            `drill v${major}`,
            '--message',
            'the projection stopped (drill)',
            '--message-attributes',
            '{"severity":{"DataType":"String","StringValue":"high"}}',
          ],
          'local',
          cli,
        );

        // Assess
        expect(published.code).toBe(0);
        expect((await notifications()).find((notification) => notification.messageId === published.json.MessageId)).toMatchObject({
          publishedBy: 'arn:aws:iam::000000000000:root',
          subject: `drill v${major}`,
          message: 'the projection stopped (drill)',
          attributes: { severity: { DataType: 'String', StringValue: 'high' } },
        });
      }
    },
    budget({ awsCliRuns: 4 }),
  );

  it.each([
    ['the producer client identity', () => 'producer', ':user/order-pipeline-local-producer'],
    ["the init-schema function's role", () => roleAccessKeyId(schemaRole), ':role/'],
  ])(
    'refuses a publish signed as %s with AuthorizationError (403), publishing nothing',
    async (_who, key, principal) => {
      // Prepare
      const before = (await notifications()).length;

      // Act
      const refused = await sns(['publish', '--topic-arn', topicArn, '--message', 'forged alarm'], key());

      // Assess
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('An error occurred (AuthorizationError) when calling the Publish operation');
      expect(refused.stderr).toContain(`is not authorized to perform: sns:Publish on resource: ${topicArn}`);
      expect((await notifications()).length).toBe(before);
      const denials = (await (await fetch(`${runtime.endpoint}/_local/denials`)).json()) as { principal: string; action: string; resource: string }[];
      expect(denials.at(-1)).toMatchObject({ principal: expect.stringContaining(principal), action: 'sns:Publish', resource: topicArn });
    },
    budget({ awsCliRuns: 1 }),
  );

  it(
    'creates a topic, subscribes an email address, and keeps what the subscription would be sent',
    async () => {
      // Act
      const created = await sns(['create-topic', '--name', 'local-drill']);
      const again = await sns(['create-topic', '--name', 'local-drill']);
      const subscribed = await sns([
        'subscribe',
        '--topic-arn',
        created.json.TopicArn as string,
        '--protocol',
        'email',
        '--notification-endpoint',
        'oncall@example.com',
      ]);
      const listed = await sns(['list-subscriptions-by-topic', '--topic-arn', created.json.TopicArn as string]);
      const published = await sns(['publish', '--topic-arn', created.json.TopicArn as string, '--message', 'hello on-call']);

      // Assess
      expect(created.json.TopicArn).toBe('arn:aws:sns:us-east-1:000000000000:local-drill');
      expect(again.json.TopicArn).toBe(created.json.TopicArn);
      expect(listed.json.Subscriptions).toEqual([
        expect.objectContaining({ SubscriptionArn: subscribed.json.SubscriptionArn, Protocol: 'email', Endpoint: 'oncall@example.com' }),
      ]);
      expect((await notifications()).find((notification) => notification.messageId === published.json.MessageId)).toMatchObject({
        message: 'hello on-call',
        subscription: { protocol: 'email', endpoint: 'oncall@example.com', delivered: false },
      });
    },
    budget({ awsCliRuns: 5 }),
  );

  it(
    'refuses what SNS refuses: a topic name with a dot, a message over 256 KB, a topic that does not exist',
    async () => {
      // Prepare: a message of 262,145 bytes, read from a file (one argument is limited to 128 KiB).
      const file = path.join(mkdtempSync(path.join(tmpdir(), 'sns-')), 'message.txt');
      writeFileSync(file, 'x'.repeat(262_145));

      // Act
      const badName = await sns(['create-topic', '--name', 'alarms.fifo']);
      const tooLong = await sns(['publish', '--topic-arn', topicArn, '--message', `file://${file}`]);
      const missing = await sns(['publish', '--topic-arn', 'arn:aws:sns:us-east-1:000000000000:nope', '--message', 'x']);

      // Assess
      expect(badName.stderr).toContain('(InvalidParameter) when calling the CreateTopic operation: Invalid parameter: Topic Name');
      expect(tooLong.stderr).toContain('(InvalidParameter) when calling the Publish operation: Invalid parameter: Message too long');
      expect(missing.stderr).toContain('(NotFound) when calling the Publish operation: Topic does not exist');
    },
    budget({ awsCliRuns: 3 }),
  );
});
