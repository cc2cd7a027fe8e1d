/**
 * AWS SDK client options for the local runtime's endpoint. The runtime
 * answers in one region and accepts any access key that is not one of its
 * roles' session keys, so a laptop without AWS configuration needs neither:
 * the region defaults as the runtime's does, and placeholder keys are used
 * when none are configured (real keys are never needed, nor sent anywhere else).
 */
import { localRegion } from '../config/local-endpoint';

/** Options for an SDK client of the local runtime at `endpoint`. */
export function localClientOptions(endpoint: string): { endpoint: string; region: string; credentials?: { accessKeyId: string; secretAccessKey: string } } {
  const configured = process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined;
  return { endpoint, region: localRegion(), ...(configured ? {} : { credentials: { accessKeyId: 'local-developer', secretAccessKey: 'local-developer' } }) };
}
