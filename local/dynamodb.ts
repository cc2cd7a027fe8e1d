/**
 * DynamoDB for the local runtime: dynalite serves the API; this layer adds
 * DynamoDB Streams, captured at the API boundary. Any client writing to a
 * stream-enabled table through the endpoint produces stream records with keys,
 * images (per the stream view type), event names and increasing sequence
 * numbers. The DynamoDB Streams API (`DynamoDBStreams_20120810.*`) reads them.
 */
import { STREAM_RETENTION_SECONDS } from '../config/environments';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import dynalite from 'dynalite';
import { isDeepStrictEqual } from 'node:util';
import { createHash } from 'node:crypto';
import { JSON_PROTOCOL, type JsonService } from './protocols/json';
import { AccessDeniedError, AwsError, TaskError } from './errors';
import type { IamGate, IamRequest, Principal } from './iam';
import { Journal } from './journal';
import { authorizeAll, viaService } from './kms';
import { dynamodbEndpointsByRole } from './policies';
import type { Integration, LocalService } from './service';
import type { TerraformModel, TerraformResource } from './terraform';

declare module './service' {
  interface Parts {
    dynamodb: LocalDynamoDB;
  }
}

/**
 * The DynamoDB service: every `aws_dynamodb_table` becomes a dynalite table
 * with its keys and stream; the DynamoDB and DynamoDB Streams APIs are served
 * on the endpoint, authorized with the table's ARN and key.
 */
export const dynamodbService: LocalService = {
  name: 'dynamodb',
  serves: {
    aws_dynamodb_table: {
      becomes: 'a dynalite table (keys, stream, key)',
      attributes: (model, resource) => {
        const { region, account } = model.context;
        const table = model.string(resource, 'name');
        const arn = `arn:aws:dynamodb:${region}:${account}:table/${table}`;
        return { id: table, name: table, arn, stream_arn: `${arn}/stream/1970-01-01T00:00:00.000`, stream_label: '1970-01-01T00:00:00.000' };
      },
    },
  },
  async bind({ model, region, account, gate, options, log, serve, provide, integrate, summary, onStart, onStop }) {
    const endpoints = dynamodbEndpointsByRole(model);
    const dynamodb = new LocalDynamoDB({
      region,
      account,
      gate,
      endpointFor: (principal) => (principal.kind === 'role' ? endpoints.get(principal.arn) : undefined),
      ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    });
    await dynamodb.start();
    onStop(() => dynamodb.stop());
    for (const table of model.resources('aws_dynamodb_table')) {
      const { resource, definition } = tableFromModel(model, table);
      await dynamodb.declareTable(resource, definition);
      summary(
        'table',
        `${resource.name}${resource.keyArn ? ' (customer-managed key)' : ''}${resource.maxWriteRequestUnits !== undefined ? `, writes capped at ${resource.maxWriteRequestUnits} WRU/s` : ''}`,
      );
    }
    serve(JSON_PROTOCOL, dynamodb.dynamoService());
    serve(JSON_PROTOCOL, dynamodb.streamsService());
    provide('dynamodb', dynamodb);
    integrate('dynamodb', workflowTasks(dynamodb));
    if (options.dataDir) {
      onStart(async () => {
        for (const recovered of await dynamodb.recoverStreams()) {
          if (recovered.recovered > 0)
            log(`stream of ${recovered.table}: ${recovered.recovered} stored changes had no stream record (a crash between the two); recorded now`);
        }
      });
    }
  },
};

/**
 * The workflow's `dynamodb:<operation>` Tasks (`putItem`, `updateItem`, ...):
 * the operation as the execution role, on the table and its key; failures
 * named as Step Functions names DynamoDB's (`DynamoDB.ConditionalCheckFailedException`).
 */
export function workflowTasks(dynamodb: LocalDynamoDB): Integration {
  return {
    task: (action, principal) => async (input) => {
      const operation = action.charAt(0).toUpperCase() + action.slice(1);
      let response;
      try {
        await dynamodb.authorize(principal, operation, input as Record<string, unknown>);
        response = await dynamodb.call(operation, input as Record<string, unknown>);
      } catch (error) {
        if (error instanceof AccessDeniedError)
          throw new TaskError('DynamoDB.AmazonDynamoDBException', `${error.message} (Service: DynamoDb, Status Code: 400, Error Code: AccessDeniedException)`, {
            cause: error,
          });
        throw new TaskError(`DynamoDB.${(error as Error).name}`, (error as Error).message, { cause: error });
      }
      if (response.status !== 200) {
        const { __type: type, message = response.body.Message } = response.body;
        throw new TaskError(
          `DynamoDB.${(typeof type === 'string' ? type : 'AmazonDynamoDBException').split('#').pop()}`,
          typeof message === 'string' ? message : '',
        );
      }
      return response.body;
    },
  };
}

