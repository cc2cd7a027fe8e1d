/**
 * Maps each call the local services receive to the IAM requests AWS would
 * evaluate for it: the API action on its resource, and the KMS calls the
 * service makes with the caller's permissions when the resource is encrypted
 * with a customer-managed key (tables and their streams, secrets, queues),
 * with `kms:ViaService` set as AWS sets it.
 */
import type { IamGate, IamRequest, Principal } from './iam';

/** A DynamoDB table as the gate needs it. */
export interface TableResource {
  readonly name: string;
  readonly arn: string;
  readonly streamArn?: string;
  /** Customer-managed key, when the table is encrypted with one. */
  readonly keyArn?: string;
}

/** What the authorizer knows of the local resources. */
export interface ResourceCatalog {
  readonly region: string;
  readonly tables: readonly TableResource[];
  /** Secret ARN → its key (undefined: the AWS managed key). */
  readonly secretKeys: ReadonlyMap<string, string | undefined>;
  /** Queue URL or name → ARN and key. */
  readonly queues: ReadonlyMap<string, { readonly arn: string; readonly keyArn?: string }>;
}

/** DynamoDB operations that write (DynamoDB then encrypts with the table key). */
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
/** DynamoDB operations that touch no item. */
const DYNAMODB_CONTROL = new Set(['CreateTable', 'DeleteTable', 'DescribeTable', 'ListTables', 'UpdateTable', 'DescribeTimeToLive', 'UpdateTimeToLive', 'TagResource', 'ListTagsOfResource']);

/** The service-call side of the IAM gate. */
export class Authorizer {
  readonly gate: IamGate;
  readonly #catalog: ResourceCatalog;

  constructor(gate: IamGate, catalog: ResourceCatalog) {
    this.gate = gate;
    this.#catalog = catalog;
  }

  /** A table by name or ARN. */
  table(nameOrArn: string): TableResource | undefined {
    return this.#catalog.tables.find((table) => table.name === nameOrArn || table.arn === nameOrArn);
  }

  /** Authorizes every request in order; the first denial throws. */
  async all(requests: readonly IamRequest[]): Promise<void> {
    for (const request of requests) await this.gate.authorize(request);
  }

  /** A DynamoDB API call (`DynamoDB_20120810.<operation>`). */
  dynamodb(principal: Principal, operation: string, body: Record<string, unknown>): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const names = new Set<string>();
    if (typeof body.TableName === 'string') names.add(body.TableName);
    for (const key of ['RequestItems']) {
      const items = body[key];
      if (items && typeof items === 'object') for (const name of Object.keys(items)) names.add(name);
    }
    const requests: IamRequest[] = [];
    if (names.size === 0) requests.push({ principal, action: `dynamodb:${operation}`, resource: '*' });
    for (const name of names) {
      const table = this.table(name);
      const arn = table?.arn ?? `arn:aws:dynamodb:${this.#catalog.region}:000000000000:table/${name}`;
      requests.push({ principal, action: `dynamodb:${operation}`, resource: arn });
      if (table?.keyArn && !DYNAMODB_CONTROL.has(operation)) requests.push(...this.#viaService(principal, table.keyArn, 'dynamodb', DYNAMODB_WRITES.has(operation)));
    }
    return this.all(requests);
  }

  /** A DynamoDB Streams API call, or the stream mapping's reads (`DescribeStream`, `GetShardIterator`, `GetRecords`, `ListStreams`). */
  stream(principal: Principal, operation: string, streamArn: string | undefined): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const table = streamArn ? this.#catalog.tables.find((candidate) => candidate.streamArn === streamArn) : undefined;
    const requests: IamRequest[] = [{ principal, action: `dynamodb:${operation}`, resource: operation === 'ListStreams' ? '*' : (streamArn ?? '*') }];
    if (operation === 'GetRecords' && table?.keyArn) requests.push(...this.#viaService(principal, table.keyArn, 'dynamodb', false));
    return this.all(requests);
  }

  /** `secretsmanager:GetSecretValue` and the secret key's `Decrypt`. */
  secret(principal: Principal, operation: string, secretArn: string | undefined): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const arn = secretArn ?? '*';
    const requests: IamRequest[] = [{ principal, action: `secretsmanager:${operation}`, resource: arn }];
    const keyArn = secretArn ? this.#catalog.secretKeys.get(secretArn) : undefined;
    if (operation === 'GetSecretValue' && keyArn) requests.push(...this.#viaService(principal, keyArn, 'secretsmanager', false));
    // A new value is encrypted under a data key of the secret's key.
    if (operation === 'PutSecretValue' && keyArn) requests.push(...this.#viaService(principal, keyArn, 'secretsmanager', false).map((request) => ({ ...request, action: 'kms:GenerateDataKey' })));
    return this.all(requests);
  }

  /** An SQS call on a queue (by URL or name), with the queue policy and key. */
  queue(principal: Principal, operation: string, queueUrlOrName: string, context: Record<string, string> = {}): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const queue = this.#catalog.queues.get(queueUrlOrName) ?? this.#catalog.queues.get(queueUrlOrName.split('/').pop() ?? '');
    const arn = queue?.arn ?? `arn:aws:sqs:${this.#catalog.region}:000000000000:${queueUrlOrName.split('/').pop() ?? ''}`;
    const requests: IamRequest[] = [{ principal, action: `sqs:${operation}`, resource: arn, context }];
    if (queue?.keyArn && (operation === 'SendMessage' || operation === 'ReceiveMessage')) {
      requests.push(...this.#viaService(principal, queue.keyArn, 'sqs', operation === 'SendMessage'));
    }
    return this.all(requests);
  }

  /** The KMS requests a service makes with the caller's permissions. */
  #viaService(principal: Principal, keyArn: string, service: string, write: boolean): IamRequest[] {
    const context = { 'kms:ViaService': `${service}.${this.#catalog.region}.amazonaws.com`, 'kms:CallerAccount': '000000000000' };
    const actions = write ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
    return actions.map((action) => ({ principal, action, resource: keyArn, context }));
  }
}

/**
 * The IAM requests of one `PutEvents` call: one per bus it names, each with
 * the values of all that bus's entries in the multivalued keys
 * `events:source` and `events:detail-type`, as EventBridge authorizes a call.
 */
export function putEventsRequests(principal: Principal, entries: readonly unknown[], region: string, account: string): IamRequest[] {
  const byBus = new Map<string, { sources: Set<string>; detailTypes: Set<string> }>();
  for (const entry of entries) {
    const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const bus = typeof fields.EventBusName === 'string' && fields.EventBusName.startsWith('arn:') ? fields.EventBusName : `arn:aws:events:${region}:${account}:event-bus/${String(fields.EventBusName ?? 'default')}`;
    const values = byBus.get(bus) ?? { sources: new Set<string>(), detailTypes: new Set<string>() };
    if (typeof fields.Source === 'string') values.sources.add(fields.Source);
    if (typeof fields.DetailType === 'string') values.detailTypes.add(fields.DetailType);
    byBus.set(bus, values);
  }
  return [...byBus].map(([resource, values]) => ({
    principal,
    action: 'events:PutEvents',
    resource,
    // A key with no value is absent, as in AWS (the policies' Null guard then refuses).
    context: {
      ...(values.sources.size > 0 ? { 'events:source': [...values.sources] } : {}),
      ...(values.detailTypes.size > 0 ? { 'events:detail-type': [...values.detailTypes] } : {}),
    },
  }));
}
