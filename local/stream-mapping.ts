/**
 * The DynamoDB-stream event source mapping, with the settings from the shared
 * config: filter criteria, batch size, batching window, partial batch responses
 * (`ReportBatchItemFailures`), bisect on error, bounded retries and record age,
 * and an on-failure destination that receives AWS's invocation record.
 *
 * Semantics, as documented for Lambda stream mappings:
 * - one shard, one batch in flight, records in order;
 * - a batch ends at the batch size, at the end of the batching window, or where
 *   its event would pass 6 MB, Lambda's payload limit (the rest goes in the next);
 * - a reported item failure checkpoints the records before it and retries from it;
 * - with bisection on, a failing batch (thrown error or item failure) is split in
 *   two and each half retried; a split does not count as a retry, so a poison
 *   record is isolated before its retries run out;
 * - an invalid `itemIdentifier` fails the whole batch;
 * - past the retries or the record age, the batch's metadata goes to the
 *   destination and the shard moves on.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { StreamMappingSettings } from '../config/pipeline';
import { AWS_LIMITS } from './aws-limits';
import type { StreamRecord, TableStream } from './dynamodb';
import { UnsupportedTerraformError } from './errors';
import { matchesPattern, validatePattern } from './event-pattern';
import type { LocalFunctions } from './functions';
import { DurableValue } from './journal';
import type { Binding, LocalService } from './service';
import type { LocalQueue } from './sqs';
import type { StatementTally } from './statement-relay';
import type { TerraformModel, TerraformResource } from './terraform';

declare module './service' {
  interface Parts {
    mapping: StreamMapping;
  }
}

/**
 * The event source mapping service: the `aws_lambda_event_source_mapping`
 * polls its table's stream into its function, as the function's role, with
 * the synthesized settings and the SQS on-failure destination. It starts
 * polling once every service is bound (and the schema exists).
 */
export const streamMappingService: LocalService = {
  name: 'event-source-mapping',
  serves: {
    aws_lambda_event_source_mapping: {
      becomes: 'the stream poller',
      attributes: (model, resource, id) => ({ id, uuid: id, function_arn: model.field(resource, 'function_name') }),
    },
  },
  bind(binding) {
    const { model, provide, page, status, summary, onStart, onStop, onIdle } = binding;
    const resource = model.only('aws_lambda_event_source_mapping');
    const source = mappingSource(binding, resource);
    const settings = mappingSettings(model, resource);
    const { stream, functions, functionName, destination, filterPattern } = source;
    const mapping = new StreamMapping({
      stream,
      functions,
      functionName,
      destination,
      ...(filterPattern !== undefined ? { filterPattern } : {}),
      settings,
      ...mappingHooks(binding, source),
    });
    provide('mapping', mapping);
    page('/_local/batches', () => mapping.batches());
    status('streamMapping', () => ({ ...mapping.status(), batchSize: settings.batchSize, batchingWindowSeconds: settings.maximumBatchingWindowInSeconds }));
    summary('stream', `${source.stream.table} → ${source.functionName} (batch ${settings.batchSize}, window ${settings.maximumBatchingWindowInSeconds} s)`);
    // The read model was made empty with its table, if that started empty (the rds service's claim).
    onStart(() => mapping.start());
    onStop(() => mapping.stop());
    onIdle(async (remainingMs) => {
      const idle = await mapping.idle(remainingMs);
      const state = mapping.status();
      return idle && (state.pending === 0 || state.readDenied) && !state.busy;
    });
  },
};