/** A DynamoDB table as Terraform defines it: what authorization and the write cap need. */
export interface TableResource {
  readonly name: string;
  readonly arn: string;
  readonly streamArn?: string;
  /** Customer-managed key, when the table is encrypted with one. */
  readonly keyArn?: string;
  /** The on-demand maximum write throughput (`on_demand_throughput.max_write_request_units`), write request units per second. */
  readonly maxWriteRequestUnits?: number;
}

/** A synthesized `aws_dynamodb_table`: what the local table is (keys, stream, key, write cap) and its CreateTable request. */
export function tableFromModel(model: TerraformModel, table: TerraformResource): { resource: TableResource; definition: Record<string, unknown> } {
  const attributes = model.attributes(table);
  const hashKey = model.string(table, 'hash_key');
  const rangeKey = model.field(table, 'range_key') as string | undefined;
  const streamed = model.field(table, 'stream_enabled') === true;
  const keyArn = model.field(table, 'server_side_encryption', 'kms_key_arn') as string | undefined;
  const cap = model.field(table, 'on_demand_throughput', 'max_write_request_units') as number | undefined;
  return {
    resource: {
      name: attributes.name as string,
      arn: attributes.arn as string,
      ...(streamed ? { streamArn: attributes.stream_arn as string } : {}),
      ...(keyArn ? { keyArn } : {}),
      // -1 removes a cap (UpdateTable's OnDemandThroughput).
      ...(cap !== undefined && cap > 0 ? { maxWriteRequestUnits: cap } : {}),
    },
    definition: {
      TableName: attributes.name,
      KeySchema: [{ AttributeName: hashKey, KeyType: 'HASH' }, ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: 'RANGE' }] : [])],
      AttributeDefinitions: ((model.field(table, 'attribute') as { name: string; type: string }[]) ?? []).map((item) => ({
        AttributeName: item.name,
        AttributeType: item.type,
      })),
      BillingMode: 'PAY_PER_REQUEST',
      ...(streamed
        ? { StreamSpecification: { StreamEnabled: true, StreamViewType: model.string(table, 'stream_view_type'), StreamLabel: attributes.stream_label } }
        : {}),
    },
  };
}

/**
 * An item's size as DynamoDB counts it for capacity: each attribute's name
 * (UTF-8 bytes) and value: a string its UTF-8 bytes, a number about one byte
 * per two significant digits plus one, binary its bytes, a Boolean or null one
 * byte, a list or map 3 bytes plus its elements and one byte each, a set the
 * sum of its members.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
 */
export function itemSizeBytes(item: AttributeMap): number {
  const value = (attribute: Record<string, unknown>): number => {
    const [type, content] = Object.entries(attribute)[0] ?? ['NULL', true];
    switch (type) {
      case 'S':
        return Buffer.byteLength(String(content), 'utf8');
      case 'N':
        return (
          Math.ceil(
            String(content)
              .replace(/^[-+]?0*|\.|e.*$/gi, '')
              .replace(/0+$/, '').length / 2,
          ) + 1
        );
      case 'B':
        return Buffer.from(String(content), 'base64').length;
      case 'SS':
        return (content as string[]).reduce((total, member) => total + Buffer.byteLength(member, 'utf8'), 0);
      case 'NS':
        return (content as string[]).reduce((total, member) => total + value({ N: member }), 0);
      case 'BS':
        return (content as string[]).reduce((total, member) => total + Buffer.from(member, 'base64').length, 0);
      case 'L':
        return 3 + (content as Record<string, unknown>[]).reduce((total, element) => total + 1 + value(element), 0);
      case 'M':
        return (
          3 +
          Object.entries(content as Record<string, Record<string, unknown>>).reduce(
            (total, [name, element]) => total + 1 + Buffer.byteLength(name, 'utf8') + value(element),
            0,
          )
        );
      default:
        return 1;
    }
  };
  return Object.entries(item).reduce((total, [name, attribute]) => total + Buffer.byteLength(name, 'utf8') + value(attribute as Record<string, unknown>), 0);
}

/** Write request units of one item write: one per KB of the item, at least one. */
function writeUnits(item: AttributeMap | undefined): number {
  return item === undefined ? 1 : Math.max(1, Math.ceil(itemSizeBytes(item) / 1024));
}

/** DynamoDB operations that write (DynamoDB then encrypts with the table key). */
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
/** DynamoDB operations that touch no item. */
const DYNAMODB_CONTROL = new Set([
  'CreateTable',
  'DeleteTable',
  'DescribeTable',
  'ListTables',
  'UpdateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'TagResource',
  'ListTagsOfResource',
]);

