/**
 * The KMS calls a service makes with the caller's permissions when the
 * resource it reads or writes is encrypted with a customer-managed key
 * (tables and their streams, secrets, queues), with `kms:ViaService` set as
 * AWS sets it. Each service adds them to the requests of its own calls.
 */
import type { IamGate, IamRequest, Principal } from './iam';

/** The KMS requests `service` makes on `keyArn` for a read (`Decrypt`) or a write (and `Encrypt`, `GenerateDataKey`). */
export function viaService(principal: Principal, keyArn: string, service: string, region: string, account: string, write: boolean): IamRequest[] {
  const context = { 'kms:ViaService': `${service}.${region}.amazonaws.com`, 'kms:CallerAccount': account };
  const actions = write ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
  return actions.map((action) => ({ principal, action, resource: keyArn, context }));
}

/** Authorizes every request in order; the first denial throws. A service constructed without a gate (a test, the bench) refuses. */
export async function authorizeAll(gate: IamGate | undefined, requests: readonly IamRequest[]): Promise<void> {
  if (!gate) throw new Error('this service was constructed without an IAM gate: it cannot authorize calls');
  for (const request of requests) await gate.authorize(request);
}
