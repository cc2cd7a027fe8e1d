/**
 * Amazon SNS for the local runtime: the stacks' topics (`aws_sns_topic`, the
 * alarm topic), their subscriptions (`aws_sns_topic_subscription`) and access
 * policies (`aws_sns_topic_policy`), served in the query protocol the AWS CLI
 * and SDKs speak for SNS: `CreateTopic`, `Subscribe`, `Publish`, `ListTopics`,
 * `ListSubscriptionsByTopic`, `GetTopicAttributes`.
 *
 * A publish is authorized as SNS authorizes it: `sns:Publish` on the topic
 * under the caller's identity policy and the topic's policy (a service such
 * as CloudWatch, under the topic policy alone), and on a topic encrypted with
 * a customer-managed key, `kms:GenerateDataKey` and `kms:Decrypt` on the key
 * (SNS developer guide, "Key management",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html: the
 * publisher needs both; a service publisher through the key policy).
 *
 * Nothing leaves the machine: an email subscription is confirmed at once and
 * the notification it would send is kept (`GET /_local/notifications`); an
 * `sqs` subscription sends to the local queue as SNS does, under the queue's
 * policy. The topic is also a rule target (EventBridge publishes) and a
 * workflow Task (`arn:aws:states:::sns:publish`).
 */
import { randomUUID } from 'node:crypto';
import { AWS_LIMITS, enforceBytes, enforceCharacters, enforceLength } from './aws-limits';
import { AccessDeniedError, AwsError, TaskError, UnsupportedTerraformError } from './errors';
import { parsePolicy, type IamGate, type IamRequest, type Principal } from './iam';
import { authorizeAll, viaService } from './kms';
import { QUERY_PROTOCOL, requireParam, XmlMap, type QueryApi, type QueryParams } from './protocols/query';
import { EVENTBRIDGE, type Binding, type Integration, type LocalService } from './service';
import type { LocalSqs } from './sqs';

declare module './service' {
  interface Parts {
    sns: LocalSns;
  }
}

/** Notifications kept for `/_local/notifications` (oldest dropped first). */
const NOTIFICATIONS_KEPT = 1_000;

/** The protocols a local subscription delivers with: email (kept, never sent) and SQS (the local queue). */
const PROTOCOLS = new Set(['email', 'email-json', 'sqs']);

/** The SNS service: each topic of the stacks, its subscriptions and its policy, served in the query protocol. */
export const snsService: LocalService = {
  name: 'sns',
  serves: {
    aws_sns_topic: {
      becomes: 'a local topic (its key checked on publish)',
      attributes: (model, resource) => {
        const name = model.string(resource, 'name');
        const arn = `arn:aws:sns:${model.context.region}:${model.context.account}:${name}`;
        return { id: arn, arn, name, owner: model.context.account };
      },
    },
    aws_sns_topic_subscription: {
      becomes: 'a subscription of its topic: email kept at GET /_local/notifications, sqs sent to the local queue',
      attributes: (model, resource, id) => {
        const arn = `${model.string(resource, 'topic_arn')}:${id}`;
        return { id: arn, arn };
      },
    },
    aws_sns_topic_policy: { becomes: 'the resource policy of its topic' },
  },
  policies: (model) =>
    model.resources('aws_sns_topic_policy').map((policy) => ({
      address: policy.address,
      kind: 'resource',
      target: model.string(policy, 'arn'),
      document: parsePolicy(policy.address, model.field(policy, 'policy')),
    })),
  bind(binding) {
    const { model, region, account, gate, use, serve, provide, integrate, page, status, summary, onIdle } = binding;
    const sns = new LocalSns({ region, account, gate, sqs: use('sqs') });
    for (const topic of model.resources('aws_sns_topic')) {
      const keyId = model.field(topic, 'kms_master_key_id');
      const policy = model.resources('aws_sns_topic_policy').find((candidate) => model.string(candidate, 'arn') === model.attributes(topic).arn);
      sns.createTopic(model.string(topic, 'name'), {
        ...(typeof keyId === 'string' && keyId.startsWith('arn:') ? { keyArn: keyId } : {}),
        ...(policy ? { policy: model.string(policy, 'policy') } : {}),
      });
    }
    for (const subscription of model.resources('aws_sns_topic_subscription')) {
      const protocol = model.string(subscription, 'protocol');
      if (!PROTOCOLS.has(protocol))
        throw new UnsupportedTerraformError(subscription.address, `protocol ${protocol} is not served locally (${[...PROTOCOLS].join(', ')} are)`);
      sns.subscribe(model.string(subscription, 'topic_arn'), protocol, model.string(subscription, 'endpoint'), model.attributes(subscription).arn as string);
    }
    serve(QUERY_PROTOCOL, sns.api());
    provide('sns', sns);
    integrate('sns', integration(binding, sns));
    page('/_local/notifications', () => sns.notifications());
    onIdle(async () => {
      await sns.drain();
      return true;
    });
    status('sns', () => ({ topics: sns.topics().map((topic) => ({ arn: topic.arn, subscriptions: topic.subscriptions.length, published: topic.published })) }));
    summary(
      'topics',
      sns
        .topics()
        .map((topic) => `${topic.name}${topic.keyArn ? ' (customer-managed key)' : ''}`)
        .join(', '),
    );
  },
};