/** A stream journal line: a record, or (after compaction) what an expired record left known about its key. */
type StreamEntry =
  | { readonly op: 'record'; readonly record: StreamRecord; readonly image: string | null }
  | { readonly op: 'known'; readonly key: string; readonly image: string | null };

/** A key's identity in the journal. */
function keyId(key: AttributeMap): string {
  return JSON.stringify(
    Object.keys(key)
      .sort()
      .map((name) => [name, key[name]]),
  );
}

/** An image's identity in the journal (null: the item does not exist). */
function imageId(image: AttributeMap | undefined): string | null {
  return image === undefined
    ? null
    : createHash('sha256')
        .update(
          JSON.stringify(
            Object.keys(image)
              .sort()
              .map((name) => [name, image[name]]),
          ),
        )
        .digest('hex');
}

type AttributeMap = Record<string, unknown>;
type StreamViewType = 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';

/** One stream record, in the shape Lambda and GetRecords deliver. */
export interface StreamRecord {
  readonly eventID: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly eventVersion: '1.1';
  readonly eventSource: 'aws:dynamodb';
  readonly awsRegion: string;
  readonly dynamodb: {
    readonly ApproximateCreationDateTime: number;
    readonly Keys: AttributeMap;
    readonly NewImage?: AttributeMap;
    readonly OldImage?: AttributeMap;
    readonly SequenceNumber: string;
    readonly SizeBytes: number;
    readonly StreamViewType: StreamViewType;
  };
  readonly eventSourceARN: string;
}

/** A table's stream: one shard, records in order. */
export class TableStream {
  readonly arn: string;
  readonly label: string;
  readonly shardId = 'shardId-00000001-00000000000000000001';
  readonly viewType: StreamViewType;
  readonly records: StreamRecord[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(
    readonly table: string,
    viewType: StreamViewType,
    region: string,
    account: string,
    label = new Date().toISOString().slice(0, 23),
  ) {
    this.viewType = viewType;
    this.label = label;
    this.arn = `arn:aws:dynamodb:${region}:${account}:table/${table}/stream/${label}`;
  }

  append(record: StreamRecord): void {
    this.records.push(record);
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves when a record is appended or after `timeoutMs`. */
  waitForRecords(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve();
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.add(wake);
    });
  }

  /** Index of the first record with a sequence number ≥ `sequenceNumber`. */
  indexOf(sequenceNumber: string): number {
    const index = this.records.findIndex((record) => record.dynamodb.SequenceNumber >= sequenceNumber);
    return index === -1 ? this.records.length : index;
  }
}

/** Options of {@link LocalDynamoDB}. */
export interface LocalDynamoDBOptions {
  readonly region: string;
  readonly account: string;
  /** Folder to persist tables in; in memory when omitted. */
  readonly dataDir?: string;
  /** Authorizes the calls of roles and client identities; without it, {@link LocalDynamoDB.authorize} refuses. */
  readonly gate?: IamGate;
  /** The VPC endpoint a caller reaches DynamoDB through (a function in the VPC), whose policy its calls must pass too. */
  readonly endpointFor?: (principal: Principal) => string | undefined;
  /** The clock of the write caps (ms). @default Date.now */
  readonly now?: () => number;
}

/** The result of one forwarded call. */
interface DynamoResult {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/** dynalite plus streams, served as `DynamoDB_20120810.*` and `DynamoDBStreams_20120810.*`. */
export class LocalDynamoDB {
  readonly #options: LocalDynamoDBOptions;
  #instance: ReturnType<typeof dynalite> | undefined;
  #url = '';
  readonly #streams = new Map<string, TableStream>();
  readonly #keySchemas = new Map<string, string[]>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #journals = new Map<string, Journal<StreamEntry>>();
  readonly #declared: TableResource[] = [];
  /** The writes of the last second on each capped table, by table name. */
  readonly #writeWindows = new Map<string, { at: number; units: number }[]>();
  /** Tables that did not exist before this start (the read model derived from one starts empty too). */
  readonly created = new Set<string>();
  #sequence = 0n;

  constructor(options: LocalDynamoDBOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const dataDir = this.#options.dataDir;
    if (dataDir) await mkdir(dataDir, { recursive: true });
    this.#instance = dynalite({
      createTableMs: 0,
      deleteTableMs: 0,
      updateTableMs: 0,
      ...(dataDir ? { path: path.join(dataDir, 'dynamodb') } : {}),
    });
    await new Promise<void>((resolve) => this.#instance!.listen(0, '127.0.0.1', resolve));
    this.#url = `http://127.0.0.1:${(this.#instance.address() as AddressInfo).port}`;
    await this.#loadStreamSettings();
  }

