/**
 * The capacity and cost model (`npm run capacity`): where the pipeline
 * saturates on AWS and what a million orders cost, from three inputs and
 * nothing else:
 *
 * - the synthesized stacks of an environment (batch size and window,
 *   parallelization, reserved concurrency, memory, ACU range, instances, log
 *   level, endpoints, NAT gateways, keys, alarms) and its config's stream
 *   shard assumption;
 * - the last benchmark (`bench/results/latest.json`): the projection's time
 *   per batch, the queries' times, the per-order durations and log bytes;
 * - AWS's prices and default quotas (`config/aws-facts.json`, each with its
 *   source and date): no price or quota appears anywhere else.
 *
 * The original sample's design goes through the same model: one Lambda
 * invocation per stream record, a `CALL` per row, NAT gateways, no aggregates.
 */
import type { EnvironmentConfig } from '../config/environments';
import { price, quota, type AwsFacts } from './aws-facts';
import { resourcesOf, type StackJson } from '../stacks/synth-offline';

/** What the model reads from a design: the synthesized stacks plus the shard assumption. */
interface Design {
  readonly name: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly expectedShards: number;
  readonly functions: Readonly<Record<string, { readonly memoryMb: number; readonly reserved?: number }>>;
  /** Per query name: its function. */
  readonly queryFunctions: Readonly<Record<string, string>>;
  readonly aurora: { readonly minCapacity: number; readonly maxCapacity: number; readonly instances: number };
  readonly workflowLogs: { readonly level: string; readonly includeExecutionData: boolean };
  /** Interface endpoints × the subnets (AZs) each is in. */
  readonly interfaceEndpointAzs: number;
  readonly natGateways: number;
  readonly kmsKeys: number;
  /** Alarm metrics: a metric math alarm is billed per metric it reads (CloudWatch pricing). */
  readonly alarms: number;
  readonly dashboards: number;
  readonly secrets: number;
  /** DynamoDB writes per order: the order, plus the idempotency record's two (in progress, completed). */
  readonly dynamodbWritesPerOrder: number;
  /** SQL statements per order, where the design fixes it (the original's CALL per row); ours is measured per batch. */
  readonly statementsPerOrder?: number;
  /** The archive's retention in days (0: forever), or undefined without an archive of requests. */
  readonly archiveRetentionDays: number | undefined;
  /** X-Ray: whether executions are traced, and which functions trace actively. */
  readonly tracing: { readonly stateMachine: boolean; readonly functions: readonly string[] };
  /** The orders table's on-demand write cap (WRU/s), when it has one. */
  readonly ordersMaxWriteRequestUnits?: number;
}

/** What the model reads from the benchmark. */
/**
 * The original sample's queries (it had no orderDetails), by the name of ours
 * that answers the same question, and the key the benchmark stores the
 * original's timing under beside ours.
 */
export const ORIGINAL_SAMPLE_QUERIES: Readonly<Record<string, string>> = { itemsSalesReport: 'originalItemsReport', monthlySalesByItem: 'originalMonthly' };

export interface Measured {
  /** The read-model write of one batch, seconds (from the projection's measured orders per second). */
  readonly batchWriteSeconds: number;
  /** Per record, the original's one-invocation-per-record projection: seconds of SQL (its measured orders/s). */
  readonly originalRecordSeconds: number;
  readonly writerOrdersPerSecond: number;
  readonly originalWriterOrdersPerSecond: number;
  /** Per query: p50 ms at the largest history measured (and the original's GROUP BY equivalent). */
  readonly queryMs: Readonly<Record<string, number>>;
  /** Per query: what TLS adds to it, ms (the same query over a plain and a TLS connection to one server). */
  readonly queryTlsMs: Readonly<Record<string, number>>;
  readonly originalQueryMs: Readonly<Record<string, number>>;
  readonly commandExecutionMs: number;
  readonly functionMs: Readonly<Record<string, number>>;
  /** SQL statements the projection sends for one batch of new orders (bench: changes). */
  readonly statementsPerCreateBatch: number;
  /** Bytes of one command or query event as the bus delivers (and archives) it. */
  readonly requestEventBytes: number;
  /** Bytes per order into the functions' and the responses' log groups. */
  readonly logBytesPerOrder: number;
  readonly workflowLogBytesAllWithData: number;
  readonly source: string;
}

