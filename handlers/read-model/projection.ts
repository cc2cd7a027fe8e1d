import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Pool } from 'mysql2/promise';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ORDERS_TABLE_KEY, PipelineMetric } from '../../config/contract';
import { MalformedRecordError, OrderConflictError } from '../domain/errors';
import type { Order } from '../domain/order';
import { readOrderRecord } from '../domain/order-record';
import { isKnownStatus } from '../commands/registry';
import { BatchCoalescer, type Seat } from '../shared/coalescer';
import { logger } from '../shared/logger';
import { metrics } from '../shared/metrics';
import { ReadModelWriteError } from './errors';
import { projectOrders, type ProjectionOutcome } from './read-model-writer';

/** What the idempotency store remembers about a projected order state. */
interface ProjectionResult {
  readonly orderId: string;
  readonly revision: number;
  readonly outcome: Exclude<ProjectionOutcome, 'conflict'>;
}

/** Per-invocation counts, logged once per batch. */
interface BatchStats {
  projected: number;
  alreadyProjected: number;
  replayed: number;
  skipped: Record<string, number>;
  /** Records whose idempotency record was in progress elsewhere, settled by the read model's key. */
  inProgressElsewhere: number;
  /** The read model's refusal of the batch's write, logged once for the batch. */
  writeError?: { code: string | undefined; message: string };
}

/** The parts of the projection a caller can swap (tests, benchmarks, the local runtime). */
interface ProjectionDependencies {
  /** Returns the read-model pool for this invocation. */
  readonly pool: (context: Context) => Pool | Promise<Pool>;
  /** Where idempotency records live; `undefined` turns idempotency off. */
  readonly persistenceStore: BasePersistenceLayer | undefined;
  /** How long a completed record is remembered. @default 90000 (25 h: past the stream's 24 h retention) */
  readonly expiresAfterSeconds?: number;
}

/**
 * Builds the stream → read-model record processing. Each record goes through
 * Powertools idempotency keyed by the order and its change (`orderId` and
 * `revision`: a create and its cancel are two records), validated by
 * `contentHash`; the
 * records that get through are written together by one constant-statement
 * transaction; a record that fails is reported alone in `batchItemFailures`.
 */
