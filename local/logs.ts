/**
 * CloudWatch Logs for the local runtime: each log group keeps its latest
 * lines in memory; the functions write to theirs with their execution role,
 * and a rule target with the logs resource policy. The read API serves them
 * as on AWS (`FilterLogEvents` on the responses log group, what
 * `npm run query -- --bus` does), under the consumer policy when a client
 * signs with the access key id `consumer`.
 */
import { JSON_PROTOCOL, optionalString, requireString, type JsonService } from './protocols/json';
import { AwsError, UnsupportedTerraformError } from './errors';
import { parsePolicy, type IamGate, type Principal } from './iam';
import { quoted } from './redact';
import { EVENTBRIDGE, namedResource, type BusEvent, type Integration, type LocalService } from './service';

declare module './service' {
  interface Parts {
    logs: LocalLogs;
  }
}

/** Lines kept per log group. */
const LOG_GROUP_LINES = 2_000;

/** A log group's recent lines. */
export interface LocalLogGroup {
  readonly name: string;
  readonly arn: string;
  readonly keyArn?: string;
  readonly lines: string[];
  /** When each line was written (ms), index for index. */
  readonly times: number[];
  /** Everything written since the start (the kept lines are only the latest). */
  readonly written: { lines: number; bytes: number };
}

/**
 * The CloudWatch Logs service: each `aws_cloudwatch_log_group` keeps its
 * latest lines. CloudWatch Logs' own use of a group's key (the key policy's
 * statement for the logs service principal) is not checked: it happens when
 * CloudWatch Logs stores the lines, and the lines are kept in memory here.
 */
export const logsService: LocalService = {
  name: 'logs',
  serves: {
    aws_cloudwatch_log_group: {
      becomes: 'an in-memory log group',
      attributes: namedResource('logs', (name) => `log-group:${name}`),
    },
    aws_cloudwatch_log_resource_policy: { becomes: 'the resource policy of the log groups' },
  },
  // Account-level: a log resource policy applies to every log group its statements name.
  policies: (model) =>
    model.resources('aws_cloudwatch_log_resource_policy').map((policy) => ({
      address: policy.address,
      kind: 'prefix',
      target: 'arn:aws:logs:',
      document: parsePolicy(policy.address, model.field(policy, 'policy_document')),
    })),
  bind({ model, region, account, gate, log, serve, provide, integrate, page, status }) {
    const logs = new LocalLogs(gate);
    for (const group of model.resources('aws_cloudwatch_log_group')) {
      const attributes = model.attributes(group);
      const keyArn = model.field(group, 'kms_key_id') as string | undefined;
      logs.groups.set(attributes.name as string, {
        name: attributes.name as string,
        arn: attributes.arn as string,
        ...(keyArn ? { keyArn } : {}),
        lines: [],
        times: [],
        written: { lines: 0, bytes: 0 },
      });
    }
    serve(JSON_PROTOCOL, logs.service(region, account));
    provide('logs', logs);
    integrate('logs', ruleTarget(logs, account, log));
    status('logGroups', () => Object.fromEntries([...logs.groups.values()].map((group) => [group.name, group.written])));
    page('/_local/logs', () => Object.fromEntries([...logs.groups.values()].map((group) => [group.name, group.lines.slice(-200)])));
  },
};

/** The local log groups. */
class LocalLogs {
  readonly groups = new Map<string, LocalLogGroup>();

  constructor(private readonly gate: IamGate) {}

  /** A log group by ARN. */
  byArn(arn: string): LocalLogGroup | undefined {
    return [...this.groups.values()].find((group) => group.arn === arn);
  }

  /** Appends a line, keeping the latest {@link LOG_GROUP_LINES}. */
  append(group: LocalLogGroup, line: string): void {
    group.lines.push(line);
    group.times.push(Date.now());
    group.written.lines++;
    group.written.bytes += Buffer.byteLength(line) + 1;
    if (group.lines.length > LOG_GROUP_LINES) {
      group.lines.shift();
      group.times.shift();
    }
  }