/**
 * Assumptions about AWS behaviour the local machine cannot measure, each
 * stated where it is used. Not prices or quotas (those are in the data file).
 */
const ASSUMPTIONS = {
  /** The stream mapping's poll, invoke and return around a batch (Lambda polls a shard up to four times a second). */
  streamInvokeOverheadMs: 25,
  /** The two idempotency round trips of a batch to DynamoDB (single-digit milliseconds each, all records concurrently). */
  idempotencyRoundTripsMs: 20,
  /** This benchmark machine (2 vCPU) as Aurora capacity: 1 ACU ≈ 2 GiB with its share of CPU; 2 vCPU ≈ 4 ACU. */
  benchMachineAcu: 4,
  /** Bytes an order occupies in the read model (order row, two lines, indexes). */
  readModelBytesPerOrder: 400,
  /** Aurora I/O requests per projected order (pages written in batches, amortized). */
  auroraIoPerOrder: 2,
  /** The memory an Express execution is billed at (64 MB, the minimum chunk). */
  expressBilledGb: 64 / 1024,
  /** Step Functions' log events of one execution at ALL without execution data (the events, not their payloads). */
  workflowLogBytesAllWithoutData: 1_000,
  /** Hours in a month, as AWS prices monthly figures. */
  hoursPerMonth: 730,
} as const;

/** One stage's sustained throughput. */
interface Stage {
  readonly name: string;
  readonly ordersPerSecond: number;
  readonly assumption: string;
}

/** A cost component: the same name in every design, so designs compare line by line. */
interface Component {
  readonly name: string;
  readonly usd: number;
  /** What the figure rests on (counts, bytes, durations). */
  readonly detail?: string;
}

/** The model's answer for one design. */
export interface CapacityReport {
  readonly environment: string;
  readonly bottleneck: string;
  readonly stages: readonly Stage[];
  readonly queries: readonly { readonly name: string; readonly perSecond: number; readonly assumption: string }[];
  readonly costPerMillionOrdersUsd: number;
  readonly components: readonly Component[];
  readonly costPerMillionQueriesUsd: number;
  readonly queryComponents: readonly Component[];
  readonly monthlyFloorUsd: number;
  readonly floorComponents: readonly Component[];
  readonly prices: { readonly source: string; readonly date: string };
  readonly measured: string;
}

const cents = (usd: number) => Math.round(usd * 10_000) / 10_000;
const sum = (components: readonly Component[]) => components.reduce((total, component) => total + component.usd, 0);
const lambdaGbSeconds = (memoryMb: number, ms: number) => (memoryMb / 1024) * (Math.max(1, Math.ceil(ms)) / 1000);

/**
 * The archive of commands and queries for a million requests: the events
 * processed into it, and their storage over the retention (a month's worth
 * when kept forever, as the figure is per million, not per month).
 * Prices: https://aws.amazon.com/eventbridge/pricing/ (Event replay).
 */
function archiveCost(design: Design, measured: Measured, facts: AwsFacts): Component {
  const name = 'EventBridge archive: events archived and stored';
  if (design.archiveRetentionDays === undefined) return { name, detail: 'no archive', usd: 0 };
  const gb = (measured.requestEventBytes * 1_000_000) / 1024 ** 3;
  const months = design.archiveRetentionDays === 0 ? 1 : design.archiveRetentionDays / (ASSUMPTIONS.hoursPerMonth / 24);
  return {
    name,
    detail: `${measured.requestEventBytes} bytes per request event (measured), kept ${design.archiveRetentionDays === 0 ? 'forever (one month counted)' : `${design.archiveRetentionDays} days`}`,
    usd: gb * price(facts, 'eventbridgeArchiveProcessedGb') + gb * months * price(facts, 'eventbridgeArchiveStorageGbMonth'),
  };
}

