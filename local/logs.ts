/**
 * CloudWatch Logs' read API over the local log groups, so a client reads the
 * responses as it does on AWS (`FilterLogEvents` on the responses log group,
 * what `npm run query -- --bus` does) and under the consumer policy when it
 * signs with the access key id `consumer`.
 */
import { AwsError, requireString, type JsonService } from './aws-protocol';
import type { LocalLogGroup } from './runtime';
import type { BusEvent } from './event-bus';
import { quoted } from './redact';

/** The local `Logs_20140328.*` service over the runtime's log groups. */
export function logsService(groups: ReadonlyMap<string, LocalLogGroup>): JsonService {
  const group = (body: Record<string, unknown>): LocalLogGroup => {
    const found = groups.get(requireString(body, 'logGroupName'));
    if (!found) throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
    return found;
  };
  const events = (found: LocalLogGroup) =>
    found.lines.map((message, index) => ({ logStreamName: 'local', timestamp: found.times[index] ?? 0, ingestionTime: found.times[index] ?? 0, message, eventId: String(index) }));
  return {
    targetPrefix: 'Logs_20140328',
    jsonVersion: '1.1',
    operations: {
      FilterLogEvents: (body) => {
        const startTime = typeof body.startTime === 'number' ? body.startTime : 0;
        return { events: events(group(body)).filter((event) => event.timestamp >= startTime), searchedLogStreams: [{ logStreamName: 'local', searchedCompletely: true }] };
      },
      GetLogEvents: (body) => ({ events: events(group(body)).map(({ timestamp, message, ingestionTime }) => ({ timestamp, message, ingestionTime })) }),
      DescribeLogStreams: (body) => {
        const found = group(body);
        return { logStreams: [{ logStreamName: 'local', arn: `${found.arn}:log-stream:local`, storedBytes: 0, lastEventTimestamp: found.times[found.times.length - 1] }] };
      },
    },
  };
}

/** A response event as a runtime log line (user values quoted). */
export function describeResponse(event: BusEvent): string {
  const detail = event.detail as Record<string, unknown>;
  if ('commandStatus' in detail) {
    const error = detail.error as { code?: string } | undefined;
    return `← ${event['detail-type']} ${quoted(detail.orderid)} ${quoted(detail.commandStatus)}${error ? ` (${quoted(error.code)})` : ''}`;
  }
  const rows = Array.isArray(detail.queryResult) ? `${detail.queryResult.length} rows` : quoted(JSON.stringify(detail.error));
  return `← ${event['detail-type']} ${quoted(detail.query)} ${quoted(detail.queryStatus)} ${rows}`;
}