/** A subscription of a topic. */
interface Subscription {
  readonly arn: string;
  readonly topicArn: string;
  readonly protocol: string;
  readonly endpoint: string;
}

/** A topic. */
interface Topic {
  readonly name: string;
  readonly arn: string;
  /** Its customer-managed key (undefined: not encrypted, or the AWS managed key). */
  readonly keyArn?: string;
  /** Its access policy as synthesized (what GetTopicAttributes answers; the gate evaluates it). */
  readonly policy?: string;
  readonly subscriptions: Subscription[];
  published: number;
}

/** What a subscription was sent, or would have been (email), and when. */
interface Notification {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subscription?: { readonly arn: string; readonly protocol: string; readonly endpoint: string; readonly delivered: boolean; readonly reason?: string };
  readonly publishedBy: string;
  readonly subject?: string;
  readonly message: string;
  readonly attributes: Readonly<Record<string, { readonly DataType: string; readonly StringValue?: string }>>;
  readonly time: string;
}

/** One message to publish: its text, subject and attributes, as the Publish API takes them. */
interface Message {
  readonly message: string;
  readonly subject?: string;
  readonly attributes?: Notification['attributes'];
}

/** Options of {@link LocalSns}. */
interface LocalSnsOptions {
  readonly region: string;
  readonly account: string;
  /** Authorizes the calls of roles, client identities and services; without it, {@link LocalSns.authorize} refuses. */
  readonly gate?: IamGate;
  /** Where `sqs` subscriptions deliver. */
  readonly sqs?: LocalSqs;
}

/** The local SNS. */
class LocalSns {
  readonly #options: LocalSnsOptions;
  readonly #topics = new Map<string, Topic>();
  readonly #notifications: Notification[] = [];
  readonly #deliveries = new Set<Promise<void>>();

  constructor(options: LocalSnsOptions) {
    this.#options = options;
  }

  /** Creates a topic, or answers the one of that name (CreateTopic is idempotent). */
  createTopic(name: string, options: { keyArn?: string; policy?: string } = {}): Topic {
    enforceLength(AWS_LIMITS.snsTopicNameLength, name);
    enforceCharacters(AWS_LIMITS.snsTopicNameCharacters, name);
    const arn = `arn:aws:sns:${this.#options.region}:${this.#options.account}:${name}`;
    const existing = this.#topics.get(arn);
    if (existing) return existing;
    const topic: Topic = { name, arn, ...options, subscriptions: [], published: 0 };
    this.#topics.set(arn, topic);
    return topic;
  }