/**
 * X-Ray traces recorded for a million requests under the default sampling
 * rule (a reservoir of one trace a second, then a fixed rate of the rest):
 * at volume, the fixed rate. The reservoir adds at most one trace a second
 * (2.6 million a month, less the 100,000 free), whatever the volume.
 */
function xrayCost(design: Design, facts: AwsFacts, tracedRequests: number, what: string): Component {
  const name = 'X-Ray: traces recorded (default sampling)';
  if (tracedRequests === 0) return { name, detail: 'tracing off', usd: 0 };
  const rate = quota(facts, 'xrayDefaultSamplingFixedRate');
  return {
    name,
    detail: `${Math.round(tracedRequests).toLocaleString('en-US')} traced requests (${what}) × ${rate * 100}% sampled`,
    usd: ((tracedRequests * rate) / 1_000_000) * price(facts, 'xrayTracesRecordedPerMillion'),
  };
}

/** Reads a design from one environment's synthesized stacks. */
export function designFromSynth(
  config: EnvironmentConfig,
  stacks: Readonly<Record<string, StackJson>>,
  queryFunctions: Readonly<Record<string, string>>,
): Design {
  const mapping = resourcesOf(stacks, 'aws_lambda_event_source_mapping')[0] ?? {};
  const cluster = resourcesOf(stacks, 'aws_rds_cluster')[0] as
    { serverlessv2_scaling_configuration?: { min_capacity: number; max_capacity: number } } | undefined;
  const machine = resourcesOf(stacks, 'aws_sfn_state_machine')[0] as
    { logging_configuration?: { level: string; include_execution_data: boolean }; tracing_configuration?: { enabled?: boolean } } | undefined;
  const archive = resourcesOf(stacks, 'aws_cloudwatch_event_archive')[0];
  const ordersTable = resourcesOf(stacks, 'aws_dynamodb_table').find((table) => table.stream_enabled === true) as
    { on_demand_throughput?: { max_write_request_units?: number } } | undefined;
  const writeCap = ordersTable?.on_demand_throughput?.max_write_request_units;
  const functions = Object.fromEntries(
    resourcesOf(stacks, 'aws_lambda_function').map((fn) => {
      const reserved = Number(fn.reserved_concurrent_executions ?? -1);
      return [
        String(fn.function_name).replace(/^order-pipeline-[a-z]+-/, ''),
        { memoryMb: Number(fn.memory_size ?? 128), ...(reserved >= 0 ? { reserved } : {}) },
      ];
    }),
  );
  return {
    name: config.environment,
    batchSize: Number(mapping.batch_size ?? 100),
    batchingWindowSeconds: Number(mapping.maximum_batching_window_in_seconds ?? 0),
    parallelizationFactor: Number(mapping.parallelization_factor ?? 1),
    expectedShards: config.projection.expectedShards,
    functions,
    queryFunctions,
    aurora: {
      minCapacity: Number(cluster?.serverlessv2_scaling_configuration?.min_capacity ?? 0),
      maxCapacity: Number(cluster?.serverlessv2_scaling_configuration?.max_capacity ?? 1),
      instances: resourcesOf(stacks, 'aws_rds_cluster_instance').length,
    },
    workflowLogs: {
      level: machine?.logging_configuration?.level ?? 'OFF',
      includeExecutionData: machine?.logging_configuration?.include_execution_data === true,
    },
    interfaceEndpointAzs: resourcesOf(stacks, 'aws_vpc_endpoint')
      .filter((endpoint) => endpoint.vpc_endpoint_type === 'Interface')
      .reduce((total, endpoint) => total + (Array.isArray(endpoint.subnet_ids) ? endpoint.subnet_ids.length : 1), 0),
    natGateways: resourcesOf(stacks, 'aws_nat_gateway').length,
    kmsKeys: resourcesOf(stacks, 'aws_kms_key').length,
    alarms: resourcesOf(stacks, 'aws_cloudwatch_metric_alarm').reduce(
      (total, alarm) => total + (Array.isArray(alarm.metric_query) ? (alarm.metric_query as { metric?: unknown }[]).filter((query) => query.metric).length : 1),
      0,
    ),
    dashboards: resourcesOf(stacks, 'aws_cloudwatch_dashboard').length,
    // The role secrets, plus the master user secret Aurora manages.
    secrets:
      resourcesOf(stacks, 'aws_secretsmanager_secret').length +
      resourcesOf(stacks, 'aws_rds_cluster').filter((rds) => rds.manage_master_user_password === true).length,
    dynamodbWritesPerOrder: 1 + (Object.keys(functions).includes('project-orders') ? 2 : 0),
    archiveRetentionDays: archive === undefined ? undefined : Number(archive.retention_days ?? 0),
    tracing: {
      stateMachine: machine?.tracing_configuration?.enabled === true,
      functions: resourcesOf(stacks, 'aws_lambda_function')
        .filter((fn) => (fn.tracing_config as { mode?: string } | undefined)?.mode === 'Active')
        .map((fn) => String(fn.function_name).replace(/^order-pipeline-[a-z]+-/, '')),
    },
    ...(writeCap !== undefined ? { ordersMaxWriteRequestUnits: Number(writeCap) } : {}),
  };
}

