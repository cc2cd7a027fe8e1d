import { Lazy } from 'cdktf';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueuePolicy } from '@cdktf/provider-aws/lib/sqs-queue-policy';
import type { Construct } from 'constructs';
import type { AlarmSink, Alarmed, Metric } from './alarms';
import { policyDocument, type PolicyStatement } from './iam';
import type { Grantee } from './role';

/** Options of {@link DeadLetterQueue}. */
export interface DeadLetterQueueOptions {
  readonly name: string;
}

/** How long a dead letter waits for a redrive: SQS's maximum, 14 days (SetQueueAttributes, `MessageRetentionPeriod`). https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html */
const RETENTION_SECONDS = 14 * 24 * 3600;

/**
 * A queue that holds work that was not done (SSE-SQS, 14 days), until
 * `npm run redrive`. It grants sending to itself, to a role
 * ({@link grantSend}) or to a service on behalf of one source
 * ({@link allowSendFrom}, the queue's resource policy), and alarms when it
 * holds anything.
 */
export class DeadLetterQueue extends SqsQueue implements Alarmed {
  readonly #statements: PolicyStatement[] = [];
  /** The queue policy, made by the first {@link allowSendFrom}. */
  #policy: SqsQueuePolicy | undefined;

  constructor(scope: Construct, id: string, options: DeadLetterQueueOptions) {
    super(scope, id, { name: options.name, sqsManagedSseEnabled: true, messageRetentionSeconds: RETENTION_SECONDS });
  }

  /** Lets a role send to the queue (SSE-SQS: no key to grant). */
  grantSend(grantee: Grantee, sid: string): void {
    grantee.grant({ Sid: sid, Action: ['sqs:SendMessage'], Resource: [this.arn] });
  }

  /**
   * Lets an AWS service send to the queue for one source only (the queue
   * policy `<id>-policy`, beside the queue): against the confused deputy.
   */
  allowSendFrom(service: string, sourceArn: string, sid: string): void {
    this.#statements.push({
      Sid: sid,
      Principal: { Service: service },
      Action: ['sqs:SendMessage'],
      Resource: [this.arn],
      Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
    });
    if (this.#policy) return;
    this.#policy = new SqsQueuePolicy(this.node.scope as Construct, `${this.node.id}-policy`, {
      queueUrl: this.url,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.#statements) }),
    });
  }

  /** Messages waiting (SQS `ApproximateNumberOfMessagesVisible`, maximum). */
  metricVisibleMessages(): Metric & { statistic: 'Maximum' } {
    return { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: this.name }, statistic: 'Maximum' };
  }

  addAlarms(sink: AlarmSink): void {
    sink.alarm({
      id: `${this.friendlyUniqueId}-not-empty`,
      description: `${this.name} holds messages: work was not done; fix the cause, then npm run redrive`,
      ...this.metricVisibleMessages(),
      threshold: 0,
    });
  }
}
