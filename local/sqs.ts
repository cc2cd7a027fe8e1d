/**
 * A small SQS (JSON protocol) for the local dead-letter queue and on-failure
 * destination: send, receive with visibility timeout, delete, attributes.
 */
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import { AWS_LIMITS, enforceBytes, enforceCharacters, enforceRange } from './aws-limits';
import { JSON_PROTOCOL, optionalString, requireString, type JsonService } from './protocols/json';
import { AwsError, UnsupportedTerraformError } from './errors';
import { parsePolicy, type IamGate, type IamRequest, type Principal } from './iam';
import { Journal } from './journal';
import { authorizeAll, viaService } from './kms';
import type { LocalService } from './service';

declare module './service' {
  interface Parts {
    sqs: LocalSqs;
  }
}

/** The SQS service: each `aws_sqs_queue` is a local queue (kept in the data folder), authorized with its queue policy and key. */
export const sqsService: LocalService = {
  name: 'sqs',
  serves: {
    aws_sqs_queue: {
      becomes: 'a local queue',
      attributes: (model, resource) => {
        const { region, account, endpoint } = model.context;
        const name = model.string(resource, 'name');
        const url = `${endpoint}/${account}/${name}`;
        return { id: url, name, url, arn: `arn:aws:sqs:${region}:${account}:${name}` };
      },
    },
    aws_sqs_queue_policy: { becomes: 'the resource policy of its queue' },
  },
  policies: (model) =>
    model.resources('aws_sqs_queue_policy').map((queuePolicy) => {
      const url = model.string(queuePolicy, 'queue_url');
      const queue = model.findBy('aws_sqs_queue', 'url', url);
      if (!queue) throw new UnsupportedTerraformError(queuePolicy.address, `queue ${url} is not defined in the stacks`);
      return {
        address: queuePolicy.address,
        kind: 'resource',
        target: model.attributes(queue).arn as string,
        document: parsePolicy(queuePolicy.address, model.field(queuePolicy, 'policy')),
      };
    }),
  bind({ model, region, account, endpoint, gate, options, serve, provide, page, status }) {
    const sqs = new LocalSqs({ endpoint, region, account, gate, ...(options.dataDir ? { dataDir: options.dataDir } : {}) });
    for (const queue of model.resources('aws_sqs_queue'))
      sqs.create(model.attributes(queue).name as string, model.field(queue, 'kms_master_key_id') as string | undefined);
    serve(JSON_PROTOCOL, sqs.service());
    provide('sqs', sqs);
    const queues = () => [...sqs.queues()];
    status('queues', () => Object.fromEntries(queues().map((queue) => [queue.name, { url: queue.url, messages: queue.size }])));
    page('/_local/failures', () =>
      Object.fromEntries(queues().map((queue) => [queue.name, queue.peek().map((message) => ({ ...message, body: JSON.parse(message.body) as unknown }))])),
    );
  },
};

/** Options of {@link LocalSqs}. */
export interface LocalSqsOptions {
  /** The endpoint's URL: queue URLs start with it. */
  readonly endpoint: string;
  readonly region: string;
  readonly account: string;
  /** Keep every queue's messages there (`queues/<name>.jsonl`). */
  readonly dataDir?: string;
  /** Authorizes the calls of roles and client identities; without it, {@link LocalSqs.authorize} refuses. */
  readonly gate?: IamGate;
}

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

  /** `keyArn`: the queue's customer-managed key. */
  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    journal?: Journal<QueueEntry>,
    readonly keyArn?: string,
  ) {
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

  /** Adds a message, visible after `delaySeconds` (a restart makes it visible at once). */
  send(body: string, delaySeconds = 0): string {
    const id = randomUUID();
    const sentAt = Date.now();
    this.#journal?.append({ op: 'send', id, body, sentAt });
    this.#messages.push({ id, body, sentAt, visibleAt: sentAt + delaySeconds * 1000, receiveCount: 0 });
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
    return this.#messages.filter((message) => message.visibleAt > now && message.receiveCount > 0).length;
  }

  /** Messages sent with a delay that has not passed yet. */
  get delayed(): number {
    const now = Date.now();
    return this.#messages.filter((message) => message.visibleAt > now && message.receiveCount === 0).length;
  }

  get size(): number {
    return this.#messages.length;
  }
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** The local SQS service. */
export class LocalSqs {
  readonly #queues = new Map<string, LocalQueue>();

  readonly #options: LocalSqsOptions;

  constructor(options: LocalSqsOptions) {
    this.#options = options;
  }

  /** Creates a queue; `keyArn`: its customer-managed key. */
  create(name: string, keyArn?: string): LocalQueue {
    const { endpoint, region, account, dataDir } = this.#options;
    const journal = dataDir ? new Journal<QueueEntry>(path.join(dataDir, 'queues', `${name}.jsonl`)) : undefined;
    const queue = new LocalQueue(name, `${endpoint}/${account}/${name}`, `arn:aws:sqs:${region}:${account}:${name}`, journal, keyArn);
    this.#queues.set(name, queue);
    return queue;
  }

  /** A queue by its ARN. */
  byArn(arn: string): LocalQueue | undefined {
    return [...this.#queues.values()].find((queue) => queue.arn === arn);
  }

  /** Authorizes an SQS call on a queue (by URL or name): the action under the queue policy, and its key's use. `context`: the caller's request context (a service principal's source). */
  authorize(principal: Principal, operation: string, queueUrlOrName: string, context: Record<string, string> = {}): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const { region, account } = this.#options;
    const name = queueUrlOrName.split('/').pop() ?? '';
    const queue = this.#queues.get(name);
    const requests: IamRequest[] = [{ principal, action: `sqs:${operation}`, resource: queue?.arn ?? `arn:aws:sqs:${region}:${account}:${name}`, context }];
    if (queue?.keyArn && (operation === 'SendMessage' || operation === 'ReceiveMessage'))
      requests.push(...viaService(principal, queue.keyArn, 'sqs', region, account, operation === 'SendMessage'));
    return authorizeAll(this.#options.gate, requests);
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
      authorize: (principal, operation, body) =>
        this.authorize(principal, operation, optionalString(body, 'QueueUrl') ?? optionalString(body, 'QueueName') ?? ''),
      operations: {
        GetQueueUrl: (body) => {
          const queue = this.#queues.get(requireString(body, 'QueueName'));
          if (!queue) throw new AwsError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
          return { QueueUrl: queue.url };
        },
        ListQueues: () => ({ QueueUrls: [...this.#queues.values()].map((queue) => queue.url) }),
        SendMessage: (body) => {
          const text = requireString(body, 'MessageBody');
          const delaySeconds = typeof body.DelaySeconds === 'number' ? body.DelaySeconds : 0;
          enforceBytes(AWS_LIMITS.sqsMessageBodySize, Buffer.byteLength(text, 'utf8'));
          enforceRange(AWS_LIMITS.sqsDelaySeconds, delaySeconds);
          enforceCharacters(AWS_LIMITS.sqsMessageBodyCharacters, text);
          return { MessageId: this.#byUrl(requireString(body, 'QueueUrl')).send(text, delaySeconds), MD5OfMessageBody: md5(text) };
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
          const { size, inFlight, delayed } = queue;
          return {
            Attributes: {
              ApproximateNumberOfMessages: String(size - inFlight - delayed),
              ApproximateNumberOfMessagesNotVisible: String(inFlight),
              ApproximateNumberOfMessagesDelayed: String(delayed),
              QueueArn: queue.arn,
            },
          };
        },
      },
    };
  }
}
