import { LambdaEventSourceMapping, type LambdaEventSourceMappingConfig } from '@cdktf/provider-aws/lib/lambda-event-source-mapping';
import type { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environments';
import type { AlarmSink, Alarmed, Metric } from './alarms';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { OrdersTable } from './pipeline-tables';
import type { NodejsFunction } from './nodejs-function';

/** Options of {@link StreamMapping}. */
export interface StreamMappingOptions extends Omit<LambdaEventSourceMappingConfig, 'eventSourceArn' | 'functionName' | 'destinationConfig'> {
  /** The table whose stream feeds the function. */
  readonly table: OrdersTable;
  readonly function: NodejsFunction;
  /** Where records the function could not take go. */
  readonly onFailure: DeadLetterQueue;
  /** The operations on the table whose writes make the records the mapping must deliver (for the stopped alarm). */
  readonly writeOperations: readonly ('PutItem' | 'UpdateItem' | 'DeleteItem')[];
  /** Prefix of the alarms' ids. */
  readonly alarmPrefix: string;
}

/**
 * A table's stream feeding a function: the mapping grants the function what
 * it reads (the stream and its key, through the table) and where it sends
 * failures (the on-failure queue), and alarms on every way the feed can lag
 * or stop.
 */
export class StreamMapping extends LambdaEventSourceMapping implements Alarmed {
  readonly table: OrdersTable;
  readonly target: NodejsFunction;
  readonly #writeOperations: StreamMappingOptions['writeOperations'];
  readonly #alarmPrefix: string;

  constructor(scope: Construct, id: string, options: StreamMappingOptions) {
    const { table, function: fn, onFailure, writeOperations, alarmPrefix, ...mapping } = options;
    table.grantOrdersStreamRead(fn);
    onFailure.grantSend(fn, 'OnFailureDestination');
    super(scope, id, {
      ...mapping,
      eventSourceArn: table.table.streamArn,
      functionName: fn.function.arn,
      destinationConfig: { onFailure: { destinationArn: onFailure.arn } },
    });
    this.table = table;
    this.target = fn;
    this.#writeOperations = writeOperations;
    this.#alarmPrefix = alarmPrefix;
  }

  /** An event count of the mapping, published even when it stops invoking. https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html (event source mapping metrics) */
  metricEvents(metricName: 'FailedInvokeEventCount' | 'DroppedEventCount'): Metric & { statistic: 'Sum' } {
    return { namespace: 'AWS/Lambda', metricName, dimensions: { EventSourceMappingUUID: this.uuid }, statistic: 'Sum' };
  }

  addAlarms(sink: AlarmSink): void {
    const { config } = sink;
    sink.alarm({
      id: `${this.#alarmPrefix}-lag`,
      description: `the read model is more than ${config.alarms.iteratorAgeSeconds} s behind the orders table (stream IteratorAge)`,
      ...this.target.metricIteratorAge(),
      threshold: config.alarms.iteratorAgeSeconds * 1000,
    });
    // A mapping that stops invoking (disabled, a lost permission) publishes no IteratorAge
    // and no Errors; its event counts still say what happened to the records.
    for (const [metricName, meaning] of [
      ['FailedInvokeEventCount', 'the stream mapping could not invoke the projection (throttled, a lost permission, a deleted function)'],
      ['DroppedEventCount', 'the stream mapping dropped records (past their age or retries): redrive them from the on-failure queue'],
    ] as const) {
      sink.alarm({
        id: `${this.#alarmPrefix}-${metricName.replace('EventCount', '').toLowerCase()}-events`,
        description: meaning,
        ...this.metricEvents(metricName),
        threshold: 0,
      });
    }
    sink.mathAlarm(this.#stoppedAlarm(config));
  }

  /**
   * The alarm for a feed that stopped: a disabled mapping, an execution role or key the mapping
   * lost. Lambda publishes `IteratorAge`, `Errors` and `Invocations` only when it invokes, so none
   * of the other alarms sees it; this one compares the writes on the table (each a stream record
   * the mapping must deliver) with the function's invocations, with metric math.
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html
   */
  #stoppedAlarm(config: EnvironmentConfig) {
    const period = stoppedPeriod(config);
    const writeId = (operation: string) => `writes_${operation.toLowerCase()}`;
    const query = (id: string, source: Metric) => ({
      id,
      returnData: false,
      metric: { namespace: source.namespace, metricName: source.metricName, dimensions: source.dimensions, stat: source.statistic, period },
    });
    return {
      id: `${this.#alarmPrefix}-stopped`,
      description: `orders were written but the projection was not invoked in ${STOPPED.datapointsToAlarm} of the last ${STOPPED.evaluationPeriods} periods of ${period / 60} minutes: the stream mapping is disabled or cannot invoke (its role, the table key); the read model is falling behind`,
      metricQuery: [
        {
          id: 'stopped',
          expression: STOPPED.expression(this.#writeOperations.map(writeId)),
          label: 'orders written, projection not invoked',
          returnData: true,
        },
        ...this.#writeOperations.map((operation) => query(writeId(operation), this.table.metricSuccessfulRequests(operation))),
        query(STOPPED.invocationsId, this.target.metricInvocations()),
      ],
      evaluationPeriods: STOPPED.evaluationPeriods,
      datapointsToAlarm: STOPPED.datapointsToAlarm,
    };
  }
}

/** The math of the stopped alarm: the query ids and the expression over them. */
const STOPPED = {
  invocationsId: 'projections',
  /**
   * 1 in a period with orders written and no projection invocation, else 0. Both metrics are
   * published only when something happens, so FILL makes an absent one 0; a comparison is 1 or 0
   * and IF picks its value by it (CloudWatch metric math functions and operators:
   * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
   */
  expression: (writeIds: readonly string[]) => `IF((${writeIds.map((id) => `FILL(${id}, 0)`).join(' + ')}) > 0 AND FILL(projections, 0) == 0, 1, 0)`,
  /** Of the last three periods, two must breach: an order written in a period's last seconds is projected in the next. */
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
} as const;

/**
 * A period that holds two batching windows of the stream mapping and a minute for the stream,
 * at least 5 minutes: a working projection invokes in every period that has orders but, at most,
 * the one whose orders came in its last seconds.
 */
function stoppedPeriod(config: EnvironmentConfig): number {
  return Math.max(300, Math.ceil((2 * config.stream.maximumBatchingWindowInSeconds + 60) / 60) * 60);
}
