/**
 * SNS as the local runtime serves it (`local/sns.ts`), bound as the runtime
 * binds it from the real synthesized `local` stacks, its calls judged by the
 * real IAM gate built from every service's synthesized policies: the alarm
 * topic takes what its topic policy allows (CloudWatch, for an alarm of the
 * pipeline, in this account) and nothing else, and the topic's key is
 * checked on every publish. The AWS CLI's view of the same is in
 * `__tests__/integration/sns.mysql.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AccessDeniedError, AwsError, TaskError, UnsupportedTerraformError } from '../../../local/errors';
import { IamGate, policySet, statements, type SynthesizedPolicy } from '../../../local/iam';
import type { Integration, Parts, RuleTarget } from '../../../local/service';
import { LOCAL_TYPES, SERVICES } from '../../../local/services';
import { snsService } from '../../../local/sns';
import { sqsService } from '../../../local/sqs';
import { readSynthesizedStacks, TerraformModel } from '../../../local/terraform';
import { bindForTest, startTestEndpoint, type TestEndpoint } from '../../helpers/endpoint';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const CLOUDWATCH = { kind: 'service', service: 'cloudwatch.amazonaws.com' } as const;

let endpoint: TestEndpoint;
let model: TerraformModel;
let policies: SynthesizedPolicy[];
let gate: IamGate;
let sns: Parts['sns'];
let integration: Integration;
/** The alarm topic's ARN, and an alarm of the stacks that notifies it. */
let topicArn: string;
let alarmArn: string;

beforeAll(async () => {
  const { synthesizeLocal } = await import('../../../local/synth');
  endpoint = await startTestEndpoint();
  const context = { region: REGION, account: ACCOUNT, endpoint: endpoint.url, database: { host: '127.0.0.1', port: 3306, name: 'unused' } };
  model = new TerraformModel(readSynthesizedStacks(await synthesizeLocal()), context, LOCAL_TYPES);
  policies = SERVICES.flatMap((service) => service.policies?.(model) ?? []);
  gate = new IamGate({ account: ACCOUNT, mode: 'enforce', policies: policySet(policies) });
  const core = { model, gate, region: REGION, account: ACCOUNT };
  const { provided } = await bindForTest(sqsService, endpoint, {}, core);
  const bound = await bindForTest(snsService, endpoint, { sqs: provided.sqs as Parts['sqs'] }, core);
  sns = bound.provided.sns as Parts['sns'];
  integration = bound.integrations.get('sns') as Integration;
  const alarm = model.resources('aws_cloudwatch_metric_alarm')[0]!;
  topicArn = (model.field(alarm, 'alarm_actions') as string[])[0]!;
  alarmArn = `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${model.string(alarm, 'alarm_name')}`;
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
});

/** The error a publish fails with, or undefined when it succeeds. */
async function refusal(publish: Promise<unknown>): Promise<Error | undefined> {
  return publish.then(
    () => undefined,
    (error: Error) => error,
  );
}

