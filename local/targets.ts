/**
 * The rule targets: each `aws_cloudwatch_event_target` puts its rule on the
 * bus with a delivery built by the sender of its ARN's service
 * (`arn:aws:<service>:…`), as EventBridge dispatches. Each sender makes the
 * calls AWS makes for that target under the principal AWS uses (the rule's
 * role for a state machine, the EventBridge service principal for a log
 * group). A target of another service stops the start with its address.
 * Adding a kind of target is one entry in {@link TARGET_SENDERS}.
 */
import { UnsupportedTerraformError } from './errors';
import type { BusEvent, Rule } from './event-bus';
import type { Principal } from './iam';
import { describeResponse } from './logs';
import type { Binding, LocalService } from './service';
import type { LocalQueue } from './sqs';
import type { TerraformResource } from './terraform';

/** One target, as its sender sees it. */
interface Target {
  readonly resource: TerraformResource;
  readonly arn: string;
  readonly ruleName: string;
  readonly ruleArn: string;
}

/** Builds the delivery of one target. */
type TargetSender = (binding: Binding, target: Target) => Rule['target'];

const EVENTBRIDGE: Principal = { kind: 'service', service: 'events.amazonaws.com' };

/** The senders, by the service of the target's ARN. */
const TARGET_SENDERS: Readonly<Record<string, TargetSender>> = {
  // A state machine: the rule's role is assumed, may start executions, and the execution runs to its end.
  states: ({ model, gate, use, assumeRole }, target) => {
    const stateMachine = use('stateMachine');
    if (target.arn !== stateMachine.arn) throw new UnsupportedTerraformError(target.resource.address, `state machine ${target.arn} is not defined in the stacks`);
    const roleArn = model.string(target.resource, 'role_arn');
    return async (event) => {
      await assumeRole('events.amazonaws.com', roleArn, { 'aws:SourceArn': target.ruleArn });
      await gate.authorize({ principal: { kind: 'role', arn: roleArn }, action: 'states:StartExecution', resource: stateMachine.arn });
      await stateMachine.runExecution(JSON.stringify(event));
    };
  },
  // A log group: EventBridge writes with the logs resource policy.
  logs: ({ account, use, log }, target) => {
    const logs = use('logs');
    const group = logs.byArn(target.arn);
    if (!group) throw new UnsupportedTerraformError(target.resource.address, `log group ${target.arn} is not defined in the stacks`);
    return async (event) => {
      // EventBridge creates the stream without a source ARN in the request context, then puts the events with it.
      await logs.write(EVENTBRIDGE, group, target.ruleName, JSON.stringify(event), {
        create: { 'aws:SourceAccount': account },
        put: { 'aws:SourceArn': target.ruleArn, 'aws:SourceAccount': account },
      });
      log(describeResponse(event));
    };
  },
};

/** The EventBridge targets service: each target puts its rule, with the rule's pattern, retry policy and dead-letter queue, on the bus. */
export const targetsService: LocalService = {
  name: 'event-targets',
  serves: {
    aws_cloudwatch_event_target: { becomes: 'the delivery of its rule (to a state machine or a log group)' },
  },
  bind(binding) {
    const { model, use } = binding;
    const bus = use('bus');
    for (const resource of model.resources('aws_cloudwatch_event_target')) {
      const ruleName = model.string(resource, 'rule');
      const rule = model.findBy('aws_cloudwatch_event_rule', 'name', ruleName);
      if (!rule) throw new UnsupportedTerraformError(resource.address, `rule ${ruleName} is not defined in the stacks`);
      const target: Target = { resource, arn: model.string(resource, 'arn'), ruleName, ruleArn: model.attributes(rule).arn as string };
      const retries = model.field(resource, 'retry_policy', 'maximum_retry_attempts') as number | undefined;
      const deadLetter = deadLetterQueue(binding, target);
      bus.addRule({
        name: ruleName,
        pattern: JSON.parse(model.string(rule, 'event_pattern')) as unknown,
        target: targetDelivery(binding, target),
        ...(retries !== undefined ? { maximumRetryAttempts: retries } : {}),
        ...(deadLetter ? { deadLetter: deadLetterDelivery(binding, target, deadLetter) } : {}),
      });
    }
  },
};

/** The delivery of one target, from the sender of its ARN's service. */
function targetDelivery(binding: Binding, target: Target): Rule['target'] {
  const service = target.arn.split(':')[2] ?? '';
  const sender = Object.hasOwn(TARGET_SENDERS, service) ? TARGET_SENDERS[service] : undefined;
  if (!sender) throw new UnsupportedTerraformError(target.resource.address, `target ${target.arn}: no local sender for service ${service} (served: ${Object.keys(TARGET_SENDERS).join(', ')})`);
  return sender(binding, target);
}

/** The target's dead-letter queue, if it has one. */
function deadLetterQueue({ model, use }: Binding, target: Target): LocalQueue | undefined {
  const arn = model.field(target.resource, 'dead_letter_config', 'arn') as string | undefined;
  if (!arn) return undefined;
  const queue = use('sqs').byArn(arn);
  if (!queue) throw new UnsupportedTerraformError(target.resource.address, `dead-letter queue ${arn} is not defined in the stacks`);
  return queue;
}

/** A rule's dead-letter queue, as EventBridge sends to it (the queue policy decides). */
function deadLetterDelivery({ account, use, log }: Binding, { ruleName, ruleArn }: Target, queue: LocalQueue): NonNullable<Rule['deadLetter']> {
  const sqs = use('sqs');
  return async (event: BusEvent, error: unknown) => {
    try {
      await sqs.authorize(EVENTBRIDGE, 'SendMessage', queue.url, { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': account });
    } catch (denied) {
      log(`rule ${ruleName}: event ${event.id} is lost: the dead-letter queue refused it: ${(denied as Error).message}`);
      return;
    }
    queue.send(JSON.stringify(event));
    log(`rule ${ruleName}: event ${event.id} sent to ${queue.name}: ${(error as Error).message}`);
  };
}
