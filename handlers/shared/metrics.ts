import { Metrics } from '@aws-lambda-powertools/metrics';
import { SERVICE_NAME } from '../../config/contract';

/**
 * The one Powertools metrics instance of a function: CloudWatch embedded
 * metric format, written to the function's log (no API call on the hot path).
 * The namespace, one per environment, comes from `POWERTOOLS_METRICS_NAMESPACE`,
 * which the function construct sets.
 */
export const metrics = new Metrics({ serviceName: SERVICE_NAME });
