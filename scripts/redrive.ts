/**
 * `npm run redrive [-- --env dev] [--queue workflow|projection|bus|all] [--dry-run]`
 *
 * Re-delivers what the dead-letter queues hold, after the cause is fixed:
 * - workflow DLQ (events the bus could not deliver): each event starts the
 *   workflow again with its original id, so its response answers the original
 *   message; commands are idempotent.
 * - bus DLQ (events the bus could not encrypt with its key: a key disabled,
 *   its policy changed): each event is put on the bus again, from its source,
 *   detail type, time and detail. EventBridge gives it a new id, so its answer
 *   carries the new id (the order id in it still says which command it is).
 * - projection on-failure queue (batch metadata): the batch's records are read
 *   back from the orders stream and given to the projection again (idempotent).
 * A message is deleted only once its redrive succeeded; a dry run changes
 * nothing. Messages in flight elsewhere are reported, and make the exit code
 * non-zero, rather than silently skipped. Stream records older
 * than the stream's 24 h retention cannot be read back: rebuild the read model.
 */
import {
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ResourceNotFoundException,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { parseCommandLine } from '../config/command-line';
import { invokeFunction, operationsTarget, reachingTarget, type OperationsTarget } from '../clients/operations';
import { ENDPOINT_USAGE } from '../config/local-endpoint';

const USAGE = `usage: npm run redrive -- [--env <environment>] [--endpoint <url>] [--queue workflow|projection|bus|all] [--dry-run]

Without --env, the local runtime. ${ENDPOINT_USAGE}`;
const { values } = parseCommandLine('npm run redrive', {
  options: {
    env: { type: 'string' },
    endpoint: { type: 'string' },
    queue: { type: 'string', default: 'all' },
    'dry-run': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!['workflow', 'projection', 'bus', 'all'].includes(values.queue)) {
  console.error(`--queue must be workflow, projection, bus or all\n${USAGE}`);
  process.exit(2);
}
const target = operationsTarget(values.env, values.endpoint);
const sqs = new SQSClient(target.clientOptions);
const dryRun = values['dry-run'];

interface BatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize: number;
  streamArn: string;
}

async function drain(queueName: string, redrive: (message: Message) => Promise<string>): Promise<{ redriven: number; failed: number; inFlight: number }> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  // Messages someone else received (another redrive, a consumer) are invisible: say so, do not pretend the queue is empty.
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible'] }));
  const inFlight = Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  if (inFlight > 0)
    console.error(
      `  ${inFlight} message(s) are in flight (received elsewhere and not yet deleted); they are not redriven by this run: try again once they are visible`,
    );
  let redriven = 0;
  let failed = 0;
  const seen = new Set<string>();
  const kept: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 120, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
    );
    const fresh = Messages.filter((message) => !seen.has(message.MessageId as string));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.MessageId as string);
      try {
        const what = await redrive(message);
        if (dryRun) kept.push(message.ReceiptHandle as string);
        else await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
        console.log(`  ${dryRun ? 'would redrive' : 'redriven'}: ${what}`);
        redriven++;
      } catch (error) {
        console.error(`  kept ${message.MessageId}: ${(error as Error).message}`);
        kept.push(message.ReceiptHandle as string);
        failed++;
      }
    }
  }
  // Kept messages (and every message a dry run looked at) become visible again at once, so the next run can take them.
  for (const handle of kept) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
  return { redriven, failed, inFlight };
}

async function redriveWorkflowEvent(message: Message): Promise<string> {
  const event = JSON.parse(message.Body as string) as { id: string; 'detail-type': string };
  const stateMachineArn = message.MessageAttributes?.TARGET_ARN?.StringValue ?? stateMachineArnOf(target);
  if (!dryRun) {
    const sfn = new SFNClient(target.clientOptions);
    try {
      await sfn.send(new StartExecutionCommand({ stateMachineArn, input: message.Body }));
    } finally {
      sfn.destroy();
    }
  }
  return `${event['detail-type']} ${event.id}`;
}

