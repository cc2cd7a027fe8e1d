/**
 * The local runtime keeps the bus's events and the workflow's executions
 * under the customer managed key as AWS does, through the IAM gate over the
 * real synthesized policies of the local stacks: with them, events are
 * delivered and executions run; with EventBridge's statement taken out of the
 * key policy, an event goes to the bus's dead-letter queue instead of any
 * rule; with the execution role's key statement taken out (or another role as
 * the workflow's), StartExecution is refused with KmsAccessDeniedException.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import '../../../local/polyfills';
import { resourceNames } from '../../../config/pipeline';
import { EventBus } from '../../../local/event-bus';
import type { BusEvent } from '../../../local/service';
import { IamGate } from '../../../local/iam';
import { policySet, statements, type SynthesizedPolicy } from '../../../local/iam';
import { LOCAL_TYPES } from '../../../local/services';
import { synthesizedPolicies } from '../../../local/synthesized-policies';
import { LocalStateMachine } from '../../../local/state-machine';
import { readSynthesizedStacks, TerraformModel } from '../../../local/terraform';
import { budget } from '../../helpers/budget';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const names = resourceNames('local');
let policies: SynthesizedPolicy[];
let keyArn: string;
let workflowRole: string;

beforeAll(
  async () => {
    const { synthesizeLocal } = await import('../../../local/synth');
    const model = new TerraformModel(
      readSynthesizedStacks(await synthesizeLocal()),
      { region: REGION, account: ACCOUNT, endpoint: 'http://127.0.0.1:4566', database: { host: '127.0.0.1', port: 3306, name: 'orders' } },
      LOCAL_TYPES,
    );
    policies = synthesizedPolicies(model);
    keyArn = model.string(model.only('aws_cloudwatch_event_bus'), 'kms_key_identifier');
    workflowRole = model.string(model.only('aws_sfn_state_machine'), 'role_arn');
  },
  budget({ seconds: 30 }),
);

/** The policies with the statement of this Sid taken out. */
function without(sid: string): SynthesizedPolicy[] {
  const found = policies.some((policy) => statements(policy.document).some((statement) => (statement as { Sid?: string }).Sid === sid));
  if (!found) throw new Error(`no statement ${sid} in the synthesized policies`);
  return policies.map((policy) => ({
    ...policy,
    document: { ...policy.document, Statement: statements(policy.document).filter((statement) => (statement as { Sid?: string }).Sid !== sid) },
  }));
}

const gateOver = (set: SynthesizedPolicy[]) => new IamGate({ account: ACCOUNT, mode: 'enforce', policies: policySet(set) });

/** The local bus under the key, a rule that records what it is given, and its dead-letter queue as a list. */
function encryptedBus(gate: IamGate) {
  const delivered: BusEvent[] = [];
  const deadLettered: { event: BusEvent; error: string }[] = [];
  const bus = new EventBus({
    name: names.eventBus,
    region: REGION,
    account: ACCOUNT,
    gate,
    encryption: { keyArn },
    deadLetter: async (event, error) => void deadLettered.push({ event, error: (error as Error).message }),
  });
  bus.addRule({ name: 'all', pattern: { source: ['test'] }, target: async (event) => void delivered.push(event) });
  return { bus, delivered, deadLettered };
}

/** The workflow's state machine as one Pass state, under the key, run by `principal`. */
function encryptedMachine(gate: IamGate, principal = workflowRole) {
  return new LocalStateMachine({
    name: names.stateMachine,
    definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
    region: REGION,
    account: ACCOUNT,
    integrations: new Map(),
    principal: { kind: 'role', arn: principal },
    gate,
    encryption: { keyArn },
  });
}

const put = (bus: EventBus) => bus.putEvents({ Entries: [{ EventBusName: names.eventBus, Source: 'test', DetailType: 'thing', Detail: '{"n":1}' }] });

describe('the bus under its customer managed key, locally', () => {
  it('delivers an event when the key policy lets EventBridge encrypt it for this bus', async () => {
    // Prepare
    const { bus, delivered, deadLettered } = encryptedBus(gateOver(policies));

    // Act
    const result = put(bus);
    await bus.drain();

    // Assess
    expect(result.FailedEntryCount).toBe(0);
    expect(delivered).toHaveLength(1);
    expect(deadLettered).toEqual([]);
  });

  it("sends the event to the bus dead-letter queue, and no rule sees it, when the key policy lacks EventBridge's statement", async () => {
    // Prepare
    const gate = gateOver(without('EventBridgeEncryptsPipelineBus'));
    const { bus, delivered, deadLettered } = encryptedBus(gate);

    // Act: PutEvents still accepts it (the encryption happens after it answered), as on AWS.
    const result = put(bus);
    await bus.drain();

    // Assess
    expect(result.FailedEntryCount).toBe(0);
    expect(delivered).toEqual([]);
    expect(deadLettered).toHaveLength(1);
    expect(deadLettered[0]?.error).toContain('events.amazonaws.com is not authorized to perform: kms:GenerateDataKey');
    expect(gate.denials()[0]).toMatchObject({
      principal: 'events.amazonaws.com',
      action: 'kms:GenerateDataKey',
      resource: keyArn,
      context: { 'kms:EncryptionContext:aws:events:event-bus:arn': bus.arn },
    });
  });
});

describe('the workflow under its customer managed key, locally', () => {
  it('runs an execution when its execution role may use the key for this state machine', async () => {
    const execution = await encryptedMachine(gateOver(policies)).startSyncExecution('{}');
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('refuses StartExecution with KmsAccessDeniedException when the execution role lacks the key statement, or another role runs it', async () => {
    // Prepare
    const stripped = encryptedMachine(gateOver(without('WorkflowDataKey')));
    const otherRole = encryptedMachine(gateOver(policies), `arn:aws:iam::${ACCOUNT}:role/${names.function('validateRequest')}-role`);

    // Act and assess: no execution is created.
    for (const machine of [stripped, otherRole]) {
      await expect(machine.startSyncExecution('{}')).rejects.toMatchObject({
        name: 'KmsAccessDeniedException',
        message: expect.stringContaining('kms:GenerateDataKey'),
      });
      await expect(machine.startExecutionEncrypted('{}')).rejects.toMatchObject({ name: 'KmsAccessDeniedException' });
      expect(machine.executions()).toEqual([]);
    }
  });
});