/** The mapping's stream, function, filter and destination, checked against what the local mapping implements. */
function mappingSource({ model, use }: Binding, resource: TerraformResource) {
  const streamArn = model.string(resource, 'event_source_arn');
  const dynamodb = use('dynamodb');
  const table = dynamodb.tables.find((candidate) => candidate.streamArn === streamArn);
  const stream = table ? dynamodb.stream(table.name) : undefined;
  if (!stream) throw new UnsupportedTerraformError(resource.address, `event source ${streamArn} is not a stream of the stacks' tables`);
  const functions = use('functions');
  const projection = functions.require(model.string(resource, 'function_name'));
  const onFailureArn = model.field(resource, 'destination_config', 'on_failure', 'destination_arn') as string | undefined;
  const destination = onFailureArn ? use('sqs').byArn(onFailureArn) : undefined;
  if (!destination) throw new UnsupportedTerraformError(resource.address, 'the local runtime needs an SQS on-failure destination');
  const filters = (model.field(resource, 'filter_criteria', 'filter') as { pattern: string }[] | undefined) ?? [];
  if (filters.length > 1) throw new UnsupportedTerraformError(resource.address, 'more than one filter pattern is not supported locally');
  const responseTypes = (model.field(resource, 'function_response_types') as string[] | undefined) ?? [];
  if (!responseTypes.includes('ReportBatchItemFailures'))
    throw new UnsupportedTerraformError(resource.address, 'the local mapping implements ReportBatchItemFailures only');
  return {
    stream,
    streamArn,
    functions,
    functionName: projection.name,
    roleArn: projection.roleArn,
    destination,
    ...(filters[0] ? { filterPattern: JSON.parse(filters[0].pattern) as unknown } : {}),
  };
}

/** The synthesized settings, with AWS's defaults for what is not set (-1: unbounded). */
function mappingSettings(model: TerraformModel, resource: TerraformResource): StreamMappingSettings {
  const setting = (name: string, otherwise: number) => (model.field(resource, name) as number | undefined) ?? otherwise;
  const retries = setting('maximum_retry_attempts', -1);
  return {
    batchSize: setting('batch_size', 100),
    maximumBatchingWindowInSeconds: setting('maximum_batching_window_in_seconds', 0),
    maximumRetryAttempts: retries < 0 ? Number.MAX_SAFE_INTEGER : retries,
    maximumRecordAgeInSeconds: setting('maximum_record_age_in_seconds', -1),
    bisectBatchOnFunctionError: model.field(resource, 'bisect_batch_on_function_error') === true,
  };
}

/** The mapping's authorization as the function's role, its checkpoint file, statement counts and log. */
function mappingHooks({ options, use, log, database }: Binding, source: ReturnType<typeof mappingSource>) {
  const dynamodb = use('dynamodb');
  const sqs = use('sqs');
  const secrets = use('secrets');
  const role = { kind: 'role', arn: source.roleArn } as const;
  const { dataDir, retryDelayMs } = options;
  // The function's database user: the one in the secret its environment names (init-schema writes it).
  const secretId = source.functions.require(source.functionName).environment.DB_SECRET_ID;
  return {
    authorizeRead: (operation: 'ListStreams' | 'DescribeStream' | 'GetShardIterator' | 'GetRecords') =>
      dynamodb.authorizeStream(role, operation, source.streamArn),
    authorizeDestination: () => sqs.authorize(role, 'SendMessage', source.destination.url),
    statementCounter: () => {
      const user = secretId === undefined ? undefined : secrets.currentValue(secretId)?.username;
      return typeof user === 'string' ? database.relay.tally(user) : undefined;
    },
    ...(dataDir ? { checkpoint: checkpointIn(dataDir, source.stream.table, source.functionName) } : {}),
    ...(retryDelayMs !== undefined ? { retryDelayMs: () => retryDelayMs } : {}),
    log: (message: string, fields?: Record<string, unknown>) => log(`stream mapping: ${message} ${JSON.stringify(fields ?? {})}`),
  };
}