describe('the local SNS, from the synthesized stacks', () => {
  it("serves the stacks' alarm topic, the one their alarms notify, with its customer-managed key and its policy", () => {
    const topic = sns.topic(topicArn);

    expect(topic.name).toMatch(/-alarms$/);
    expect(topic.keyArn).toMatch(/^arn:aws:kms:us-east-1:000000000000:key\//);
    expect(policies.filter((policy) => policy.target === topicArn).map((policy) => policy.address)).toEqual([expect.stringMatching(/aws_sns_topic_policy\./)]);
  });

  it("lets CloudWatch publish an alarm of the pipeline's, and keeps the notification", async () => {
    // Act
    const messageId = await sns.publish(
      CLOUDWATCH,
      topicArn,
      { message: '{"AlarmName":"x","NewStateValue":"ALARM"}', subject: 'ALARM' },
      { 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT },
    );

    // Assess
    expect(sns.notifications().find((notification) => notification.messageId === messageId)).toMatchObject({
      topicArn,
      publishedBy: 'cloudwatch.amazonaws.com',
      subject: 'ALARM',
    });
    expect(gate.denials()).toEqual([]);
  });

  it.each([
    [
      "CloudWatch, for an alarm that is not the pipeline's",
      CLOUDWATCH,
      { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:someone-elses-alarm`, 'aws:SourceAccount': ACCOUNT },
    ],
    [
      'CloudWatch, for another account',
      CLOUDWATCH,
      { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:111122223333:alarm:order-pipeline-local-x', 'aws:SourceAccount': '111122223333' },
    ],
    ['EventBridge', { kind: 'service', service: 'events.amazonaws.com' } as const, { 'aws:SourceAccount': ACCOUNT }],
  ])('refuses a publish from %s: the topic policy does not allow it', async (_who, principal, context) => {
    // Prepare
    gate.clearDenials();
    const before = sns.notifications().length;

    // Act
    const refused = await refusal(sns.publish(principal, topicArn, { message: 'forged alarm' }, context));

    // Assess
    expect(refused).toBeInstanceOf(AccessDeniedError);
    expect((refused as AccessDeniedError).denial).toMatchObject({ principal: principal.service, action: 'sns:Publish', resource: topicArn });
    expect(sns.notifications().length).toBe(before);
  });

  it("refuses a publish from a role of the pipeline: no identity policy and no statement of the topic's allows it", async () => {
    const projection = model.resources('aws_lambda_function').find((fn) => model.string(fn, 'function_name').endsWith('project-orders'))!;
    const role = model.string(projection, 'role');

    const refused = await refusal(sns.publish({ kind: 'role', arn: role }, topicArn, { message: 'from a function' }));

    expect((refused as AccessDeniedError).denial).toMatchObject({ principal: role, action: 'sns:Publish' });
  });

  it("checks the topic's key: without the key policy's statement for CloudWatch, the alarm's publish is refused at kms:GenerateDataKey", async () => {
    // Prepare: the key policy without its CloudWatch statement.
    const withoutStatement = policies.map((policy) => ({
      ...policy,
      document: {
        ...policy.document,
        Statement: statements(policy.document).filter((statement) => (statement as { Sid?: string }).Sid !== 'CloudWatchAlarmsUseTopicKey'),
      },
    }));
    gate.replacePolicies(policySet(withoutStatement));
    try {
      // Act
      const refused = await refusal(sns.publish(CLOUDWATCH, topicArn, { message: 'alarm' }, { 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT }));

      // Assess
      expect((refused as AccessDeniedError).denial).toMatchObject({
        principal: 'cloudwatch.amazonaws.com',
        action: 'kms:GenerateDataKey',
        resource: sns.topic(topicArn).keyArn,
      });
    } finally {
      gate.replacePolicies(policySet(policies));
    }
  });

  it('refuses a message and attributes of 262,145 bytes with InvalidParameter, and takes 262,144', async () => {
    const attributes = { source: { DataType: 'String', StringValue: 'alarm' } };
    // Two-byte characters: a limit counted in characters would take far more.
    const room = 262_144 - Buffer.byteLength('sourceStringalarm');
    const atLimit = 'é'.repeat(Math.floor(room / 2)) + 'x'.repeat(room % 2);
    expect(Buffer.byteLength(atLimit) + Buffer.byteLength('sourceStringalarm')).toBe(262_144);

    const taken = await sns.publish({ kind: 'account' }, topicArn, { message: atLimit, attributes });
    const refused = await refusal(sns.publish({ kind: 'account' }, topicArn, { message: `${atLimit}x`, attributes }));

    expect(taken).toMatch(/^[0-9a-f-]{36}$/);
    expect(refused).toBeInstanceOf(AwsError);
    expect(refused).toMatchObject({ type: 'InvalidParameter', status: 400, message: expect.stringContaining('Message too long') });
  });

  it('serves the one dispatch map: a rule target only for a topic of the stacks, delivering under the topic policy; the sns:publish Task names its failures as Step Functions does', async () => {
    // Prepare
    const ruleTarget = (arn: string): RuleTarget => ({
      resource: { stack: 'monitoring', type: 'aws_cloudwatch_event_target', name: 't', address: 'monitoring/aws_cloudwatch_event_target.t', body: {} },
      arn,
      ruleName: 'r',
      ruleArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/r`,
    });
    const publishTask = integration.task?.('publish', { kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/order-pipeline-local-workflow` });

    // Act
    const unknownTopic = () => integration.target?.(ruleTarget(`arn:aws:sns:${REGION}:${ACCOUNT}:nope`));
    const delivery = integration.target?.(ruleTarget(topicArn));
    const delivered = await refusal(
      delivery!({
        version: '0',
        id: 'e',
        'detail-type': 'x',
        source: 's',
        account: ACCOUNT,
        time: '2022-10-13T19:00:00Z',
        region: REGION,
        resources: [],
        detail: {},
      }),
    );
    const denied = await refusal(publishTask!({ TopicArn: topicArn, Message: { alarm: true } }));
    const missing = await refusal(publishTask!({ TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:nope`, Message: 'x' }));

    // Assess
    expect(unknownTopic).toThrow(UnsupportedTerraformError);
    expect((delivered as AccessDeniedError).denial).toMatchObject({ principal: 'events.amazonaws.com', action: 'sns:Publish' });
    expect(denied).toBeInstanceOf(TaskError);
    expect(denied).toMatchObject({ name: 'SNS.AuthorizationErrorException', message: expect.stringContaining('Error Code: AuthorizationError') });
    expect(missing).toMatchObject({ name: 'SNS.NotFoundException' });
    expect(integration.task?.('subscribe', CLOUDWATCH)).toBeUndefined();
  });
});