export function createProjection(dependencies: ProjectionDependencies) {
  const processor = new BatchProcessor(EventType.DynamoDBStreams);
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: '[orderId, revision]',
    payloadValidationJmesPath: 'contentHash',
    expiresAfterSeconds: dependencies.expiresAfterSeconds ?? 90_000,
  });

  const project = async (order: Order, seat: Seat<Order, ProjectionOutcome>): Promise<ProjectionResult> => {
    const outcome = await seat.submit(order);
    if (outcome === 'conflict') throw new OrderConflictError(order.orderId);
    return { orderId: order.orderId, revision: order.revision, outcome };
  };
  const projectOnce = dependencies.persistenceStore
    ? makeIdempotent(project, { persistenceStore: dependencies.persistenceStore, config: idempotencyConfig })
    : project;

  /**
   * Projects an order once: through the idempotency record, or, when that
   * record is in progress (another invocation holds it, or one crashed holding
   * it: it expires only with that invocation's timeout), straight through the
   * read model's primary key, which projects it once either way; a crash then
   * never sends the order to the on-failure queue.
   */
  const projectSettled = async (order: Order, seat: Seat<Order, ProjectionOutcome>, stats: BatchStats): Promise<ProjectionResult> => {
    try {
      return await projectOnce(order, seat);
    } catch (error) {
      if (!(error instanceof IdempotencyAlreadyInProgressError) || seat.submitted) throw error;
      const result = await project(order, seat);
      stats.inProgressElsewhere++;
      return result;
    }
  };

  /** Projects one valid order and counts it; a failed write is logged once for the batch, anything else here. */
  const projectRecord = async (order: Order, seat: Seat<Order, ProjectionOutcome>, stats: BatchStats, debug: boolean, sequenceNumber: string | undefined) => {
    try {
      const result = await projectSettled(order, seat, stats);
      if (seat.submitted) stats[result.outcome]++;
      else stats.replayed++;
      // One line per order at DEBUG (checked once per batch: building a log item costs
      // even when it is dropped); the batch summary is the INFO line.
      if (debug)
        logger.debug(seat.submitted ? `order ${result.outcome}` : 'order replay skipped by idempotency', {
          orderId: order.orderId,
          revision: order.revision,
          status: order.status,
          sequenceNumber,
        });
      return result;
    } catch (error) {
      if (error instanceof ReadModelWriteError) stats.writeError ??= { code: error.code, message: error.message };
      else logger.error('order not projected', { orderId: order.orderId, sequenceNumber, error: describeError(error) });
      throw error;
    }
  };

  /** One stream record: skipped (a REMOVE: no command deletes orders), projected, or failed alone (it leaves its seat either way). */
  const handleRecord = async (record: DynamoDBRecord, seat: Seat<Order, ProjectionOutcome>, stats: BatchStats, debug: boolean) => {
    const sequenceNumber = record.dynamodb?.SequenceNumber;
    try {
      const intent = readOrderRecord(record, isKnownStatus);
      if (intent.kind === 'skip') {
        stats.skipped[intent.eventName] = (stats.skipped[intent.eventName] ?? 0) + 1;
        logger.info('record skipped: no command makes it', { orderId: intent.orderId, eventName: intent.eventName, sequenceNumber });
        return undefined;
      }
      return await projectRecord(intent.order, seat, stats, debug, sequenceNumber);
    } catch (error) {
      if (error instanceof MalformedRecordError) {
        logger.error('malformed record', { orderId: recordOrderId(record), sequenceNumber, error: describeError(error) });
      }
      throw error;
    } finally {
      seat.leave();
    }
  };

  return async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    idempotencyConfig.registerLambdaContext(context);
    const pool = await dependencies.pool(context);
    const coalescer = new BatchCoalescer<Order, ProjectionOutcome>(event.Records.length, (orders) => projectOrders(pool, orders, { logger }));
    const stats: BatchStats = { projected: 0, alreadyProjected: 0, replayed: 0, inProgressElsewhere: 0, skipped: {} };
    const debug = logger.getLevelName() === 'DEBUG';
    try {
      // Records must run in parallel: the coalescer writes once all of them arrived.
      const response = await processPartialResponse(event, (record: DynamoDBRecord) => handleRecord(record, coalescer.seat(), stats, debug), processor, {
        context,
        processInParallel: true,
      });
      const { writeError, ...counts } = stats;
      metrics.addMetric(PipelineMetric.ordersProjected, MetricUnit.Count, stats.projected);
      metrics.addMetric(PipelineMetric.duplicatesSkipped, MetricUnit.Count, stats.alreadyProjected + stats.replayed);
      metrics.addMetric(PipelineMetric.batchSize, MetricUnit.Count, event.Records.length);
      metrics.publishStoredMetrics();
      if (writeError) logger.error('read model write failed', { error: writeError, ...batchInfo(event) });
      logger.info('batch projected', { records: event.Records.length, failed: response.batchItemFailures.length, ...counts });
      return response;
    } catch (error) {
      // Every record failed: with the write's refusal when that is why, once.
      // Nested: `message` at the top is a key Powertools reserves, and it dropped the text naming what failed.
      if (stats.writeError) logger.error('read model write failed', { error: stats.writeError, ...batchInfo(event) });
      else logger.error('whole batch failed', { ...batchInfo(event), error: describeError(error) });
      throw error;
    }
  };
}

/** A batch's size and first and last sequence numbers, for its log lines. */
function batchInfo(event: DynamoDBStreamEvent): Record<string, unknown> {
  return {
    records: event.Records.length,
    firstSequenceNumber: event.Records[0]?.dynamodb?.SequenceNumber,
    lastSequenceNumber: event.Records[event.Records.length - 1]?.dynamodb?.SequenceNumber,
  };
}

/** An error as it may be logged: its name, code and message, never the SQL text or parameters a driver error carries. */
function describeError(error: unknown): Record<string, unknown> {
  const source = error as { name?: string; code?: string; message?: string };
  return { name: source?.name, code: source?.code, message: String(source?.message ?? error).slice(0, 500) };
}

function recordOrderId(record: DynamoDBRecord): string | undefined {
  return (record.dynamodb?.Keys as Record<string, { S?: string }> | undefined)?.[ORDERS_TABLE_KEY]?.S;
}