/** Options of {@link StreamMapping}. */
export interface StreamMappingOptions {
  readonly stream: TableStream;
  readonly functions: LocalFunctions;
  readonly functionName: string;
  readonly settings: StreamMappingSettings;
  /** Filter criteria pattern (records that do not match are dropped, as in AWS). */
  readonly filterPattern?: unknown;
  readonly destination: LocalQueue;
  /** Delay before retry `n` (1-based). @default 200 ms × 2^(n-1), at most 5 s */
  readonly retryDelayMs?: (attempt: number) => number;
  /**
   * Authorizes the mapping's reads of the stream as the function's execution
   * role (`ListStreams`, `DescribeStream`, `GetShardIterator`, `GetRecords`
   * and the table key); a denial stops progress until it is allowed.
   */
  readonly authorizeRead?: (operation: 'ListStreams' | 'DescribeStream' | 'GetShardIterator' | 'GetRecords') => Promise<void>;
  /** Authorizes sending to the on-failure destination as the execution role. */
  readonly authorizeDestination?: () => Promise<void>;
  /** Where the mapping keeps the sequence number it has processed up to (with `--data`). */
  readonly checkpoint?: { read(): string | undefined; write(sequenceNumber: string): void };
  /**
   * What the function's database user has sent to the read model so far (the
   * console's SQL statements per batch: the difference across an invocation).
   */
  readonly statementCounter?: () => StatementTally | undefined;
  /** How often an idle shard is polled. @default 250 ms (four times a second, as Lambda polls) */
  readonly pollIntervalMs?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** What the mapping has done so far. */
interface StreamMappingStatus {
  readonly position: number;
  readonly records: number;
  readonly pending: number;
  readonly busy: boolean;
  readonly invocations: number;
  readonly sentToDestination: number;
  /** Whether the last poll was refused by IAM. */
  readonly readDenied: boolean;
  /** The checkpoint could not be saved (a full disk, no file descriptors): the mapping keeps projecting and retries it each poll. */
  readonly checkpointError?: { readonly message: string; readonly since: string; readonly failures: number };
}

/** One invocation of the function by the mapping (local diagnostics). */
interface BatchRecord {
  readonly time: string;
  readonly size: number;
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
  readonly durationMs: number;
  readonly ok: boolean;
  /**
   * What the function's database connections sent during the invocation:
   * statements, those inside transactions, transactions, connections opened.
   */
  readonly sql?: StatementTally;
}

type Failure =
  | { readonly kind: 'error'; readonly errorType: string; readonly errorMessage: string; readonly recordErrors?: readonly string[] }
  | { readonly kind: 'partial' };

/** A running mapping. */
export class StreamMapping {
  readonly #options: StreamMappingOptions;
  #position = 0;
  #busy = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wakeOnStop: (() => void) | undefined;
  #invocations = 0;
  #sentToDestination = 0;
  #readDenied = false;
  /** The sequence number handled last whose checkpoint is not saved yet. */
  #unsaved: string | undefined;
  #checkpointError: { message: string; since: string; failures: number } | undefined;
  readonly #batches: BatchRecord[] = [];
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: StreamMappingOptions) {
    if (options.filterPattern !== undefined) validatePattern(options.filterPattern);
    this.#options = options;
  }

  /** The table whose stream this mapping reads. */
  get tableName(): string {
    return this.#options.stream.table;
  }

  start(): void {
    const processed = this.#options.checkpoint?.read();
    if (processed !== undefined && this.#loop === undefined) {
      // Resume after the last record processed before the restart.
      const records = this.#options.stream.records;
      const next = records.findIndex((record) => record.dynamodb.SequenceNumber > processed);
      this.#position = next === -1 ? records.length : next;
    }
    this.#loop ??= this.#run();
  }

  /**
   * Stops after the invocation in flight. A batch still being retried is
   * abandoned, not checkpointed: it and the records not yet read stay in the stream.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wakeOnStop?.();
    await this.#loop;
  }

  status(): StreamMappingStatus {
    const records = this.#options.stream.records.length;
    return {
      position: this.#position,
      records,
      pending: records - this.#position,
      busy: this.#busy,
      invocations: this.#invocations,
      sentToDestination: this.#sentToDestination,
      readDenied: this.#readDenied,
      ...(this.#checkpointError ? { checkpointError: { ...this.#checkpointError } } : {}),
    };
  }

  /** The latest invocations, oldest first (at most 200). */
  batches(): readonly BatchRecord[] {
    return this.#batches;
  }

