/**
 * The bus, its archive and the state machine are encrypted with the project's
 * customer managed key, and the key is usable exactly as AWS documents it:
 * EventBridge (its service principal) for this bus only, the workflow's
 * execution role for this state machine only, CloudWatch Logs' delivery for
 * the workflow's logs. Proven with the IAM evaluator the local runtime
 * enforces, over the synthesized key policy and roles.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html
 * https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS } from '../../config/environments';
import { resourceNames } from '../../config/pipeline';
import { IamGate, type IamRequest, type Principal } from '../../local/iam';
import { policySet } from '../../local/iam';
import { LOCAL_TYPES } from '../../local/services';
import { synthesizedPolicies } from '../../local/synthesized-policies';
import { readSynthesizedStacks, TerraformModel } from '../../local/terraform';
import { resource, synthesize, type SynthesizedApp } from '../helpers/synth';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const names = resourceNames('dev');
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${names.eventBus}`;
const STATE_MACHINE = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${names.stateMachine}`;

let app: SynthesizedApp;
let model: TerraformModel;
let gate: IamGate;
let keyArn: string;

beforeAll(() => {
  app = synthesize(ENVIRONMENTS.dev);
  model = new TerraformModel(
    readSynthesizedStacks(app.outdir),
    { region: REGION, account: ACCOUNT, endpoint: 'http://127.0.0.1:4566', database: { host: '127.0.0.1', port: 3306, name: 'orders' } },
    LOCAL_TYPES,
  );
  gate = new IamGate({ account: ACCOUNT, mode: 'enforce', policies: policySet(synthesizedPolicies(model)) });
  keyArn = model.attributes(model.only('aws_kms_key')).arn as string;
});

const role = (name: string): Principal => ({ kind: 'role', arn: `arn:aws:iam::${ACCOUNT}:role/${name}` });
const EVENTBRIDGE: Principal = { kind: 'service', service: 'events.amazonaws.com' };
const allowed = (principal: Principal, action: string, context: Record<string, string>) =>
  gate.allows({ principal, action, resource: keyArn, context } satisfies IamRequest);

describe('the customer managed key of the bus, the archive and the workflow', () => {
  it('encrypts the bus (with a dead-letter queue for what it cannot encrypt), the archive and the state machine', () => {
    const bus = resource(app.json.workflow, 'aws_cloudwatch_event_bus');
    expect(String(bus.kms_key_identifier)).toMatch(new RegExp(`aws_kms_key${resource(app.json.data, 'aws_kms_key').__id}arn`));
    expect(bus.dead_letter_config).toEqual({ arn: expect.stringMatching(/aws_sqs_queue\.bus-dlq\.arn/) });
    expect(String(resource(app.json.workflow, 'aws_cloudwatch_event_archive').kms_key_identifier)).toBe(String(bus.kms_key_identifier));
    expect(resource(app.json.workflow, 'aws_sfn_state_machine').encryption_configuration).toEqual({
      type: 'CUSTOMER_MANAGED_KMS_KEY',
      kms_key_id: bus.kms_key_identifier,
      kms_data_key_reuse_period_seconds: 300,
    });
  });

  it('lets EventBridge use it for this bus of this account, and for nothing else', async () => {
    const context = (bus: string, account = ACCOUNT) => ({
      'kms:EncryptionContext:aws:events:event-bus:arn': bus,
      'aws:SourceAccount': account,
      'aws:SourceArn': bus,
    });
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt', 'kms:ReEncryptFrom']) expect(await allowed(EVENTBRIDGE, action, context(BUS))).toBe(true);
    expect(await allowed(EVENTBRIDGE, 'kms:DescribeKey', {})).toBe(true);
    expect(await allowed(EVENTBRIDGE, 'kms:Decrypt', context(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/someone-elses-bus`))).toBe(false);
    expect(await allowed(EVENTBRIDGE, 'kms:Decrypt', context(BUS, '999999999999'))).toBe(false);
    expect(await allowed(EVENTBRIDGE, 'kms:Encrypt', context(BUS))).toBe(false);
  });

  it("lets the workflow's execution role use it for this state machine, and no other role or state machine", async () => {
    const context = (stateMachine: string) => ({
      'kms:EncryptionContext:aws:states:stateMachineArn': stateMachine,
      'kms:ViaService': `states.${REGION}.amazonaws.com`,
    });
    const workflowRole = role(`${names.stateMachine}-role`);
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) expect(await allowed(workflowRole, action, context(STATE_MACHINE))).toBe(true);
    expect(await allowed(workflowRole, 'kms:Decrypt', context(`arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:another`))).toBe(false);
    expect(await allowed(role(`${names.function('validateRequest')}-role`), 'kms:Decrypt', context(STATE_MACHINE))).toBe(false);
    expect(await allowed(role(`${names.workflowRule}-target`), 'kms:GenerateDataKey', context(STATE_MACHINE))).toBe(false);
    // Its logs: a data key for this account's log groups only.
    expect(await allowed(workflowRole, 'kms:GenerateDataKey', { 'kms:EncryptionContext:SourceArn': `arn:aws:logs:${REGION}:${ACCOUNT}:*` })).toBe(true);
    expect(await allowed(workflowRole, 'kms:Decrypt', { 'kms:EncryptionContext:SourceArn': `arn:aws:logs:${REGION}:${ACCOUNT}:*` })).toBe(false);
  });

  it("lets CloudWatch Logs' delivery decrypt the workflow's logs for this account", async () => {
    const delivery: Principal = { kind: 'service', service: 'delivery.logs.amazonaws.com' };
    expect(await allowed(delivery, 'kms:Decrypt', { 'aws:SourceAccount': ACCOUNT })).toBe(true);
    expect(await allowed(delivery, 'kms:Decrypt', { 'aws:SourceAccount': '999999999999' })).toBe(false);
    expect(await allowed(delivery, 'kms:GenerateDataKey', { 'aws:SourceAccount': ACCOUNT })).toBe(false);
  });

  it('lets only EventBridge, for this bus, put events that could not be encrypted on the bus dead-letter queue', async () => {
    const queue = model.attributes(model.findBy('aws_sqs_queue', 'name', names.busDeadLetterQueue) as never).arn as string;
    const send = (sourceArn: string): IamRequest => ({
      principal: EVENTBRIDGE,
      action: 'sqs:SendMessage',
      resource: queue,
      context: { 'aws:SourceArn': sourceArn },
    });
    expect(await gate.allows(send(BUS))).toBe(true);
    expect(await gate.allows(send(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/someone-elses-bus`))).toBe(false);
  });
});
