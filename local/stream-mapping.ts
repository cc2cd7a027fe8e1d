/**
 * The DynamoDB-stream event source mapping, with the settings from the shared
 * config: filter criteria, batch size, batching window, partial batch responses
 * (`ReportBatchItemFailures`), bisect on error, bounded retries and record age,
 * and an on-failure destination that receives AWS's invocation record.
 *
 * Semantics, as documented for Lambda stream mappings:
 * - one shard, one batch in flight, records in order;
 * - a reported item failure checkpoints the records before it and retries from it;
 * - with bisection on, a failing batch (thrown error or item failure) is split in
 *   two and each half retried; a split does not count as a retry, so a poison
 *   record is isolated before its retries run out;
 * - an invalid `itemIdentifier` fails the whole batch;
 * - past the retries or the record age, the batch's metadata goes to the
 *   destination and the shard moves on.
 */
import { randomUUID } from 'node:crypto';
import type { StreamMappingSettings } from '../config/pipeline';
import type { StreamRecord, TableStream } from './dynamodb';
import { matchesPattern, validatePattern } from './event-pattern';
import type { LocalFunctions } from './functions';
import type { LocalQueue } from './sqs';

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
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

/** What the mapping has done so far. */
export interface StreamMappingStatus {
  readonly position: number;
  readonly records: number;
  readonly pending: number;
  readonly busy: boolean;
  readonly invocations: number;
  readonly sentToDestination: number;
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
  #invocations = 0;
  #sentToDestination = 0;
  readonly #idleWaiters = new Set<() => void>();

  constructor(options: StreamMappingOptions) {
    if (options.filterPattern !== undefined) validatePattern(options.filterPattern);
    this.#options = options;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops after the batch in flight; records not yet read stay in the stream. */
  async stop(): Promise<void> {
    this.#stopping = true;
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
    };
  }

  /** Resolves once every record written so far has been handled (projected or sent to the destination). */
  async idle(timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.#busy || this.#position < this.#options.stream.records.length) {
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
    while (!this.#stopping) {
      if (this.#position >= stream.records.length) {
        this.#notifyIdle();
        await stream.waitForRecords(250);
        continue;
      }
      const windowMs = settings.maximumBatchingWindowInSeconds * 1000;
      if (windowMs > 0 && stream.records.length - this.#position < settings.batchSize) {
        const waitUntil = Date.now() + windowMs;
        while (!this.#stopping && Date.now() < waitUntil && stream.records.length - this.#position < settings.batchSize) {
          await stream.waitForRecords(waitUntil - Date.now());
        }
      }
      const slice = stream.records.slice(this.#position, this.#position + settings.batchSize);
      const batch = this.#options.filterPattern === undefined ? slice : slice.filter((record) => matchesPattern(this.#options.filterPattern, record));
      this.#busy = true;
      try {
        if (batch.length > 0) await this.#process(batch, 0);
      } finally {
        this.#busy = false;
      }
      this.#position += slice.length;
    }
    this.#notifyIdle();
  }

  #notifyIdle(): void {
    for (const wake of this.#idleWaiters) wake();
    this.#idleWaiters.clear();
  }

  async #process(initial: StreamRecord[], initialAttempt: number): Promise<void> {
    const { settings, functions, functionName } = this.#options;
    let batch = initial;
    let attempt = initialAttempt;
    for (;;) {
      const ageSeconds = Date.now() / 1000 - (batch[0] as StreamRecord).dynamodb.ApproximateCreationDateTime;
      if (settings.maximumRecordAgeInSeconds >= 0 && ageSeconds > settings.maximumRecordAgeInSeconds) {
        await this.#sendToDestination(batch, 'RecordAgeExceeded', attempt, { kind: 'partial' });
        return;
      }
      this.#invocations++;
      const result = await functions.invoke(functionName, { Records: batch });
      let failure: Failure;
      if (result.ok) {
        const reported = (result.payload as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null)?.batchItemFailures ?? [];
        if (reported.length === 0) return;
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
        await this.#process(batch.slice(0, middle), attempt);
        await this.#process(batch.slice(middle), attempt);
        return;
      }
      attempt++;
      if (attempt > settings.maximumRetryAttempts) {
        await this.#sendToDestination(batch, 'RetryAttemptsExhausted', attempt, failure);
        return;
      }
      const delay = this.#options.retryDelayMs ?? ((n: number) => Math.min(200 * 2 ** (n - 1), 5_000));
      await new Promise((resolve) => setTimeout(resolve, delay(attempt)));
    }
  }

  async #sendToDestination(batch: StreamRecord[], condition: string, attempts: number, failure: Failure): Promise<void> {
    const first = batch[0] as StreamRecord;
    const last = batch[batch.length - 1] as StreamRecord;
    const arrival = (record: StreamRecord) => new Date(record.dynamodb.ApproximateCreationDateTime * 1000).toISOString();
    const message = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: this.#options.functions.arnOf(this.#options.functionName),
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
    this.#options.destination.send(JSON.stringify(message));
    this.#sentToDestination++;
    this.#options.log?.('stream batch sent to the on-failure destination', { condition, records: batch.length, firstSequenceNumber: first.dynamodb.SequenceNumber });
  }
}