  async stop(): Promise<void> {
    const instance = this.#instance;
    this.#instance = undefined;
    if (instance) await new Promise<void>((resolve) => instance.close(() => resolve()));
  }

  /** The stream of `table`, if it has one. */
  stream(table: string): TableStream | undefined {
    return this.#streams.get(table);
  }

  /** Calls an operation as a client would; the workflow's DynamoDB integrations use this. */
  async call(operation: string, body: Record<string, unknown>): Promise<DynamoResult> {
    if (WRITE_OPERATIONS.has(operation)) return this.#throttled(operation, body) ?? this.#write(operation, body);
    switch (operation) {
      case 'CreateTable':
        return this.#createTable(body);
      case 'DescribeTable':
        return this.#describeTable(body);
      case 'DeleteTable': {
        const result = await this.#forward(operation, body);
        if (result.status === 200) {
          this.#streams.delete(String(body.TableName));
          await this.#saveStreamSettings();
        }
        return result;
      }
      case 'TransactWriteItems':
      case 'TransactGetItems':
        throw new AwsError('UnknownOperationException', `${operation} is not supported by the local DynamoDB (dynalite)`);
      default:
        return this.#forward(operation, body);
    }
  }

  /**
   * The throttle of a write that would take a capped table past its maximum
   * write throughput over the last second, as DynamoDB answers it
   * (`ThrottlingException`, reason `TableWriteMaxOnDemandThroughputExceeded`,
   * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/throttling-diagnosing-workflow.html),
   * or undefined, with the write's units counted. A put costs its item's size
   * in KB; an update or a delete one unit (the floor: the stored item's size
   * is not read for it). A batch is throttled whole.
   */
  #throttled(operation: string, body: Record<string, unknown>): DynamoResult | undefined {
    const units = new Map<string, number>();
    const add = (table: string, count: number) => units.set(table, (units.get(table) ?? 0) + count);
    if (operation === 'BatchWriteItem') {
      for (const [table, requests] of Object.entries((body.RequestItems as Record<string, { PutRequest?: { Item?: AttributeMap } }[]> | undefined) ?? {})) {
        for (const request of Array.isArray(requests) ? requests : []) add(table, request.PutRequest ? writeUnits(request.PutRequest.Item) : 1);
      }
    } else add(String(body.TableName), operation === 'PutItem' ? writeUnits(body.Item as AttributeMap | undefined) : 1);
    const now = this.#options.now?.() ?? Date.now();
    const capped = [...units].flatMap(([name, count]) => {
      const table = this.#declared.find((candidate) => candidate.name === name || candidate.arn === name);
      return table?.maxWriteRequestUnits !== undefined ? [{ table, count, window: this.#recentWrites(table.name, now) }] : [];
    });
    const over = capped.find(
      ({ table, count, window }) => window.reduce((total, write) => total + write.units, 0) + count > (table.maxWriteRequestUnits as number),
    );
    if (over) {
      return {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException',
          message: `Throughput exceeds the maximum OnDemandThroughput configured on table ${over.table.name} (${over.table.maxWriteRequestUnits} write request units per second)`,
          ThrottlingReasons: [{ reason: 'TableWriteMaxOnDemandThroughputExceeded', resource: over.table.arn }],
        },
      };
    }
    for (const { count, window } of capped) window.push({ at: now, units: count });
    return undefined;
  }

  /** The writes of the last second on a capped table (older ones are let go). */
  #recentWrites(table: string, now: number): { at: number; units: number }[] {
    const window = (this.#writeWindows.get(table) ?? []).filter((write) => write.at > now - 1_000);
    this.#writeWindows.set(table, window);
    return window;
  }

  /** Creates a table unless it exists (the pipeline's tables, at startup); true when it was created. */
  async ensureTable(definition: Record<string, unknown>): Promise<boolean> {
    const existing = await this.#forward('DescribeTable', { TableName: definition.TableName });
    if (existing.status === 200) {
      const spec = definition.StreamSpecification as { StreamEnabled?: boolean; StreamViewType?: StreamViewType; StreamLabel?: string } | undefined;
      const current = this.#streams.get(String(definition.TableName));
      if (spec?.StreamEnabled && (!current || (spec.StreamLabel !== undefined && current.label !== spec.StreamLabel))) {
        this.#enableStream(String(definition.TableName), spec.StreamViewType ?? 'NEW_IMAGE', spec.StreamLabel);
        await this.#saveStreamSettings();
      }
      return false;
    }
    const created = await this.#createTable(definition);
    if (created.status !== 200) throw new Error(`creating table ${String(definition.TableName)} failed: ${JSON.stringify(created.body)}`);
    return true;
  }