  /** Resolves once every record written so far has been handled (projected or sent to the destination). */
  async idle(timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#busy || (this.#position < this.#options.stream.records.length && !this.#readDenied)) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#idleWaiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  async #run(): Promise<void> {
    const { stream, settings } = this.#options;
    const pollMs = this.#options.pollIntervalMs ?? 250;
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    let lastDenial = '';
    while (!this.#stopping) {
      try {
        // Each poll: find the shard, get an iterator, read (decisions are cached by the gate).
        for (const operation of ['ListStreams', 'DescribeStream', 'GetShardIterator', 'GetRecords'] as const) await this.#options.authorizeRead?.(operation);
        lastDenial = '';
      } catch (error) {
        // As on AWS, the mapping keeps polling and makes no progress until it may read.
        const message = (error as Error).message;
        if (message !== lastDenial) this.#options.log?.('stream mapping cannot read the stream', { error: message });
        lastDenial = message;
        this.#readDenied = true;
        await sleep(pollMs);
        continue;
      }
      this.#readDenied = false;
      this.#saveCheckpoint();
      if (this.#position >= stream.records.length) {
        this.#notifyIdle();
        await sleep(pollMs);
        continue;
      }
      const windowMs = settings.maximumBatchingWindowInSeconds * 1000;
      if (windowMs > 0 && !this.#nextBatch().full) {
        const waitUntil = Date.now() + windowMs;
        while (!this.#stopping && Date.now() < waitUntil && !this.#nextBatch().full) {
          await sleep(Math.min(pollMs, waitUntil - Date.now()));
        }
      }
      const { read, batch } = this.#nextBatch();
      this.#busy = true;
      let settled = true;
      try {
        if (batch.length > 0) settled = await this.#process(batch, 0);
      } finally {
        this.#busy = false;
      }
      // A batch abandoned by a stop is not checkpointed: the next start reads it again.
      if (!settled) break;
      this.#position += read;
      const last = stream.records[this.#position - 1];
      if (last) {
        this.#unsaved = last.dynamodb.SequenceNumber;
        this.#saveCheckpoint();
      }
    }
    this.#notifyIdle();
  }

  /**
   * The next batch, as Lambda makes it: the records from the position, up to
   * the batch size or until the event's payload would pass 6 MB
   * (`AWS_LIMITS.streamBatchPayload`), whichever comes first, less those the
   * filter drops. `read`: the records it covers (dropped ones included);
   * `full`: a limit was met, so the batching window need not wait.
   */
  #nextBatch(): { read: number; batch: StreamRecord[]; full: boolean } {
    const { stream, settings, filterPattern } = this.#options;
    const batch: StreamRecord[] = [];
    let bytes = EMPTY_EVENT_BYTES;
    let read = 0;
    for (const record of stream.records.slice(this.#position, this.#position + settings.batchSize)) {
      if (filterPattern === undefined || matchesPattern(filterPattern, record)) {
        // A record is at most an item and its keys: one always fits.
        const added = recordBytes(record) + (batch.length > 0 ? 1 : 0);
        if (batch.length > 0 && bytes + added > AWS_LIMITS.streamBatchPayload.max) return { read, batch, full: true };
        batch.push(record);
        bytes += added;
      }
      read++;
    }
    return { read, batch, full: read === settings.batchSize };
  }

  /**
   * Saves the latest handled sequence number. A failed write stops nothing: the
   * mapping keeps projecting (records handled since the last saved checkpoint
   * are read again after a crash, which the projection's idempotency absorbs),
   * reports the failure in its status, and tries again at the next poll.
   */
  #saveCheckpoint(): void {
    if (this.#unsaved === undefined || !this.#options.checkpoint) return;
    try {
      this.#options.checkpoint.write(this.#unsaved);
      if (this.#checkpointError) this.#options.log?.('stream mapping checkpoint saved again', { after: this.#checkpointError.failures });
      this.#unsaved = undefined;
      this.#checkpointError = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (!this.#checkpointError) this.#options.log?.('stream mapping checkpoint could not be saved; projecting on and retrying', { error: message });
      this.#checkpointError = {
        message,
        since: this.#checkpointError?.since ?? new Date().toISOString(),
        failures: (this.#checkpointError?.failures ?? 0) + 1,
      };
    }
  }

  /** Waits between retries; a stop ends the wait. */
  async #pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeOnStop = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wakeOnStop = undefined;
  }

  #notifyIdle(): void {
    for (const wake of this.#idleWaiters) wake();
    this.#idleWaiters.clear();
  }

  /**
   * Invokes the function with a batch until it succeeds, or the batch goes to
   * the destination. Returns false when a stop abandoned it part-way (as
   * disabling a mapping does on AWS): its records are then not done.
   */
  async #process(initial: StreamRecord[], initialAttempt: number): Promise<boolean> {
    const { settings, functions, functionName } = this.#options;
    let batch = initial;
    let attempt = initialAttempt;
    for (;;) {
      if (this.#stopping) return false;
      const ageSeconds = Date.now() / 1000 - (batch[0] as StreamRecord).dynamodb.ApproximateCreationDateTime;
      if (settings.maximumRecordAgeInSeconds >= 0 && ageSeconds > settings.maximumRecordAgeInSeconds) {
        await this.#sendToDestination(batch, 'RecordAgeExceeded', attempt, { kind: 'partial' });
        return true;
      }
      this.#invocations++;
      const started = Date.now();
      const before = this.#options.statementCounter?.();
      let result: Awaited<ReturnType<LocalFunctions['invoke']>>;
      try {
        result = await functions.invoke(functionName, { Records: batch });
      } catch (error) {
        // Throttled or gone: the batch is retried like a function error.
        result = { ok: false, error: { errorType: (error as Error).name, errorMessage: (error as Error).message, trace: [] } };
      }
      const after = this.#options.statementCounter?.();
      this.#batches.push({
        ...(before !== undefined && after !== undefined ? { sql: difference(after, before) } : {}),
        time: new Date(started).toISOString(),
        size: batch.length,
        firstSequenceNumber: (batch[0] as StreamRecord).dynamodb.SequenceNumber,
        lastSequenceNumber: (batch[batch.length - 1] as StreamRecord).dynamodb.SequenceNumber,
        durationMs: Date.now() - started,
        ok: result.ok && !(result.payload as { batchItemFailures?: unknown[] } | null)?.batchItemFailures?.length,
      });
      if (this.#batches.length > 200) this.#batches.shift();
      let failure: Failure;
      if (result.ok) {
        const reported = (result.payload as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures ?? [];
        if (reported.length === 0) return true;
        const indexes = reported.map((item) => batch.findIndex((record) => record.dynamodb.SequenceNumber === item.itemIdentifier));
        if (indexes.some((index) => index < 0)) {
          failure = { kind: 'error', errorType: 'InvalidItemIdentifier', errorMessage: 'batchItemFailures named a record not in the batch' };
        } else {
          batch = batch.slice(Math.min(...indexes)); // the records before the first failure are done
          failure = { kind: 'partial' };
        }
      } else {
        failure = { kind: 'error', ...result.error };
      }

      this.#options.log?.('stream batch failed', {
        records: batch.length,
        attempt,
        ...(failure.kind === 'error' ? { error: failure.errorMessage, recordErrors: failure.recordErrors?.slice(0, 3) } : { reportedFailures: true }),
      });
      if (settings.bisectBatchOnFunctionError && batch.length > 1) {
        const middle = Math.ceil(batch.length / 2);
        return (await this.#process(batch.slice(0, middle), attempt)) && (await this.#process(batch.slice(middle), attempt));
      }
      attempt++;
      if (attempt > settings.maximumRetryAttempts) {
        await this.#sendToDestination(batch, 'RetryAttemptsExhausted', attempt, failure);
        return true;
      }
      const delay = this.#options.retryDelayMs ?? ((n: number) => Math.min(200 * 2 ** (n - 1), 5_000));
      await this.#pause(delay(attempt));
    }
  }

