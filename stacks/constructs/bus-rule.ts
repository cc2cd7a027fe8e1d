import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { CloudwatchEventTarget, type CloudwatchEventTargetConfig } from '@cdktf/provider-aws/lib/cloudwatch-event-target';
import type { Construct } from 'constructs';
import type { AlarmSink, Alarmed, Metric } from './alarms';

/** Options of {@link BusRule}. */
export interface BusRuleOptions {
  readonly name: string;
  readonly description: string;
  /** The bus, as a reference (the rule's `event_bus_name`). */
  readonly eventBusName: string;
  /** The bus's configured name, a plain string: the rule's metrics are dimensioned by it. */
  readonly busName: string;
  readonly eventPattern: unknown;
}

/**
 * A rule on the pipeline's bus and its one target. It offers its metrics and
 * its alarms: a target that could not be reached, and, when the target has a
 * dead-letter queue, a failed event that could not be put there either.
 */
export class BusRule extends CloudwatchEventRule implements Alarmed {
  readonly busName: string;
  #target: CloudwatchEventTarget | undefined;

  constructor(scope: Construct, id: string, options: BusRuleOptions) {
    super(scope, id, {
      name: options.name,
      description: options.description,
      eventBusName: options.eventBusName,
      eventPattern: JSON.stringify(options.eventPattern),
    });
    this.busName = options.busName;
  }

  /** The rule's target (construct `id`, beside the rule). */
  get target(): CloudwatchEventTarget | undefined {
    return this.#target;
  }

  /** Adds the rule's target. */
  addTarget(id: string, target: Omit<CloudwatchEventTargetConfig, 'rule' | 'eventBusName'>): CloudwatchEventTarget {
    if (this.#target) throw new Error(`rule ${this.node.id} already has a target`);
    this.#target = new CloudwatchEventTarget(this.node.scope as Construct, id, {
      rule: this.name,
      ...(this.eventBusNameInput !== undefined ? { eventBusName: this.eventBusNameInput } : {}),
      ...target,
    });
    return this.#target;
  }

  /** A metric of the rule (AWS/Events, summed). https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html */
  metric(metricName: 'MatchedEvents' | 'FailedInvocations' | 'InvocationsFailedToBeSentToDlq'): Metric & { statistic: 'Sum' } {
    return { namespace: 'AWS/Events', metricName, dimensions: { RuleName: this.name, EventBusName: this.busName }, statistic: 'Sum' };
  }

  addAlarms(sink: AlarmSink): void {
    // Only a target with a dead-letter queue can fail to send to one (a target without one shows a failed
    // delivery in FailedInvocations).
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html (InvocationsFailedToBeSentToDlq)
    if (this.#target?.deadLetterConfigInput?.arn !== undefined) {
      sink.alarm({
        id: `${this.friendlyUniqueId}-dlq-send-failed`,
        description: `the rule ${this.name} could not put a failed event on its dead-letter queue: the event is lost (queue policy or key problem)`,
        ...this.metric('InvocationsFailedToBeSentToDlq'),
        threshold: 0,
      });
    }
    sink.alarm({
      id: `${this.friendlyUniqueId}-failed-invocations`,
      description: `the rule ${this.name} could not deliver to its target (role, target or quota problem)`,
      ...this.metric('FailedInvocations'),
      threshold: 0,
    });
  }
}