  /** Creates a table Terraform defines, unless it exists, and keeps its ARN and key for authorization. */
  async declareTable(resource: TableResource, definition: Record<string, unknown>): Promise<void> {
    if (await this.ensureTable(definition)) this.created.add(resource.name);
    this.#declared.push(resource);
  }

  /** The tables Terraform defines. */
  get tables(): readonly TableResource[] {
    return this.#declared;
  }

  /** Authorizes a DynamoDB API call: the action on each table it names, and the table key's use. */
  authorize(principal: Principal, operation: string, body: Record<string, unknown>): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const { region, account } = this.#options;
    const names = new Set<string>();
    if (typeof body.TableName === 'string') names.add(body.TableName);
    if (body.RequestItems && typeof body.RequestItems === 'object') for (const name of Object.keys(body.RequestItems)) names.add(name);
    const requests: IamRequest[] = [];
    // The DynamoDB call goes through the caller's endpoint; the KMS calls DynamoDB makes for it do not.
    const endpoint = this.#options.endpointFor?.(principal);
    const via = endpoint !== undefined ? { viaEndpoint: endpoint } : {};
    if (names.size === 0) requests.push({ principal, action: `dynamodb:${operation}`, resource: '*', ...via });
    for (const name of names) {
      const table = this.#declared.find((candidate) => candidate.name === name || candidate.arn === name);
      requests.push({
        principal,
        action: `dynamodb:${operation}`,
        resource: table?.arn ?? (name.startsWith('arn:') ? name : `arn:aws:dynamodb:${region}:${account}:table/${name}`),
        ...via,
      });
      if (table?.keyArn && !DYNAMODB_CONTROL.has(operation))
        requests.push(...viaService(principal, table.keyArn, 'dynamodb', region, account, DYNAMODB_WRITES.has(operation)));
    }
    return authorizeAll(this.#options.gate, requests);
  }

  /** Authorizes a DynamoDB Streams call, or the stream mapping's reads: the action on the stream, and its table key's use for records. */
  authorizeStream(principal: Principal, operation: string, streamArn: string | undefined): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    const { region, account } = this.#options;
    const table = streamArn ? this.#declared.find((candidate) => candidate.streamArn === streamArn) : undefined;
    const requests: IamRequest[] = [{ principal, action: `dynamodb:${operation}`, resource: operation === 'ListStreams' ? '*' : (streamArn ?? '*') }];
    if (operation === 'GetRecords' && table?.keyArn) requests.push(...viaService(principal, table.keyArn, 'dynamodb', region, account, false));
    return authorizeAll(this.#options.gate, requests);
  }

  /** The DynamoDB API as a JSON service. */
  dynamoService(): JsonService {
    return {
      targetPrefix: 'DynamoDB_20120810',
      jsonVersion: '1.0',
      operations: {},
      dispatch: (operation, body) => this.call(operation, body),
      authorize: (principal, operation, body) => this.authorize(principal, operation, body),
    };
  }