async function redriveBusEvent(message: Message): Promise<string> {
  const event = JSON.parse(message.Body as string) as {
    id: string;
    source: string;
    'detail-type': string;
    time: string;
    resources?: string[];
    detail: unknown;
  };
  if (typeof event.source !== 'string' || typeof event['detail-type'] !== 'string' || event.detail === undefined) throw new Error('not an EventBridge event');
  if (!dryRun) {
    const events = new EventBridgeClient(target.clientOptions);
    try {
      const { FailedEntryCount, Entries = [] } = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: target.names.eventBus,
              Source: event.source,
              DetailType: event['detail-type'],
              Time: new Date(event.time),
              Resources: event.resources ?? [],
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      );
      if (FailedEntryCount) throw new Error(`the bus refused it again: ${Entries[0]?.ErrorCode}: ${Entries[0]?.ErrorMessage}`);
      return `${event['detail-type']} ${event.id}, put again as ${Entries[0]?.EventId}`;
    } finally {
      events.destroy();
    }
  }
  return `${event['detail-type']} ${event.id}`;
}

function stateMachineArnOf(where: OperationsTarget): string {
  if (!where.endpoint) throw new Error('the message has no TARGET_ARN attribute; redrive it with the state machine ARN from the StateMachineArn output');
  return `arn:aws:states:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:stateMachine:${where.names.stateMachine}`;
}

async function redriveProjectionBatch(message: Message): Promise<string> {
  const body = JSON.parse(message.Body as string) as { DDBStreamBatchInfo?: BatchInfo };
  const batch = body.DDBStreamBatchInfo;
  if (!batch) throw new Error('not a DynamoDB stream invocation record');
  const streams = new DynamoDBStreamsClient(target.clientOptions);
  const records: unknown[] = [];
  try {
    let { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: batch.streamArn,
        ShardId: batch.shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        SequenceNumber: batch.startSequenceNumber,
      }),
    );
    while (ShardIterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator, Limit: 1000 }));
      for (const record of page.Records ?? []) {
        if (BigInt(record.dynamodb?.SequenceNumber ?? '0') > BigInt(batch.endSequenceNumber)) {
          ShardIterator = undefined;
          break;
        }
        records.push({ ...record, eventSourceARN: batch.streamArn });
      }
      if (!page.Records?.length) break;
      ShardIterator = ShardIterator ? page.NextShardIterator : undefined;
    }
  } catch (error) {
    if (error instanceof TrimmedDataAccessException || error instanceof ExpiredIteratorException || error instanceof ResourceNotFoundException) {
      throw new Error(`the batch's stream records are no longer readable (${error.name}); run npm run rebuild-read-model`, { cause: error });
    }
    throw error;
  } finally {
    streams.destroy();
  }
  if (records.length === 0) throw new Error('no stream record found in the batch range; run npm run rebuild-read-model');
  if (!dryRun) {
    const response = await invokeFunction<{ batchItemFailures?: { itemIdentifier: string }[] }>(target, 'projectOrders', { Records: records });
    const failures = response?.batchItemFailures ?? [];
    if (failures.length > 0) throw new Error(`the projection still fails on ${failures.map((failure) => failure.itemIdentifier).join(', ')}`);
  }
  return `${records.length} stream records ${batch.startSequenceNumber}…${batch.endSequenceNumber}`;
}

let failures = 0;
try {
  if (values.queue === 'workflow' || values.queue === 'all') {
    console.log(`workflow dead-letter queue ${target.names.workflowDeadLetterQueue}:`);
    const result = await reachingTarget(target, () => drain(target.names.workflowDeadLetterQueue, redriveWorkflowEvent));
    failures += result.failed + result.inFlight;
  }
  if (values.queue === 'bus' || values.queue === 'all') {
    console.log(`bus dead-letter queue ${target.names.busDeadLetterQueue}:`);
    const result = await reachingTarget(target, () => drain(target.names.busDeadLetterQueue, redriveBusEvent));
    failures += result.failed + result.inFlight;
  }
  if (values.queue === 'projection' || values.queue === 'all') {
    console.log(`projection on-failure queue ${target.names.projectionFailureQueue}:`);
    const result = await reachingTarget(target, () => drain(target.names.projectionFailureQueue, redriveProjectionBatch));
    failures += result.failed + result.inFlight;
  }
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
} finally {
  sqs.destroy();
}
process.exit(failures > 0 ? 1 : 0);