  async #sendToDestination(batch: StreamRecord[], condition: string, attempts: number, failure: Failure): Promise<void> {
    const first = batch[0] as StreamRecord;
    const last = batch[batch.length - 1] as StreamRecord;
    const arrival = (record: StreamRecord) => new Date(record.dynamodb.ApproximateCreationDateTime * 1000).toISOString();
    const message = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.#options.functions.require(this.#options.functionName).arn,
        condition,
        approximateInvokeCount: attempts,
      },
      responseContext: {
        statusCode: 200,
        executedVersion: '$LATEST',
        ...(failure.kind === 'error' ? { functionError: 'Unhandled' } : {}),
      },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: this.#options.stream.shardId,
        startSequenceNumber: first.dynamodb.SequenceNumber,
        endSequenceNumber: last.dynamodb.SequenceNumber,
        approximateArrivalOfFirstRecord: arrival(first),
        approximateArrivalOfLastRecord: arrival(last),
        batchSize: batch.length,
        streamArn: this.#options.stream.arn,
      },
      // Not sent by AWS: the local runtime adds what it saw the function fail with.
      localDiagnostics:
        failure.kind === 'error'
          ? { errorType: failure.errorType, errorMessage: failure.errorMessage, recordErrors: failure.recordErrors ?? [] }
          : { reportedAsBatchItemFailure: batch.map((record) => record.dynamodb.SequenceNumber) },
    };
    try {
      await this.#options.authorizeDestination?.();
    } catch (error) {
      // AWS cannot deliver the invocation record either: it is lost, and only the logs tell.
      this.#options.log?.('on-failure destination refused the invocation record', { error: (error as Error).message, records: batch.length });
      return;
    }
    this.#options.destination.send(JSON.stringify(message));
    this.#sentToDestination++;
    this.#options.log?.('stream batch sent to the on-failure destination', {
      condition,
      records: batch.length,
      firstSequenceNumber: first.dynamodb.SequenceNumber,
    });
  }
}