  /** Writes a line as `principal` does on AWS (`CreateLogStream`, `PutLogEvents` on stream `stream`); a denial throws and nothing is written. */
  async write(
    principal: Principal,
    group: LocalLogGroup,
    stream: string,
    line: string,
    context: { create?: Record<string, string>; put?: Record<string, string> } = {},
  ): Promise<void> {
    await this.gate.authorize({
      principal,
      action: 'logs:CreateLogStream',
      resource: `${group.arn}:log-stream:${stream}`,
      ...(context.create ? { context: context.create } : {}),
    });
    await this.gate.authorize({
      principal,
      action: 'logs:PutLogEvents',
      resource: `${group.arn}:log-stream:${stream}`,
      ...(context.put ? { context: context.put } : {}),
    });
    this.append(group, line);
  }

  /** The `Logs_20140328.*` read API. */
  service(region: string, account: string): JsonService {
    return logsApi(this.groups, (principal, operation, body) =>
      this.gate.authorize({
        principal,
        action: `logs:${operation}`,
        resource: `arn:aws:logs:${region}:${account}:log-group:${optionalString(body, 'logGroupName') ?? '*'}`,
      }),
    );
  }
}

function logsApi(groups: ReadonlyMap<string, LocalLogGroup>, authorize: JsonService['authorize']): JsonService {
  const group = (body: Record<string, unknown>): LocalLogGroup => {
    const found = groups.get(requireString(body, 'logGroupName'));
    if (!found) throw new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
    return found;
  };
  const events = (found: LocalLogGroup) =>
    found.lines.map((message, index) => ({
      logStreamName: 'local',
      timestamp: found.times[index] ?? 0,
      ingestionTime: found.times[index] ?? 0,
      message,
      eventId: String(index),
    }));
  return {
    targetPrefix: 'Logs_20140328',
    jsonVersion: '1.1',
    authorize,
    operations: {
      FilterLogEvents: (body) => {
        const startTime = typeof body.startTime === 'number' ? body.startTime : 0;
        return {
          events: events(group(body)).filter((event) => event.timestamp >= startTime),
          searchedLogStreams: [{ logStreamName: 'local', searchedCompletely: true }],
        };
      },
      GetLogEvents: (body) => ({ events: events(group(body)).map(({ timestamp, message, ingestionTime }) => ({ timestamp, message, ingestionTime })) }),
      DescribeLogStreams: (body) => {
        const found = group(body);
        return {
          logStreams: [
            { logStreamName: 'local', arn: `${found.arn}:log-stream:local`, storedBytes: 0, lastEventTimestamp: found.times[found.times.length - 1] },
          ],
        };
      },
    },
  };
}

/** A log group as a rule's target: EventBridge writes the rule's events to it with the logs resource policy. */
function ruleTarget(logs: LocalLogs, account: string, log: (message: string) => void): Integration {
  return {
    target: ({ resource, arn, ruleName, ruleArn }) => {
      const group = logs.byArn(arn);
      if (!group) throw new UnsupportedTerraformError(resource.address, `log group ${arn} is not defined in the stacks`);
      return async (event) => {
        // EventBridge creates the stream without a source ARN in the request context, then puts the events with it.
        await logs.write(EVENTBRIDGE, group, ruleName, JSON.stringify(event), {
          create: { 'aws:SourceAccount': account },
          put: { 'aws:SourceArn': ruleArn, 'aws:SourceAccount': account },
        });
        log(describeResponse(event));
      };
    },
  };
}

/** A response event as a runtime log line (user values quoted). */
function describeResponse(event: BusEvent): string {
  const detail = event.detail;
  if ('commandStatus' in detail) {
    const error = detail.error as { code?: string } | undefined;
    return `← ${event['detail-type']} ${quoted(detail.orderid)} ${quoted(detail.commandStatus)}${error ? ` (${quoted(error.code)})` : ''}`;
  }
  const rows = Array.isArray(detail.queryResult) ? `${detail.queryResult.length} rows` : quoted(JSON.stringify(detail.error));
  return `← ${event['detail-type']} ${quoted(detail.query)} ${quoted(detail.queryStatus)} ${rows}`;
}