  /** Every topic. */
  topics(): Topic[] {
    return [...this.#topics.values()];
  }

  /** A topic by ARN, or SNS's `NotFound`. */
  topic(arn: string): Topic {
    const topic = this.#topics.get(arn);
    if (!topic) throw new AwsError('NotFound', 'Topic does not exist', 404);
    return topic;
  }

  /** Subscribes `endpoint` to a topic with a protocol a local subscription delivers with; returns the subscription. */
  subscribe(topicArn: string, protocol: string, endpoint: string, arn = `${topicArn}:${randomUUID()}`): Subscription {
    const topic = this.topic(topicArn);
    if (!PROTOCOLS.has(protocol))
      throw new AwsError('InvalidParameter', `Invalid parameter: Protocol ${protocol} is not served locally (${[...PROTOCOLS].join(', ')} are)`);
    if (protocol === 'sqs' && !this.#options.sqs?.byArn(endpoint))
      throw new AwsError('InvalidParameter', `Invalid parameter: Endpoint ${endpoint} is not a queue of the local runtime`);
    const existing = topic.subscriptions.find((subscription) => subscription.protocol === protocol && subscription.endpoint === endpoint);
    if (existing) return existing;
    const subscription: Subscription = { arn, topicArn, protocol, endpoint };
    topic.subscriptions.push(subscription);
    return subscription;
  }

  /** Resolves when every delivery started so far (to a queue) has finished. */
  async drain(): Promise<void> {
    while (this.#deliveries.size > 0) await Promise.allSettled([...this.#deliveries]);
  }

  /** The notifications kept, oldest first. */
  notifications(): readonly Notification[] {
    return this.#notifications;
  }

  /**
   * Authorizes an SNS call on the topic it names: the action under the
   * caller's policies and the topic policy, and for a publish to a topic with
   * a customer-managed key, the key's use. `context`: the request context a
   * service principal brings (`aws:SourceArn`, `aws:SourceAccount`).
   */
  authorize(principal: Principal, operation: string, topicArn: string | undefined, context: Record<string, string> = {}): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const { region, account } = this.#options;
    const requests: IamRequest[] = [{ principal, action: `sns:${operation}`, resource: topicArn ?? '*', context }];
    const keyArn = topicArn ? this.#topics.get(topicArn)?.keyArn : undefined;
    if (operation === 'Publish' && keyArn) {
      const [decrypt] = viaService(principal, keyArn, 'sns', region, account, false) as [IamRequest];
      requests.push({ ...decrypt, action: 'kms:GenerateDataKey' }, decrypt);
    }
    return authorizeAll(this.#options.gate, requests);
  }

  /**
   * Publishes a message to a topic as `principal` (authorized first: a
   * denial throws and nothing is sent) and sends it to every subscription;
   * returns its message id.
   */
  async publish(principal: Principal, topicArn: string, message: Message, context: Record<string, string> = {}): Promise<string> {
    const topic = this.topic(topicArn);
    await this.authorize(principal, 'Publish', topicArn, context);
    return this.#send(topic, principal, message);
  }

  /** Sends an authorized message to every subscription of the topic (kept when it has none). */
  #send(topic: Topic, principal: Principal, { message, subject, attributes = {} }: Message): string {
    const bytes =
      Buffer.byteLength(message, 'utf8') +
      Object.entries(attributes).reduce((total, [name, value]) => total + Buffer.byteLength(`${name}${value.DataType}${value.StringValue ?? ''}`, 'utf8'), 0);
    enforceBytes(AWS_LIMITS.snsMessageSize, bytes);
    const messageId = randomUUID();
    const time = new Date().toISOString();
    const publishedBy =
      principal.kind === 'role' ? principal.arn : principal.kind === 'service' ? principal.service : `arn:aws:iam::${this.#options.account}:root`;
    const base = { messageId, topicArn: topic.arn, publishedBy, ...(subject !== undefined ? { subject } : {}), message, attributes, time };
    topic.published++;
    if (topic.subscriptions.length === 0) this.#keep(base);
    for (const subscription of topic.subscriptions) {
      const kept = (outcome: { delivered: boolean; reason?: string }) =>
        this.#keep({ ...base, subscription: { arn: subscription.arn, protocol: subscription.protocol, endpoint: subscription.endpoint, ...outcome } });
      if (subscription.protocol !== 'sqs') {
        kept({ delivered: false, reason: 'no email leaves the local runtime: this is what the subscription would be sent' });
        continue;
      }
      // Asynchronous, as SNS delivers after Publish answers; a failure is the delivery's, never the publisher's.
      const delivery = this.#toQueue(subscription, base)
        .then(kept, (error: unknown) => kept({ delivered: false, reason: `the delivery failed: ${(error as Error).message}` }))
        .finally(() => this.#deliveries.delete(delivery));
      this.#deliveries.add(delivery);
    }
    return messageId;
  }

  /** SNS sends to a queue as the SNS service principal, for the topic, under the queue's policy (and key). */
  async #toQueue(subscription: Subscription, notification: Omit<Notification, 'subscription'>): Promise<{ delivered: boolean; reason?: string }> {
    const sqs = this.#options.sqs;
    const queue = sqs?.byArn(subscription.endpoint);
    if (!sqs || !queue) return { delivered: false, reason: `queue ${subscription.endpoint} does not exist` };
    try {
      await sqs.authorize({ kind: 'service', service: 'sns.amazonaws.com' }, 'SendMessage', queue.url, {
        'aws:SourceArn': subscription.topicArn,
        'aws:SourceAccount': this.#options.account,
      });
    } catch (error) {
      if (error instanceof AccessDeniedError) return { delivered: false, reason: `the queue refused it: ${error.message}` };
      throw error;
    }
    queue.send(JSON.stringify(envelope(notification)));
    return { delivered: true };
  }

  #keep(notification: Notification): void {
    this.#notifications.push(notification);
    if (this.#notifications.length > NOTIFICATIONS_KEPT) this.#notifications.shift();
  }

  /** The SNS API in the query protocol. */
  api(): QueryApi {
    const accessDenied = { code: 'AuthorizationError', status: 403 };
    return {
      signingName: 'sns',
      version: '2010-03-31',
      xmlNamespace: 'http://sns.amazonaws.com/doc/2010-03-31/',
      accessDenied,
      authorize: (principal, operation, params) =>
        this.authorize(
          principal,
          operation,
          operation === 'CreateTopic'
            ? `arn:aws:sns:${this.#options.region}:${this.#options.account}:${params.Name ?? ''}`
            : (params.TopicArn ?? params.TargetArn),
        ),
      operations: {
        CreateTopic: (params) => {
          if (Object.keys(params).some((name) => name.startsWith('Attributes.')))
            throw new AwsError(
              'InvalidParameter',
              'Invalid parameter: Attributes (a topic created through the local API takes none; the stacks define the ones they need)',
            );
          return { TopicArn: this.createTopic(requireParam(params, 'Name')).arn };
        },
        Subscribe: (params) => ({
          SubscriptionArn: this.subscribe(requireParam(params, 'TopicArn'), requireParam(params, 'Protocol'), requireParam(params, 'Endpoint')).arn,
        }),
        // The caller is authorized by the protocol before the operation runs (the topic policy and the key included).
        Publish: (params, caller) => {
          const topicArn = params.TopicArn ?? params.TargetArn;
          if (params.PhoneNumber !== undefined || topicArn === undefined)
            throw new AwsError('InvalidParameter', 'Invalid parameter: TopicArn (the local SNS publishes to topics only: no SMS, no platform endpoints)');
          return { MessageId: this.#send(this.topic(topicArn), caller, publishedMessage(params)) };
        },
        ListTopics: () => ({ Topics: this.topics().map((topic) => ({ TopicArn: topic.arn })) }),
        ListSubscriptionsByTopic: (params) => ({
          Subscriptions: this.topic(requireParam(params, 'TopicArn')).subscriptions.map((subscription) => ({
            SubscriptionArn: subscription.arn,
            Owner: this.#options.account,
            Protocol: subscription.protocol,
            Endpoint: subscription.endpoint,
            TopicArn: subscription.topicArn,
          })),
        }),
        GetTopicAttributes: (params) => {
          const topic = this.topic(requireParam(params, 'TopicArn'));
          return {
            Attributes: new XmlMap({
              TopicArn: topic.arn,
              Owner: this.#options.account,
              DisplayName: '',
              SubscriptionsConfirmed: String(topic.subscriptions.length),
              SubscriptionsPending: '0',
              SubscriptionsDeleted: '0',
              ...(topic.policy ? { Policy: topic.policy } : {}),
              ...(topic.keyArn ? { KmsMasterKeyId: topic.keyArn } : {}),
            }),
          };
        },
      },
    };
  }
}

/**
 * The message of a Publish call: `Message` (with `MessageStructure=json`, its
 * `default`), `Subject`, and `MessageAttributes.entry.N.{Name,Value.DataType,Value.StringValue}`.
 */
function publishedMessage(params: QueryParams): Message {
  let message = requireParam(params, 'Message');
  if (params.MessageStructure === 'json') {
    let structured: unknown;
    try {
      structured = JSON.parse(message);
    } catch {
      throw new AwsError('InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
    }
    const fallback = (structured as { default?: unknown } | null)?.default;
    if (typeof fallback !== 'string') throw new AwsError('InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
    message = fallback;
  }
  const attributes: Record<string, { DataType: string; StringValue?: string }> = {};
  for (let index = 1; params[`MessageAttributes.entry.${index}.Name`] !== undefined; index++) {
    const prefix = `MessageAttributes.entry.${index}`;
    const dataType = requireParam(params, `${prefix}.Value.DataType`);
    const value = params[`${prefix}.Value.StringValue`] ?? params[`${prefix}.Value.BinaryValue`];
    attributes[params[`${prefix}.Name`] as string] = { DataType: dataType, ...(value !== undefined ? { StringValue: value } : {}) };
  }
  return { message, ...(params.Subject !== undefined ? { subject: params.Subject } : {}), attributes };
}

/** The JSON SNS sends to an SQS subscription (raw message delivery off), without the signature fields: nothing signs locally. */
function envelope(notification: Omit<Notification, 'subscription'>): Record<string, unknown> {
  return {
    Type: 'Notification',
    MessageId: notification.messageId,
    TopicArn: notification.topicArn,
    ...(notification.subject !== undefined ? { Subject: notification.subject } : {}),
    Message: notification.message,
    Timestamp: notification.time,
    MessageAttributes: Object.fromEntries(
      Object.entries(notification.attributes).map(([name, value]) => [name, { Type: value.DataType, Value: value.StringValue }]),
    ),
  };
}

/**
 * How other services call SNS: a rule's target (EventBridge publishes each
 * event, as JSON, under the topic policy and key), and the workflow's
 * `sns:publish` Task (as the execution role), whose failures carry the names
 * of the SDK's SNS exceptions under the `SNS.` prefix, as the workflow's other
 * integrations do.
 */
function integration({ account }: Binding, sns: LocalSns): Integration {
  return {
    target: ({ resource, arn, ruleArn }) => {
      if (!sns.topics().some((topic) => topic.arn === arn)) throw new UnsupportedTerraformError(resource.address, `topic ${arn} is not defined in the stacks`);
      return async (event) => {
        await sns.publish(EVENTBRIDGE, arn, { message: JSON.stringify(event) }, { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': account });
      };
    },
    task: (action, principal) =>
      action !== 'publish'
        ? undefined
        : async (input) => {
            const { TopicArn, Message, Subject } = input as { TopicArn?: string; Message?: unknown; Subject?: string };
            try {
              const message = typeof Message === 'string' ? Message : JSON.stringify(Message);
              return { MessageId: await sns.publish(principal, String(TopicArn), { message, ...(Subject !== undefined ? { subject: Subject } : {}) }) };
            } catch (error) {
              if (error instanceof AccessDeniedError)
                throw new TaskError(
                  'SNS.AuthorizationErrorException',
                  `${error.message} (Service: AmazonSNS, Status Code: 403, Error Code: AuthorizationError)`,
                  { cause: error },
                );
              if (error instanceof AwsError) throw new TaskError(`SNS.${error.type}Exception`, error.message, { cause: error });
              throw error;
            }
          },
  };
}
