/**
 * Where a rule delivers: one sender per service of the target's ARN
 * (`arn:aws:<service>:…`), as EventBridge dispatches, each making the calls
 * AWS makes for that target under the principal AWS uses (the rule's role
 * for a state machine, the EventBridge service principal for a log group).
 * A target of another service stops the start with its address. Adding a
 * kind of target is one entry here.
 */
import type { BusEvent, Rule } from './event-bus';
import type { IamGate, Principal } from './iam';
import type { Authorizer } from './authorization';
import { describeResponse } from './logs';
import type { LocalLogGroup } from './runtime';
import type { LocalQueue } from './sqs';
import type { LocalStateMachine } from './state-machine';
import { UnsupportedTerraformError, type TerraformModel, type TerraformResource } from './terraform';

/** What a target sender may use. */
export interface TargetContext {
  readonly model: TerraformModel;
  readonly target: TerraformResource;
  readonly targetArn: string;
  readonly ruleName: string;
  readonly ruleArn: string;
  readonly account: string;
  readonly gate: IamGate;
  readonly authorizer: Authorizer;
  /** Checks that a service may assume a role (its trust policy). */
  readonly assumeRole: (service: string, roleArn: string, context?: Record<string, string>) => Promise<void>;
  readonly stateMachine: LocalStateMachine;
  readonly logGroups: ReadonlyMap<string, LocalLogGroup>;
  readonly appendLog: (group: LocalLogGroup, line: string) => void;
  readonly log: (message: string) => void;
}

/** Builds the delivery of one target. */
export type TargetSender = (context: TargetContext) => Rule['target'];

const EVENTBRIDGE: Principal = { kind: 'service', service: 'events.amazonaws.com' };

/** The senders, by the service of the target's ARN. */
export const TARGET_SENDERS: Readonly<Record<string, TargetSender>> = {
  // A state machine: the rule's role is assumed, may start executions, and the execution runs to its end.
  states: ({ model, target, targetArn, ruleArn, gate, assumeRole, stateMachine }) => {
    if (targetArn !== stateMachine.arn) throw new UnsupportedTerraformError(target.address, `state machine ${targetArn} is not defined in the stacks`);
    const roleArn = model.string(target, 'role_arn');
    return async (event) => {
      await assumeRole('events.amazonaws.com', roleArn, { 'aws:SourceArn': ruleArn });
      await gate.authorize({ principal: { kind: 'role', arn: roleArn }, action: 'states:StartExecution', resource: stateMachine.arn });
      await stateMachine.runExecution(JSON.stringify(event));
    };
  },
  // A log group: EventBridge writes with the logs resource policy.
  logs: ({ target, targetArn, ruleName, ruleArn, account, gate, logGroups, appendLog, log }) => {
    const group = [...logGroups.values()].find((candidate) => candidate.arn === targetArn);
    if (!group) throw new UnsupportedTerraformError(target.address, `log group ${targetArn} is not defined in the stacks`);
    return async (event) => {
      // EventBridge creates the stream without a source ARN in the request context, then puts the events with it.
      await gate.authorize({ principal: EVENTBRIDGE, action: 'logs:CreateLogStream', resource: `${group.arn}:log-stream:${ruleName}`, context: { 'aws:SourceAccount': account } });
      await gate.authorize({ principal: EVENTBRIDGE, action: 'logs:PutLogEvents', resource: `${group.arn}:log-stream:${ruleName}`, context: { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': account } });
      appendLog(group, JSON.stringify(event));
      log(describeResponse(event));
    };
  },
};

/** The delivery of one `aws_cloudwatch_event_target`, from the sender of its ARN's service. */
export function targetDelivery(context: TargetContext): Rule['target'] {
  const service = context.targetArn.split(':')[2] ?? '';
  const sender = TARGET_SENDERS[service];
  if (!sender) throw new UnsupportedTerraformError(context.target.address, `target ${context.targetArn}: no local sender for service ${service} (served: ${Object.keys(TARGET_SENDERS).join(', ')})`);
  return sender(context);
}

/** A rule's dead-letter queue, as EventBridge sends to it (the queue policy decides). */
export function deadLetterDelivery(context: TargetContext, queue: LocalQueue): NonNullable<Rule['deadLetter']> {
  const { ruleName, ruleArn, account, authorizer, log } = context;
  return async (event: BusEvent, error: unknown) => {
    try {
      await authorizer.queue(EVENTBRIDGE, 'SendMessage', queue.url, { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': account });
    } catch (denied) {
      log(`rule ${ruleName}: event ${event.id} is lost: the dead-letter queue refused it: ${(denied as Error).message}`);
      return;
    }
    queue.send(JSON.stringify(event));
    log(`rule ${ruleName}: event ${event.id} sent to ${queue.name}: ${(error as Error).message}`);
  };
}