/**
 * The original sample's design through the same model, for comparison: the
 * projection invoked once per record (batch size 1) with a `CALL` per row,
 * no idempotency writes, NAT gateways (one per AZ) for the VPC functions,
 * execution data logged, queries that `GROUP BY` over every order line, and
 * the SAM defaults (128 MB functions, no reserved concurrency, no customer key).
 */
export function originalDesign(ours: Design): Design {
  const fn = { memoryMb: 128 };
  const { ordersMaxWriteRequestUnits: _, ...uncapped } = ours;
  return {
    ...uncapped,
    name: 'original',
    batchSize: 1,
    batchingWindowSeconds: 0,
    parallelizationFactor: 1,
    // No validation function: a Map state marshals the items.
    functions: { 'project-orders': fn, ...Object.fromEntries(Object.values(ours.queryFunctions).map((name) => [name, fn])) },
    workflowLogs: { level: 'ALL', includeExecutionData: true },
    interfaceEndpointAzs: 0,
    natGateways: 2,
    kmsKeys: 0,
    alarms: 0,
    dashboards: 0,
    secrets: 1,
    dynamodbWritesPerOrder: 1,
    statementsPerOrder: 3,
    // SAM's defaults: no archive, no tracing.
    archiveRetentionDays: undefined,
    tracing: { stateMachine: false, functions: [] },
  };
}

