/**
 * A small SQS (JSON protocol) for the local dead-letter queue and on-failure
 * destination: send, receive with visibility timeout, delete, attributes.
 */
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { AwsError, requireString, type JsonService } from './aws-protocol';
import { Journal } from './journal';

type QueueEntry = { readonly op: 'send'; readonly id: string; readonly body: string; readonly sentAt: number } | { readonly op: 'delete'; readonly id: string };

interface Message {
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  visibleAt: number;
  receiveCount: number;
  receiptHandle?: string;
}

/** One queue. */
export class LocalQueue {
  readonly #messages: Message[] = [];
  readonly #journal: Journal<QueueEntry> | undefined;

  constructor(readonly name: string, readonly url: string, readonly arn: string, journal?: Journal<QueueEntry>) {
    this.#journal = journal;
    if (!journal) return;
    // Messages survive a restart, visible again (as after their visibility timeout).
    const live = new Map<string, Message>();
    for (const entry of journal.entries()) {
      if (entry.op === 'send') live.set(entry.id, { id: entry.id, body: entry.body, sentAt: entry.sentAt, visibleAt: 0, receiveCount: 0 });
      else live.delete(entry.id);
    }
    this.#messages.push(...live.values());
    journal.rewrite(this.#messages.map((message) => ({ op: 'send', id: message.id, body: message.body, sentAt: message.sentAt })));
  }

  send(body: string): string {
    const id = randomUUID();
    const sentAt = Date.now();
    this.#journal?.append({ op: 'send', id, body, sentAt });
    this.#messages.push({ id, body, sentAt, visibleAt: 0, receiveCount: 0 });
    return id;
  }

  /** Every message, visible or not (inspection). */
  peek(): { id: string; body: string; sentAt: number }[] {
    return this.#messages.map(({ id, body, sentAt }) => ({ id, body, sentAt }));
  }

  receive(max: number, visibilitySeconds: number): Message[] {
    const now = Date.now();
    const visible = this.#messages.filter((message) => message.visibleAt <= now).slice(0, max);
    for (const message of visible) {
      message.visibleAt = now + visibilitySeconds * 1000;
      message.receiveCount++;
      message.receiptHandle = randomUUID();
    }
    return visible;
  }

  /** Makes a received message visible again after `seconds`. */
  changeVisibility(receiptHandle: string, seconds: number): void {
    const message = this.#messages.find((candidate) => candidate.receiptHandle === receiptHandle);
    if (!message) throw new AwsError('ReceiptHandleIsInvalid', 'The input receipt handle is invalid.');
    message.visibleAt = Date.now() + seconds * 1000;
  }

  delete(receiptHandle: string): void {
    const index = this.#messages.findIndex((message) => message.receiptHandle === receiptHandle);
    if (index < 0) return;
    this.#journal?.append({ op: 'delete', id: (this.#messages[index] as Message).id });
    this.#messages.splice(index, 1);
  }

  /** Messages received and not yet visible again (in flight). */
  get inFlight(): number {
    const now = Date.now();
    return this.#messages.filter((message) => message.visibleAt > now).length;
  }

  get size(): number {
    return this.#messages.length;
  }
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** The local SQS service. */
export class LocalSqs {
  readonly #queues = new Map<string, LocalQueue>();

  /** `dataDir`: keep every queue's messages there (`queues/<name>.jsonl`). */
  constructor(private readonly endpoint: () => string, private readonly region: string, private readonly account: string, private readonly dataDir?: string) {}

  create(name: string): LocalQueue {
    const journal = this.dataDir ? new Journal<QueueEntry>(path.join(this.dataDir, 'queues', `${name}.jsonl`)) : undefined;
    const queue = new LocalQueue(name, `${this.endpoint()}/${this.account}/${name}`, `arn:aws:sqs:${this.region}:${this.account}:${name}`, journal);
    this.#queues.set(name, queue);
    return queue;
  }

  /** Every queue. */
  queues(): IterableIterator<LocalQueue> {
    return this.#queues.values();
  }

  queue(name: string): LocalQueue | undefined {
    return this.#queues.get(name);
  }

  #byUrl(url: string): LocalQueue {
    const name = url.split('/').pop() ?? '';
    const queue = this.#queues.get(name);
    if (!queue) throw new AwsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
    return queue;
  }

  service(): JsonService {
    return {
      targetPrefix: 'AmazonSQS',
      jsonVersion: '1.0',
      operations: {
        GetQueueUrl: (body) => {
          const queue = this.#queues.get(requireString(body, 'QueueName'));
          if (!queue) throw new AwsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
          return { QueueUrl: queue.url };
        },
        ListQueues: () => ({ QueueUrls: [...this.#queues.values()].map((queue) => queue.url) }),
        SendMessage: (body) => {
          const text = requireString(body, 'MessageBody');
          return { MessageId: this.#byUrl(requireString(body, 'QueueUrl')).send(text), MD5OfMessageBody: md5(text) };
        },
        ReceiveMessage: (body) => {
          const queue = this.#byUrl(requireString(body, 'QueueUrl'));
          const max = Math.min(Math.max(Number(body.MaxNumberOfMessages ?? 1), 1), 10);
          const messages = queue.receive(max, Number(body.VisibilityTimeout ?? 30));
          return {
            Messages: messages.map((message) => ({
              MessageId: message.id,
              ReceiptHandle: message.receiptHandle,
              MD5OfBody: md5(message.body),
              Body: message.body,
              Attributes: { ApproximateReceiveCount: String(message.receiveCount), SentTimestamp: String(message.sentAt) },
            })),
          };
        },
        DeleteMessage: (body) => {
          this.#byUrl(requireString(body, 'QueueUrl')).delete(requireString(body, 'ReceiptHandle'));
          return {};
        },
        ChangeMessageVisibility: (body) => {
          this.#byUrl(requireString(body, 'QueueUrl')).changeVisibility(requireString(body, 'ReceiptHandle'), Number(body.VisibilityTimeout ?? 0));
          return {};
        },
        GetQueueAttributes: (body) => {
          const queue = this.#byUrl(requireString(body, 'QueueUrl'));
          return { Attributes: { ApproximateNumberOfMessages: String(queue.size - queue.inFlight), ApproximateNumberOfMessagesNotVisible: String(queue.inFlight), QueueArn: queue.arn } };
        },
      },
    };
  }
}
