import { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../../config/contract';

/**
 * The one Powertools logger of a function: JSON lines, service name from the
 * shared config, level from `POWERTOOLS_LOG_LEVEL` (default INFO).
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