/** Runs the model over one design. */
export function capacityModel(design: Design, measured: Measured, facts: AwsFacts, original = false): CapacityReport {
  const fnMs = (name: string, fallback: number) => measured.functionMs[name] ?? fallback;
  const statementsPerOrder = design.statementsPerOrder ?? measured.statementsPerCreateBatch / design.batchSize;
  const reservedTotal = Object.values(design.functions).reduce((total, fn) => total + (fn.reserved ?? 0), 0);
  const unreserved = quota(facts, 'lambdaConcurrentExecutions') - reservedTotal;
  const validates = 'validate-request' in design.functions;
  const validateMs = validates ? fnMs('validate-request', measured.commandExecutionMs) : 0;
  // validate-request's own reservation when it has one; else the unreserved pool it shares.
  const validateReserved = design.functions['validate-request']?.reserved;
  const validateConcurrency = validateReserved ?? unreserved;
  const validatePool =
    validateReserved !== undefined
      ? `its reserved concurrency of ${validateReserved}`
      : `the ${unreserved} unreserved (account default ${quota(facts, 'lambdaConcurrentExecutions')} less ${reservedTotal} reserved)`;
  const tableQuota = quota(facts, 'dynamodbTableWriteUnitsPerSecond');
  const writeCap = design.ordersMaxWriteRequestUnits;
  const projection = design.functions['project-orders'];
  const projectionConcurrency = Math.min(design.expectedShards * design.parallelizationFactor, projection?.reserved ?? Number.POSITIVE_INFINITY);
  const batchSeconds = original
    ? measured.originalRecordSeconds + ASSUMPTIONS.streamInvokeOverheadMs / 1000
    : measured.batchWriteSeconds + (ASSUMPTIONS.idempotencyRoundTripsMs + ASSUMPTIONS.streamInvokeOverheadMs) / 1000;
  const shardIngest = design.expectedShards * quota(facts, 'dynamodbPartitionWriteUnitsPerSecond');
  const projected = Math.min((projectionConcurrency * design.batchSize) / batchSeconds, shardIngest);

  const stages: Stage[] = [
    {
      name: 'PutEvents quota',
      ordersPerSecond: quota(facts, 'eventbridgePutEventsPerSecond') / 2,
      assumption: `${quota(facts, 'eventbridgePutEventsPerSecond')} entries/s per account and region, shared by each command and its response (2 per order)`,
    },
    {
      name: 'rule → Express StartExecution',
      ordersPerSecond: Math.min(quota(facts, 'eventbridgeInvocationsPerSecond'), quota(facts, 'stepFunctionsExpressStartExecutionPerSecond')),
      assumption: `one execution per order: the lower of EventBridge's ${quota(facts, 'eventbridgeInvocationsPerSecond')} target invocations/s and Express StartExecution's ${quota(facts, 'stepFunctionsExpressStartExecutionPerSecond')}/s`,
    },
    ...(validates
      ? [
          {
            // Lambda's request-rate quota: invocations per second at most 10 × concurrency, for a function
            // and for the account (gettingstarted-limits.html); each order invokes validate-request once,
            // within its reserved concurrency (or the unreserved pool, without one).
            name: 'Lambda requests per second',
            ordersPerSecond: quota(facts, 'lambdaRequestsPerSecondPerConcurrency') * validateConcurrency,
            assumption: `one validate-request invocation per order; Lambda allows ${quota(facts, 'lambdaRequestsPerSecondPerConcurrency')} requests/s per unit of concurrency, and validate-request has ${validatePool}`,
          },
          {
            name: 'validate-request',
            ordersPerSecond: Math.floor(validateConcurrency / (validateMs / 1000)),
            assumption: `${validatePool} at ${validateMs} ms each (measured)`,
          },
        ]
      : []),
    {
      name: 'orders table write',
      ordersPerSecond: Math.min(writeCap ?? tableQuota, tableQuota),
      assumption:
        writeCap !== undefined
          ? `one write unit per order (items under 1 KB); the table's on-demand write cap of ${writeCap} WRU/s (config intake.ordersMaxWriteRequestUnits; writes past it are throttled), under the ${tableQuota} WRU/s per-table quota`
          : `one write unit per order (items under 1 KB), ${tableQuota} WRU/s per on-demand table; a new table starts lower and grows with traffic`,
    },
    {
      name: 'stream → projection',
      ordersPerSecond: Math.floor(projected),
      assumption:
        `${design.expectedShards} shards × parallelization ${design.parallelizationFactor}` +
        `${projection?.reserved !== undefined ? `, capped by reserved concurrency ${projection.reserved}` : ''}, ` +
        `${design.batchSize} records per ${Math.round(batchSeconds * 1000)} ms batch (${original ? 'measured SQL per record' : 'measured SQL per batch'} + ${original ? '' : `${ASSUMPTIONS.idempotencyRoundTripsMs} ms idempotency + `}${ASSUMPTIONS.streamInvokeOverheadMs} ms invoke); ` +
        `each shard takes at most ${quota(facts, 'dynamodbPartitionWriteUnitsPerSecond')} writes/s (${shardIngest}/s in all)`,
    },
    {
      name: 'Aurora writer',
      // A maximum below the benchmark machine's size scales the measured rate down; above it, no faster is assumed.
      ordersPerSecond: Math.floor(
        (original ? measured.originalWriterOrdersPerSecond : measured.writerOrdersPerSecond) *
          Math.min(1, design.aurora.maxCapacity / ASSUMPTIONS.benchMachineAcu),
      ),
      assumption: `the measured rate of the same statements (${statementsPerOrder < 1 ? `${Math.round(statementsPerOrder * 1000)} per 1,000 orders` : `${statementsPerOrder} per order`}) on the benchmark's server (2 vCPU, about ${ASSUMPTIONS.benchMachineAcu} ACU), scaled to the maximum of ${design.aurora.maxCapacity} ACU when smaller, never up`,
    },
  ];
  const bottleneck = stages.reduce((lowest, stage) => (stage.ordersPerSecond < lowest.ordersPerSecond ? stage : lowest));

  // The original has only the queries it shipped (no orderDetails).
  const queries = Object.entries(design.queryFunctions)
    .filter(([query]) => !original || query in measured.originalQueryMs)
    .map(([query, functionName]) => {
      const handlerMs = original ? measured.originalQueryMs[query] : measured.queryMs[query];
      const tlsMs = measured.queryTlsMs[query];
      // A query the stacks deploy but the bench never timed has no rate: say so rather than print NaN.
      if (handlerMs === undefined || tlsMs === undefined)
        throw new Error(`the benchmark has no time for the query ${query}: run npm run bench -- --sections queries (its handler must be timed there)`);
      const ms = Math.round((handlerMs + tlsMs) * 1000) / 1000;
      const concurrency = design.functions[functionName]?.reserved ?? unreserved;
      return {
        name: query,
        perSecond: Math.floor(concurrency / (ms / 1000)),
        assumption: `${concurrency} concurrent executions × ${ms} ms per answer (measured p50s: ${handlerMs} ms in-process handler time at the largest history benchmarked, plus ${tlsMs} ms that TLS adds to the same query)`,
      };
    });

  // Cost per million orders.
  const million = 1_000_000;
  const expressSeconds = Math.ceil(measured.commandExecutionMs / 100) / 10;
  // At ERROR or below, a successful execution logs nothing.
  const workflowLogBytes =
    design.workflowLogs.level === 'ALL'
      ? design.workflowLogs.includeExecutionData
        ? measured.workflowLogBytesAllWithData
        : ASSUMPTIONS.workflowLogBytesAllWithoutData
      : 0;
  const logGb = ((measured.logBytesPerOrder + workflowLogBytes) * million) / 1024 ** 3;
  const projectionInvocations = million / design.batchSize;
  const projectionMs = batchSeconds * 1000;
  const writerSecondsPerOrder = 1 / (original ? measured.originalWriterOrdersPerSecond : measured.writerOrdersPerSecond);
  const components: Component[] = [
    { name: 'EventBridge: command and response', usd: 2 * price(facts, 'eventbridgePutEventsPerMillion') },
    {
      name: 'Step Functions Express: requests and GB-seconds',
      usd:
        price(facts, 'stepFunctionsExpressRequestsPerMillion') +
        million * ASSUMPTIONS.expressBilledGb * expressSeconds * price(facts, 'stepFunctionsExpressGbSecond'),
    },
    {
      name: 'Lambda: validate-request and the projection (arm64)',
      usd:
        (((validates ? million : 0) + projectionInvocations) / million) * price(facts, 'lambdaRequestsPerMillion') +
        ((validates ? million * lambdaGbSeconds(design.functions['validate-request']?.memoryMb ?? 128, validateMs) : 0) +
          projectionInvocations * lambdaGbSeconds(projection?.memoryMb ?? 128, projectionMs)) *
          price(facts, 'lambdaArmGbSecond'),
    },
    {
      name: 'DynamoDB: the order write and idempotency writes',
      detail: `${design.dynamodbWritesPerOrder} write${design.dynamodbWritesPerOrder === 1 ? '' : 's'} per order`,
      usd: design.dynamodbWritesPerOrder * price(facts, 'dynamodbWriteRequestUnitsPerMillion'),
    },
    {
      name: 'Aurora Serverless v2: ACU-hours, storage (a month), I/O',
      usd:
        ((million * writerSecondsPerOrder * ASSUMPTIONS.benchMachineAcu) / 3600) * price(facts, 'auroraServerlessV2AcuHour') +
        ((million * ASSUMPTIONS.readModelBytesPerOrder) / 1024 ** 3) * price(facts, 'auroraStorageGbMonth') +
        ASSUMPTIONS.auroraIoPerOrder * price(facts, 'auroraIoPerMillion'),
    },
    {
      name: 'CloudWatch Logs: ingestion',
      detail: `${Math.round(measured.logBytesPerOrder + workflowLogBytes)} bytes per order; workflow logs ${design.workflowLogs.level}${design.workflowLogs.includeExecutionData ? ' with execution data' : ''}`,
      usd: logGb * price(facts, 'cloudwatchLogsIngestionGb'),
    },
    { name: 'SQS: dead-letter and on-failure queues (failures only)', usd: 0 },
    archiveCost(design, measured, facts),
    xrayCost(
      design,
      facts,
      (design.tracing.stateMachine ? million : 0) + (design.tracing.functions.includes('project-orders') ? projectionInvocations : 0),
      'an execution per order (validate-request in its trace) and a projection invocation per batch',
    ),
    {
      name: 'NAT gateway data',
      detail: design.natGateways > 0 ? "the VPC functions' AWS calls, about 4 KB per order" : 'none: VPC endpoints',
      usd: design.natGateways > 0 ? ((million * 4096) / 1024 ** 3) * price(facts, 'natGatewayDataGb') : 0,
    },
  ].map((component) => ({ ...component, usd: cents(component.usd) }));

  // Cost per million queries: the query event and its answer, an execution, the query function.
  const queryMs = Object.entries(original ? measured.originalQueryMs : measured.queryMs).map(([query, ms]) => ms + (measured.queryTlsMs[query] ?? 0));
  const meanQueryMs = queryMs.reduce((total, ms) => total + ms, 0) / Math.max(1, queryMs.length);
  const queryMemory = design.functions[Object.values(design.queryFunctions)[0] ?? '']?.memoryMb ?? 128;
  const queryComponents: Component[] = [
    { name: 'EventBridge: query and answer', usd: 2 * price(facts, 'eventbridgePutEventsPerMillion') },
    {
      name: 'Step Functions Express',
      usd:
        price(facts, 'stepFunctionsExpressRequestsPerMillion') +
        ((million * ASSUMPTIONS.expressBilledGb * Math.ceil(meanQueryMs / 100 + 1)) / 10) * price(facts, 'stepFunctionsExpressGbSecond'),
    },
    {
      name: 'Lambda: the query function',
      usd: price(facts, 'lambdaRequestsPerMillion') + million * lambdaGbSeconds(queryMemory, meanQueryMs + 5) * price(facts, 'lambdaArmGbSecond'),
    },
    { name: 'Aurora: reader time', usd: ((million * (meanQueryMs / 1000) * ASSUMPTIONS.benchMachineAcu) / 3600) * price(facts, 'auroraServerlessV2AcuHour') },
    { name: 'CloudWatch Logs', usd: ((measured.logBytesPerOrder * million) / 1024 ** 3) * price(facts, 'cloudwatchLogsIngestionGb') },
    archiveCost(design, measured, facts),
    xrayCost(design, facts, design.tracing.stateMachine ? million : 0, 'an execution per query (its function in the trace)'),
  ].map((component) => ({ ...component, usd: cents(component.usd) }));

  // The monthly floor: what runs with no traffic at all.
  const hours = ASSUMPTIONS.hoursPerMonth;
  const floorComponents: Component[] = [
    {
      name: 'Aurora: minimum capacity',
      detail: `${design.aurora.minCapacity} ACU × ${design.aurora.instances} instance${design.aurora.instances === 1 ? '' : 's'}${design.aurora.minCapacity === 0 ? ' (auto-pause)' : ''}`,
      usd: design.aurora.minCapacity * design.aurora.instances * hours * price(facts, 'auroraServerlessV2AcuHour'),
    },
    {
      name: 'VPC interface endpoints',
      detail: `${design.interfaceEndpointAzs} endpoint-AZs`,
      usd: design.interfaceEndpointAzs * hours * price(facts, 'vpcInterfaceEndpointHour'),
    },
    {
      name: 'NAT gateways and their public IPs',
      detail: `${design.natGateways}`,
      usd: design.natGateways * hours * (price(facts, 'natGatewayHour') + price(facts, 'publicIpv4Hour')),
    },
    { name: 'KMS keys', detail: `${design.kmsKeys}`, usd: design.kmsKeys * price(facts, 'kmsKeyMonth') },
    { name: 'CloudWatch alarms', detail: `${design.alarms} alarm metrics`, usd: design.alarms * price(facts, 'cloudwatchAlarmMonth') },
    { name: 'CloudWatch dashboards', detail: `${design.dashboards}`, usd: design.dashboards * price(facts, 'cloudwatchDashboardMonth') },
    { name: 'Secrets Manager secrets', detail: `${design.secrets}`, usd: design.secrets * price(facts, 'secretsManagerSecretMonth') },
  ].map((component) => ({ ...component, usd: cents(component.usd) }));

  return {
    environment: design.name,
    bottleneck: bottleneck.name,
    stages,
    queries,
    costPerMillionOrdersUsd: cents(sum(components)),
    components,
    costPerMillionQueriesUsd: cents(sum(queryComponents)),
    queryComponents,
    monthlyFloorUsd: cents(sum(floorComponents)),
    floorComponents,
    prices: { source: facts.prices.source, date: facts.prices.date },
    measured: measured.source,
  };
}

