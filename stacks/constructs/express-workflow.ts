import { SfnStateMachine } from '@cdktf/provider-aws/lib/sfn-state-machine';
import type { AlarmSink, Alarmed, Metric } from './alarms';

/**
 * The Express state machine, which offers its metrics and alarms: executions
 * that failed, timed out, or were throttled at the StartExecution quota.
 */
export class ExpressWorkflow extends SfnStateMachine implements Alarmed {
  /** A metric of the state machine (AWS/States, summed). https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html */
  metric(metricName: 'ExecutionsFailed' | 'ExecutionsTimedOut' | 'ExecutionThrottled'): Metric & { statistic: 'Sum' } {
    return { namespace: 'AWS/States', metricName, dimensions: { StateMachineArn: this.arn }, statistic: 'Sum' };
  }

  addAlarms(sink: AlarmSink): void {
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut'] as const) {
      sink.alarm({
        id: `${this.node.id}-${metricName.toLowerCase()}`,
        description: `workflow executions ${metricName === 'ExecutionsFailed' ? 'failed (unroutable input, or a response that could not be published)' : 'timed out'}`,
        ...this.metric(metricName),
        threshold: sink.config.alarms.executionsFailed,
      });
    }
    sink.alarm({
      id: `${this.node.id}-executionthrottled`,
      description: "Step Functions throttled workflow executions (the StartExecution quota): commands and queries wait in the rule's retries",
      ...this.metric('ExecutionThrottled'),
      threshold: 0,
    });
  }
}