/** The bytes of an invocation's event with no record, `{"Records":[]}`; each record adds its JSON and a comma after the first. */
const EMPTY_EVENT_BYTES = Buffer.byteLength(JSON.stringify({ Records: [] }));

/** The bytes of a record's JSON in the event, computed once per record (records do not change). */
const recordSizes = new WeakMap<StreamRecord, number>();
function recordBytes(record: StreamRecord): number {
  let size = recordSizes.get(record);
  if (size === undefined) {
    size = Buffer.byteLength(JSON.stringify(record), 'utf8');
    recordSizes.set(record, size);
  }
  return size;
}

/** The stream mapping's checkpoint file in the data folder. */
function checkpointIn(dataDir: string, table: string, functionName: string): { read(): string | undefined; write(sequenceNumber: string): void } {
  const value = new DurableValue<{ sequenceNumber: string }>(path.join(dataDir, 'streams', `${table}.${functionName}.checkpoint.json`));
  return { read: () => value.read()?.sequenceNumber, write: (sequenceNumber) => value.write({ sequenceNumber }) };
}

/** What was sent between two tallies. */
function difference(after: StatementTally, before: StatementTally): StatementTally {
  return {
    statements: after.statements - before.statements,
    inTransaction: after.inTransaction - before.inTransaction,
    transactions: after.transactions - before.transactions,
    connections: after.connections - before.connections,
  };
}