/** The benchmark's figures the model reads (bench/results/latest.json). */
export function measuredFromBench(bench: Record<string, unknown>, batchSize: number): Measured {
  type Figures = { ordersPerSecond: number };
  const projection = bench.projection as { idempotencyOff: Figures; original: Figures } | undefined;
  const queries = bench.queries as ({ orderLines: number } & Record<string, unknown>)[] | undefined;
  const local = bench.localPipeline as
    | {
        enforced?: {
          perOrder?: {
            commandExecutionMs: number;
            functionMs: Record<string, number>;
            logBytes: Record<string, number>;
            workflowLogBytesAllWithData: number;
            requestEventBytes?: number;
          };
        };
      }
    | undefined;
  const perOrder = local?.enforced?.perOrder;
  const creates = (bench.changes as { creates?: { statementsPerBatch: number } } | undefined)?.creates;
  const tls = (bench.queryTls as { perQuery?: Record<string, { overheadMs: number }> } | undefined)?.perQuery;
  if (!projection || !queries?.length || !perOrder?.requestEventBytes || !creates || !tls) {
    throw new Error('bench/results/latest.json lacks the projection, changes, queries (with TLS) or per-order figures: run npm run bench (all sections)');
  }
  const largest = queries[queries.length - 1] as (typeof queries)[number];
  return {
    batchWriteSeconds: batchSize / projection.idempotencyOff.ordersPerSecond,
    originalRecordSeconds: 1 / projection.original.ordersPerSecond,
    writerOrdersPerSecond: projection.idempotencyOff.ordersPerSecond,
    originalWriterOrdersPerSecond: projection.original.ordersPerSecond,
    // Every query the bench timed, by its registered name (the original's figures are under original*).
    queryMs: Object.fromEntries(
      Object.entries(largest).flatMap(([name, figures]) =>
        name.startsWith('original') || typeof figures !== 'object' || figures === null || !('p50' in figures) ? [] : [[name, (figures as { p50: number }).p50]],
      ),
    ),
    queryTlsMs: Object.fromEntries(Object.entries(tls).map(([query, figures]) => [query, figures.overheadMs])),
    originalQueryMs: Object.fromEntries(
      Object.entries(ORIGINAL_SAMPLE_QUERIES).map(([query, key]) => {
        const figures = largest[key] as { p50?: number } | undefined;
        if (typeof figures?.p50 !== 'number')
          throw new Error(`bench/results/latest.json has no time for the original's ${query} (${key}): run npm run bench -- --sections queries`);
        return [query, figures.p50];
      }),
    ),
    commandExecutionMs: perOrder.commandExecutionMs,
    functionMs: perOrder.functionMs,
    statementsPerCreateBatch: creates.statementsPerBatch,
    requestEventBytes: perOrder.requestEventBytes,
    logBytesPerOrder: Object.values(perOrder.logBytes).reduce((total, bytes) => total + bytes, 0),
    workflowLogBytesAllWithData: perOrder.workflowLogBytesAllWithData,
    source: `bench/results/latest.json of ${typeof bench.date === 'string' ? bench.date : 'unknown date'}, at ${largest.orderLines.toLocaleString('en')} order lines`,
  };
}
