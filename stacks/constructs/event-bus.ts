import { CloudwatchEventBus } from '@cdktf/provider-aws/lib/cloudwatch-event-bus';
import { EVENT_SOURCE } from '../../config/contract';
import type { PolicyStatement } from './iam';
import type { Grantee } from './role';

/**
 * The pipeline's custom bus, which grants putting on itself only entries of
 * the pipeline's source and the given detail types (a role through
 * {@link grantPut}, a client policy through {@link putStatement}).
 */
export class EventBus extends CloudwatchEventBus {
  /** The statement that lets `PutEvents` of `detailTypes` only through. */
  putStatement(sid: string, detailTypes: readonly string[]): PolicyStatement {
    return { Sid: sid, Action: ['events:PutEvents'], Resource: [this.arn], Condition: onlyEntries(detailTypes) };
  }

  /** Lets a role put entries of `detailTypes` (and nothing else) on the bus. */
  grantPut(grantee: Grantee, sid: string, detailTypes: readonly string[]): void {
    grantee.grant(this.putStatement(sid, detailTypes));
  }
}

/**
 * The condition that lets a `PutEvents` call through only when **every**
 * entry has source `orderPipeline` and one of `detailTypes`.
 *
 * `events:source` and `events:detail-type` are multivalued (`ArrayOfString` in
 * the Service Authorization Reference for EventBridge): one `PutEvents` call
 * is authorized once, with the values of all its entries. `ForAnyValue` would
 * let a command through with a forged response beside it; `ForAllValues`
 * requires every value to match, and the `Null` guard refuses a request
 * without the keys (which `ForAllValues` alone would allow).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
function onlyEntries(detailTypes: readonly string[]): Record<string, Record<string, string | string[]>> {
  return {
    'ForAllValues:StringEquals': { 'events:source': [EVENT_SOURCE], 'events:detail-type': [...detailTypes] },
    Null: { 'events:source': 'false', 'events:detail-type': 'false' },
  };
}