  /** The DynamoDB Streams API as a JSON service. */
  streamsService(): JsonService {
    return {
      targetPrefix: 'DynamoDBStreams_20120810',
      jsonVersion: '1.0',
      authorize: (principal, operation, body) => this.authorizeStream(principal, operation, typeof body.StreamArn === 'string' ? body.StreamArn : undefined),
      operations: {
        ListStreams: (body) => ({
          Streams: [...this.#streams.values()]
            .filter((stream) => body.TableName === undefined || stream.table === body.TableName)
            .map((stream) => ({ StreamArn: stream.arn, TableName: stream.table, StreamLabel: stream.label })),
        }),
        DescribeStream: (body) => {
          const stream = this.#streamByArn(body.StreamArn);
          return {
            StreamDescription: {
              StreamArn: stream.arn,
              StreamLabel: stream.label,
              StreamStatus: 'ENABLED',
              StreamViewType: stream.viewType,
              TableName: stream.table,
              KeySchema: (this.#keySchemas.get(stream.table) ?? []).map((name, index) => ({ AttributeName: name, KeyType: index === 0 ? 'HASH' : 'RANGE' })),
              Shards: [{ ShardId: stream.shardId, SequenceNumberRange: { StartingSequenceNumber: stream.records[0]?.dynamodb.SequenceNumber ?? '0' } }],
            },
          };
        },
        GetShardIterator: (body) => {
          const stream = this.#streamByArn(body.StreamArn);
          if (body.ShardId !== stream.shardId) throw new AwsError('ResourceNotFoundException', `shard ${String(body.ShardId)} not found`);
          const sequence = typeof body.SequenceNumber === 'string' ? body.SequenceNumber : '';
          let index: number;
          switch (body.ShardIteratorType) {
            case 'TRIM_HORIZON':
              index = 0;
              break;
            case 'LATEST':
              index = stream.records.length;
              break;
            case 'AT_SEQUENCE_NUMBER':
              index = stream.indexOf(sequence);
              break;
            case 'AFTER_SEQUENCE_NUMBER':
              index = stream.indexOf(sequence);
              if (stream.records[index]?.dynamodb.SequenceNumber === sequence) index++;
              break;
            default:
              throw new AwsError('ValidationException', 'ShardIteratorType must be TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER');
          }
          return { ShardIterator: Buffer.from(JSON.stringify({ arn: stream.arn, index })).toString('base64') };
        },
        GetRecords: (body) => {
          let position: { arn: string; index: number };
          try {
            position = JSON.parse(Buffer.from(String(body.ShardIterator), 'base64').toString('utf8')) as { arn: string; index: number };
          } catch {
            throw new AwsError('ValidationException', 'invalid ShardIterator');
          }
          const stream = this.#streamByArn(position.arn);
          const limit = typeof body.Limit === 'number' ? Math.min(Math.max(body.Limit, 1), 1000) : 1000;
          const records = stream.records.slice(position.index, position.index + limit);
          const next = position.index + records.length;
          return {
            Records: records.map(({ eventSourceARN: _, ...record }) => record),
            NextShardIterator: Buffer.from(JSON.stringify({ arn: stream.arn, index: next })).toString('base64'),
          };
        },
      },
    };
  }

  #streamByArn(arn: unknown): TableStream {
    for (const stream of this.#streams.values()) if (stream.arn === arn) return stream;
    throw new AwsError('ResourceNotFoundException', `Requested resource not found: Stream: ${String(arn)} not found`);
  }

  async #forward(operation: string, body: Record<string, unknown>): Promise<DynamoResult> {
    if (!this.#instance) throw new AwsError('ServiceUnavailable', 'the local DynamoDB is not running', 503);
    const response = await fetch(this.#url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'x-amz-date': '20220101T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=local/20220101/${this.#options.region}/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=local`,
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async #createTable(body: Record<string, unknown>): Promise<DynamoResult> {
    // StreamLabel is the local runtime's own extension: the stream ARN the synthesized stacks resolve to.
    const { StreamSpecification: spec, ...rest } = body as {
      StreamSpecification?: { StreamEnabled?: boolean; StreamViewType?: StreamViewType; StreamLabel?: string };
    };
    const result = await this.#forward('CreateTable', rest);
    if (result.status === 200 && spec?.StreamEnabled) {
      const stream = this.#enableStream(String(body.TableName), spec.StreamViewType ?? 'NEW_IMAGE', spec.StreamLabel);
      await this.#saveStreamSettings();
      const description = result.body.TableDescription as Record<string, unknown>;
      Object.assign(description, {
        StreamSpecification: { StreamEnabled: true, StreamViewType: stream.viewType },
        LatestStreamArn: stream.arn,
        LatestStreamLabel: stream.label,
      });
    }
    return result;
  }

  async #describeTable(body: Record<string, unknown>): Promise<DynamoResult> {
    const result = await this.#forward('DescribeTable', body);
    const stream = this.#streams.get(String(body.TableName));
    if (result.status === 200 && stream) {
      Object.assign(result.body.Table as Record<string, unknown>, {
        StreamSpecification: { StreamEnabled: true, StreamViewType: stream.viewType },
        LatestStreamArn: stream.arn,
        LatestStreamLabel: stream.label,
      });
    }
    return result;
  }

  #enableStream(table: string, viewType: StreamViewType, label?: string): TableStream {
    const stream = new TableStream(table, viewType, this.#options.region, this.#options.account, label);
    this.#streams.set(table, stream);
    this.#journalFor(table);
    return stream;
  }

  async #keySchema(table: string): Promise<string[]> {
    const cached = this.#keySchemas.get(table);
    if (cached) return cached;
    const described = await this.#forward('DescribeTable', { TableName: table });
    if (described.status !== 200) throw new AwsError('ResourceNotFoundException', 'Requested resource not found');
    const schema = ((described.body.Table as { KeySchema: { AttributeName: string; KeyType: string }[] }).KeySchema ?? [])
      .sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0))
      .map((key) => key.AttributeName);
    this.#keySchemas.set(table, schema);
    return schema;
  }

  /** Writes go through a per-table lock on stream tables, so each record's images are exact. */
  async #write(operation: string, body: Record<string, unknown>): Promise<DynamoResult> {
    const tables = operation === 'BatchWriteItem' ? Object.keys((body.RequestItems as Record<string, unknown>) ?? {}) : [String(body.TableName)];
    const streamed = tables.filter((table) => this.#streams.has(table));
    if (streamed.length === 0) return this.#forward(operation, body);
    return this.#withLocks(streamed, () => this.#writeWithStream(operation, body, streamed));
  }

  async #withLocks<T>(tables: string[], work: () => Promise<T>): Promise<T> {
    const previous = Promise.all(tables.flatMap((table) => this.#locks.get(table) ?? []));
    const run = previous.catch(() => undefined).then(work);
    const settled = run.catch(() => undefined);
    for (const table of tables) this.#locks.set(table, settled);
    return run;
  }

  async #writeWithStream(operation: string, body: Record<string, unknown>, streamed: string[]): Promise<DynamoResult> {
    const keys = await this.#affectedKeys(operation, body, streamed);
    let before: (AttributeMap | undefined)[];
    let after: (AttributeMap | undefined)[];
    let result: DynamoResult;
    if (operation === 'PutItem' && (body.ReturnValues === undefined || body.ReturnValues === 'NONE' || body.ReturnValues === 'ALL_OLD')) {
      // One call instead of three: a put returns the item it replaced, and the new item is the one sent.
      result = await this.#forward(operation, { ...body, ReturnValues: 'ALL_OLD' });
      if (result.status !== 200) return result;
      before = [result.body.Attributes as AttributeMap | undefined];
      after = [body.Item as AttributeMap];
      if (body.ReturnValues !== 'ALL_OLD') {
        const { Attributes: _, ...rest } = result.body;
        result = { status: result.status, body: rest };
      }
    } else {
      before = await this.#readItems(keys);
      result = await this.#forward(operation, body);
      if (result.status !== 200) return result;
      after = await this.#readItems(keys);
    }
    const now = Date.now();
    keys.forEach(({ table, key }, index) => {
      const oldImage = before[index];
      const newImage = after[index];
      if (isDeepStrictEqual(oldImage, newImage)) return; // no change, no record
      const eventName = oldImage === undefined ? 'INSERT' : newImage === undefined ? 'REMOVE' : 'MODIFY';
      this.#recordChange(table, key, oldImage, newImage, eventName, now);
    });
    return result;
  }

  /** Appends a record to its stream and, with a data folder, to the stream's journal first. */
  #appendRecord(table: string, newImage: AttributeMap | undefined, record: StreamRecord): void {
    this.#journals.get(table)?.append({ op: 'record', record, image: imageId(newImage) });
    (this.#streams.get(table) as TableStream).append(record);
  }

  #journalFor(table: string): Journal<StreamEntry> | undefined {
    if (!this.#options.dataDir) return undefined;
    let journal = this.#journals.get(table);
    if (!journal) {
      journal = new Journal<StreamEntry>(path.join(this.#options.dataDir, 'streams', `${table}.jsonl`));
      this.#journals.set(table, journal);
    }
    return journal;
  }

  /**
   * With a data folder: reloads each stream's records of the last 24 h, then
   * reconciles the stream with its table. A write that reached the table but
   * not the journal (a crash between the two) gets its record now, so no
   * stored item is ever missing from the stream; nothing is recorded twice.
   */
  async recoverStreams(): Promise<{ table: string; reloaded: number; recovered: number }[]> {
    const report: { table: string; reloaded: number; recovered: number }[] = [];
    for (const [table, stream] of this.#streams) {
      const journal = this.#journalFor(table);
      if (!journal) continue;
      const known = new Map<string, string | null>();
      const young: Extract<StreamEntry, { op: 'record' }>[] = [];
      const horizon = Date.now() / 1000 - STREAM_RETENTION_SECONDS;
      for (const entry of journal.entries()) {
        if (entry.op === 'known') {
          known.set(entry.key, entry.image);
          continue;
        }
        known.set(keyId(entry.record.dynamodb.Keys), entry.image);
        const sequence = BigInt(entry.record.dynamodb.SequenceNumber);
        if (sequence > this.#sequence) this.#sequence = sequence;
        if (entry.record.dynamodb.ApproximateCreationDateTime >= horizon) young.push(entry);
      }
      stream.records.length = 0;
      for (const entry of young) stream.records.push({ ...entry.record, eventSourceARN: stream.arn });
      const youngKeys = new Set(young.map((entry) => keyId(entry.record.dynamodb.Keys)));
      journal.rewrite([...[...known].filter(([key]) => !youngKeys.has(key)).map(([key, image]): StreamEntry => ({ op: 'known', key, image })), ...young]);

      // Reconcile with the table itself.
      let recovered = 0;
      const seen = new Set<string>();
      const schema = await this.#keySchema(table);
      let start: AttributeMap | undefined;
      do {
        const page = await this.#forward('Scan', { TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) });
        if (page.status !== 200) throw new Error(`recovering the stream of ${table}: scan failed: ${JSON.stringify(page.body)}`);
        for (const item of (page.body.Items as AttributeMap[] | undefined) ?? []) {
          const key = Object.fromEntries(schema.map((name) => [name, item[name]]));
          const id = keyId(key);
          seen.add(id);
          const previous = known.get(id);
          if (previous === imageId(item)) continue;
          // The old image of a change found this way is not known any more.
          this.#recordChange(table, key, undefined, item, previous === undefined || previous === null ? 'INSERT' : 'MODIFY');
          recovered++;
        }
        start = page.body.LastEvaluatedKey as AttributeMap | undefined;
      } while (start);
      for (const [id, image] of known) {
        if (image === null || seen.has(id)) continue;
        const key = Object.fromEntries((JSON.parse(id) as [string, unknown][]).map(([name, value]) => [name, value]));
        this.#recordChange(table, key, undefined, undefined, 'REMOVE');
        recovered++;
      }
      report.push({ table, reloaded: young.length, recovered });
    }
    return report;
  }

  /** Appends the record of one change, with the images the stream's view type carries. */
  #recordChange(
    table: string,
    key: AttributeMap,
    oldImage: AttributeMap | undefined,
    newImage: AttributeMap | undefined,
    eventName: StreamRecord['eventName'],
    now = Date.now(),
  ): void {
    const stream = this.#streams.get(table) as TableStream;
    const withNew = stream.viewType === 'NEW_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES';
    const withOld = stream.viewType === 'OLD_IMAGE' || stream.viewType === 'NEW_AND_OLD_IMAGES';
    this.#appendRecord(table, newImage, {
      eventID: randomUUID().replace(/-/g, ''),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.#options.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(now / 1000),
        Keys: key,
        ...(withNew && newImage ? { NewImage: newImage } : {}),
        ...(withOld && oldImage ? { OldImage: oldImage } : {}),
        SequenceNumber: String(++this.#sequence).padStart(21, '0'),
        SizeBytes: Buffer.byteLength(JSON.stringify({ key, newImage, oldImage })),
        StreamViewType: stream.viewType,
      },
      eventSourceARN: stream.arn,
    });
  }

  async #affectedKeys(operation: string, body: Record<string, unknown>, streamed: string[]): Promise<{ table: string; key: AttributeMap }[]> {
    const keyOf = async (table: string, item: AttributeMap) => {
      const schema = await this.#keySchema(table);
      return Object.fromEntries(schema.map((name) => [name, item[name]]));
    };
    if (operation === 'PutItem') return [{ table: String(body.TableName), key: await keyOf(String(body.TableName), body.Item as AttributeMap) }];
    if (operation !== 'BatchWriteItem') return [{ table: String(body.TableName), key: body.Key as AttributeMap }];
    const keys: { table: string; key: AttributeMap }[] = [];
    for (const table of streamed) {
      const requests = (body.RequestItems as Record<string, { PutRequest?: { Item: AttributeMap }; DeleteRequest?: { Key: AttributeMap } }[]>)[table] ?? [];
      for (const request of requests) {
        if (request.PutRequest) keys.push({ table, key: await keyOf(table, request.PutRequest.Item) });
        else if (request.DeleteRequest) keys.push({ table, key: request.DeleteRequest.Key });
      }
    }
    return keys;
  }

  async #readItems(keys: { table: string; key: AttributeMap }[]): Promise<(AttributeMap | undefined)[]> {
    return Promise.all(
      keys.map(async ({ table, key }) => {
        const result = await this.#forward('GetItem', { TableName: table, Key: key, ConsistentRead: true });
        return result.status === 200 ? (result.body.Item as AttributeMap | undefined) : undefined;
      }),
    );
  }

  async #loadStreamSettings(): Promise<void> {
    if (!this.#options.dataDir) return;
    try {
      const saved = JSON.parse(await readFile(path.join(this.#options.dataDir, 'streams.json'), 'utf8')) as {
        table: string;
        viewType: StreamViewType;
        label: string;
      }[];
      for (const stream of saved) this.#enableStream(stream.table, stream.viewType, stream.label);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async #saveStreamSettings(): Promise<void> {
    if (!this.#options.dataDir) return;
    const settings = [...this.#streams.values()].map((stream) => ({ table: stream.table, viewType: stream.viewType, label: stream.label }));
    await writeFile(path.join(this.#options.dataDir, 'streams.json'), JSON.stringify(settings, null, 2));
  }
}
