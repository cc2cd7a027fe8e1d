/**
 * A client of the pipeline for the CLIs and tests: puts events on the bus and
 * waits for the response that answers them, locally (through `/_local/events`)
 * or against a deployed stack (through the responses log group).
 */
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { findLocalEndpoint, unreachableMessage } from '../config/local-endpoint';
import { DetailType, resourceNames } from '../config/pipeline';
import { localClientOptions } from './local-client';

/** An event as `/_local/events` and the responses log group hold it. */
export interface PipelineEvent {
  id: string;
  'detail-type': string;
  source: string;
  time: string;
  detail: Record<string, unknown>;
}

/** A PutEvents entry whose Detail may still be an object (the `events/` files). */
export interface EntryInput {
  Source: string;
  DetailType: string;
  Detail: string | Record<string, unknown>;
  Time?: string;
  EventBusName?: string;
}

/** Where the pipeline is. */
export interface Target {
  readonly kind: 'local' | 'aws';
  /** Bus name or ARN. */
  readonly bus: string;
  readonly endpoint?: string;
  /** Where {@link endpoint} came from (the flag, AWS_ENDPOINT_URL, the runtime's endpoint file, the default), for messages. */
  readonly endpointFrom?: string;
  /** Log group holding the responses (deployed stacks). */
  readonly responsesLogGroup?: string;
}

/** The local runtime (found as config/local-endpoint.ts says), or a deployed bus from `--bus` / `AWS_CQRS_EVENTBRIDGE_ARN`. */
export function resolveTarget(options: { bus?: string | undefined; endpoint?: string | undefined; logGroup?: string | undefined }): Target {
  const deployed = options.bus ?? process.env.AWS_CQRS_EVENTBRIDGE_ARN;
  if (deployed) {
    const busName = deployed.split('/').pop() ?? deployed;
    const environment = /^order-pipeline-(.+)-bus$/.exec(busName)?.[1];
    const logGroup = options.logGroup ?? process.env.AWS_CQRS_RESPONSES_LOG_GROUP ?? (environment ? resourceNames(environment).responsesLogGroup : undefined);
    return { kind: 'aws', bus: deployed, ...(logGroup ? { responsesLogGroup: logGroup } : {}) };
  }
  const found = findLocalEndpoint(options.endpoint);
  return { kind: 'local', bus: resourceNames('local').eventBus, endpoint: found.url, endpointFrom: found.from };
}

/** Runs a call to the local runtime; a runtime that does not answer is named, with how to point elsewhere. */
async function reaching<T>(target: Target, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message =
      target.kind === 'local' && target.endpoint ? unreachableMessage({ url: target.endpoint, from: target.endpointFrom ?? 'the caller' }, error) : undefined;
    if (message) throw new Error(message, { cause: error });
    throw error;
  }
}

/** Puts entries on the target bus; returns the event ids (throws on any failed entry). */
export async function putEntries(target: Target, entries: readonly EntryInput[]): Promise<string[]> {
  const client = new EventBridgeClient(target.endpoint ? localClientOptions(target.endpoint) : {});
  try {
    const request: PutEventsRequestEntry[] = entries.map((entry) => ({
      EventBusName: entry.EventBusName ?? target.bus,
      Source: entry.Source,
      DetailType: entry.DetailType,
      Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail),
      ...(entry.Time ? { Time: new Date(entry.Time) } : {}),
    }));
    const result = await reaching(target, () => client.send(new PutEventsCommand({ Entries: request })));
    const failed = (result.Entries ?? []).filter((entry) => entry.ErrorCode);
    if (failed.length > 0)
      throw new Error(`PutEvents refused ${failed.length} entries: ${failed.map((entry) => `${entry.ErrorCode}: ${entry.ErrorMessage}`).join('; ')}`);
    return (result.Entries ?? []).map((entry) => entry.EventId as string);
  } finally {
    client.destroy();
  }
}

/** Every event the local runtime has seen. */
export async function localEvents(endpoint: string): Promise<PipelineEvent[]> {
  const response = await fetch(`${endpoint}/_local/events`);
  if (!response.ok) throw new Error(`GET ${endpoint}/_local/events answered ${response.status}`);
  return (await response.json()) as PipelineEvent[];
}

/**
 * Waits until the local runtime has nothing in flight (stream projected,
 * executions done), asking again while the runtime answers "not yet" (each
 * answer waits up to a minute), for up to `timeoutMs`: a busy machine may
 * take longer than one answer's wait to drain a large batch.
 */
export async function localIdle(endpoint: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${endpoint}/_local/idle`);
    const body = (await response.json()) as { idle: boolean };
    if (body.idle) return;
    if (Date.now() >= deadline) throw new Error(`the local pipeline did not become idle within ${Math.round(timeoutMs / 1000)} s`);
  }
}

/** Waits for the response event that answers the event `id` (command or query). */
export async function waitForResponse(target: Target, id: string, timeoutMs = 30_000): Promise<PipelineEvent> {
  const deadline = Date.now() + timeoutMs;
  const answers = (event: PipelineEvent) =>
    (event['detail-type'] === DetailType.commandResponse && event.detail.commandMessageId === id) ||
    (event['detail-type'] === DetailType.queryResponse && event.detail.queryMessageId === id);
  const logs = target.kind === 'aws' ? new CloudWatchLogsClient({}) : undefined;
  const startTime = Date.now() - 60_000;
  try {
    while (Date.now() < deadline) {
      if (target.kind === 'local') {
        const found = (await reaching(target, () => localEvents(target.endpoint as string))).find(answers);
        if (found) return found;
      } else {
        if (!target.responsesLogGroup) throw new Error('the responses log group is unknown: pass --log-group or set AWS_CQRS_RESPONSES_LOG_GROUP');
        const page = await logs!.send(
          new FilterLogEventsCommand({
            logGroupName: target.responsesLogGroup,
            startTime,
            filterPattern: `{ ($.detail.commandMessageId = "${id}") || ($.detail.queryMessageId = "${id}") }`,
          }),
        );
        const message = page.events?.[0]?.message;
        if (message) return JSON.parse(message) as PipelineEvent;
      }
      await new Promise((resolve) => setTimeout(resolve, target.kind === 'local' ? 25 : 1_000));
    }
  } finally {
    logs?.destroy();
  }
  throw new Error(`no response to ${id} within ${timeoutMs / 1000} s`);
}
