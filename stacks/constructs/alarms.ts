/**
 * What a resource offers monitoring: its metrics and the alarms it needs
 * (aws-cdk `aws-lambda/lib/function-base.ts`: resources offer their own
 * metrics). Monitoring walks the construct tree and asks every {@link Alarmed}
 * construct for its alarms, so nobody keeps a second list of functions,
 * queues or rules to alarm on, and a new one cannot be forgotten.
 */
import type { IConstruct } from 'constructs';
import type { EnvironmentConfig } from '../../config/environments';

/** A CloudWatch metric as alarms and dashboards name it. */
export interface Metric {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
  readonly statistic: 'Sum' | 'Maximum' | 'SampleCount';
}

/** One threshold alarm on one metric, as a resource declares it (the synth tests read these too). */
export interface AlarmSpec extends Metric {
  /** Construct id of the alarm (its name is the environment prefix and this). */
  readonly id: string;
  readonly description: string;
  readonly statistic: 'Sum' | 'Maximum';
  readonly threshold: number;
  /**
   * Consecutive 5-minute periods that must breach. @default 1
   * More for a condition that is normal in a burst and a problem only when it lasts.
   */
  readonly periods?: number;
}

/** One query of a metric-math alarm: a metric, or an expression over the others. */
export interface MetricQuery {
  readonly id: string;
  readonly returnData: boolean;
  readonly expression?: string;
  readonly label?: string;
  readonly metric?: { namespace: string; metricName: string; dimensions: Record<string, string>; stat: string; period: number };
}

/** An alarm over metric math. */
export interface MathAlarmSpec {
  readonly id: string;
  readonly description: string;
  readonly metricQuery: readonly MetricQuery[];
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
}

/** Where a resource puts its alarms: the monitoring stack, which names them and routes them to its topic. */
export interface AlarmSink {
  /** The environment, for thresholds. */
  readonly config: EnvironmentConfig;
  /** Adds a threshold alarm on one metric. */
  alarm(spec: AlarmSpec): void;
  /** Adds an alarm over metric math. */
  mathAlarm(spec: MathAlarmSpec): void;
}

/** A construct that knows how it fails and says so with alarms. */
export interface Alarmed extends IConstruct {
  /** Adds the resource's alarms to `sink`. */
  addAlarms(sink: AlarmSink): void;
}

/** Whether a construct of the tree offers alarms. */
function isAlarmed(construct: IConstruct): construct is Alarmed {
  return typeof (construct as Partial<Alarmed>).addAlarms === 'function';
}

/** Every {@link Alarmed} construct under `scopes`, in construct-tree order. */
export function alarmedConstructs(scopes: readonly IConstruct[]): Alarmed[] {
  return scopes.flatMap((scope) => scope.node.findAll().filter(isAlarmed));
}
