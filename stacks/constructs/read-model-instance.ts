import { RdsClusterInstance, type RdsClusterInstanceConfig } from '@cdktf/provider-aws/lib/rds-cluster-instance';
import type { Construct } from 'constructs';
import type { AlarmSink, Alarmed } from './alarms';

/**
 * One Aurora Serverless v2 instance of the read model (its 1-based
 * `ordinal`), which alarms on its own capacity: at cluster level the capacity
 * metric averages the instances, so a writer at its maximum beside an idle
 * reader would never cross the threshold. `ACUUtilization` is an instance's
 * capacity as a percentage of the cluster's maximum.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.setting-capacity.html
 */
export class ReadModelInstance extends RdsClusterInstance implements Alarmed {
  readonly ordinal: number;

  constructor(scope: Construct, id: string, ordinal: number, config: RdsClusterInstanceConfig) {
    super(scope, id, config);
    this.ordinal = ordinal;
  }

  addAlarms(sink: AlarmSink): void {
    const { alarms, aurora } = sink.config;
    sink.alarm({
      id: `database-capacity-${this.ordinal}`,
      description: `read-model instance ${this.ordinal} runs above ${Math.round(alarms.capacityRatio * 100)}% of the maximum capacity (${aurora.maxCapacity} ACU): raise aurora.maxCapacity`,
      namespace: 'AWS/RDS',
      metricName: 'ACUUtilization',
      dimensions: { DBInstanceIdentifier: this.identifier },
      statistic: 'Maximum',
      threshold: alarms.capacityRatio * 100,
    });
  }
}
