/**
 * The rule targets: each `aws_cloudwatch_event_target` puts its rule on the
 * bus, with the rule's pattern, retry policy and dead-letter queue, and a
 * delivery built by the integration of its ARN's service (`arn:aws:<service>:…`),
 * as EventBridge dispatches: the one map of integrations
 * (`Binding.integrations`), which each service fills with the calls AWS makes
 * to it for a target, under the principal AWS uses. A target of a service
 * with no such integration stops the start with its address.
 */
import { UnsupportedTerraformError } from './errors';
import type { Rule } from './event-bus';
import { EVENTBRIDGE, type Binding, type BusEvent, type LocalService, type RuleTarget } from './service';
import type { LocalQueue } from './sqs';

/** The EventBridge targets service: each target puts its rule, with the rule's pattern, retry policy and dead-letter queue, on the bus. */
export const targetsService: LocalService = {
  name: 'event-targets',
  serves: {
    aws_cloudwatch_event_target: { becomes: "the delivery of its rule, by the integration of its ARN's service" },
  },
  bind(binding) {
    const { model, use } = binding;
    const bus = use('bus');
    for (const resource of model.resources('aws_cloudwatch_event_target')) {
      const ruleName = model.string(resource, 'rule');
      const rule = model.findBy('aws_cloudwatch_event_rule', 'name', ruleName);
      if (!rule) throw new UnsupportedTerraformError(resource.address, `rule ${ruleName} is not defined in the stacks`);
      const target: RuleTarget = { resource, arn: model.string(resource, 'arn'), ruleName, ruleArn: model.attributes(rule).arn as string };
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

/** The delivery of one target, from the integration of its ARN's service. */
function targetDelivery({ integrations }: Binding, target: RuleTarget): Rule['target'] {
  const service = target.arn.split(':')[2] ?? '';
  const deliver = integrations.get(service)?.target;
  if (!deliver) {
    const served = [...integrations].filter(([, integration]) => integration.target).map(([name]) => name);
    throw new UnsupportedTerraformError(
      target.resource.address,
      `target ${target.arn}: no local integration delivers to service ${service} (served: ${served.join(', ')})`,
    );
  }
  return deliver(target);
}

/** The target's dead-letter queue, if it has one. */
function deadLetterQueue({ model, use }: Binding, target: RuleTarget): LocalQueue | undefined {
  const arn = model.field(target.resource, 'dead_letter_config', 'arn') as string | undefined;
  if (!arn) return undefined;
  const queue = use('sqs').byArn(arn);
  if (!queue) throw new UnsupportedTerraformError(target.resource.address, `dead-letter queue ${arn} is not defined in the stacks`);
  return queue;
}

/** A rule's dead-letter queue, as EventBridge sends to it (the queue policy decides). */
function deadLetterDelivery({ account, use, log }: Binding, { ruleName, ruleArn }: RuleTarget, queue: LocalQueue): NonNullable<Rule['deadLetter']> {
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
