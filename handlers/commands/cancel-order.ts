import { ORDERS_TABLE_KEY } from '../../config/contract';
import { OrderChangedError, OrderConflictError, UnknownOrderError, ValidationError } from '../domain/errors';
import { Limits, orderIdProblem, textProblem } from '../domain/limits';
import { INITIAL_STATE, commandTime } from '../domain/order';
import { defineCommand } from './command-definition';

const CANCELLED = 'cancelled';

/**
 * `cancelOrder`: one conditional update of the stored order, allowed only
 * while it is created, writing revision 2 and the status `cancelled`. When
 * the condition fails, the stored order says why: none (`OrderNotFound`),
 * already cancelled (`orderCancelled` again: a re-delivery or a concurrent
 * cancel, nothing written), or created after all (it appeared between the
 * write and the read: `ServiceUnavailable`, sending again cancels it).
 * Concurrent cancels make one write: the one whose condition held.
 */
export const command = defineCommand({
  name: 'cancelOrder',
  summary: 'cancels a created order; its lines stop counting in the reports',
  acceptedStatus: 'orderCancelled',
  leaves: { status: CANCELLED, counts: false, streamEvent: 'MODIFY' },
  detailSchema: {
    required: ['orderId'],
    properties: { reason: { type: 'string', minLength: 1, maxLength: Limits.reasonMaxLength } },
  },
  parse: (envelope) => {
    const fields = envelope.detail as Record<string, unknown>;
    const problems: string[] = [];
    const orderIdIssue = orderIdProblem(fields.orderId);
    if (orderIdIssue) problems.push(`detail.orderId ${orderIdIssue}`);
    const reason = fields.reason;
    if (reason !== undefined) {
      const issue = textProblem(reason, Limits.reasonMaxLength);
      if (issue) problems.push(`detail.reason ${issue}`);
    }
    const cancelledAt = commandTime(envelope, problems);
    if (problems.length > 0) throw new ValidationError(problems);
    return {
      orderId: fields.orderId as string,
      values: {
        ':created': { S: INITIAL_STATE.status },
        ':cancelled': { S: CANCELLED },
        ':revision': { N: String(INITIAL_STATE.revision + 1) },
        ':cancelledAt': { S: cancelledAt as string },
        ':cancelMessageId': { S: envelope.id as string },
        ':reason': typeof reason === 'string' ? { S: reason } : { NULL: true },
      },
      compare: {},
    };
  },
  write: {
    kind: 'update',
    update: 'SET #status = :cancelled, #revision = :revision, cancelledAt = :cancelledAt, cancelMessageId = :cancelMessageId, cancelReason = :reason',
    // Orders written before statuses existed have none: they are created orders.
    condition: 'attribute_exists(#key) AND (attribute_not_exists(#status) OR #status = :created)',
    names: { '#key': ORDERS_TABLE_KEY, '#status': 'status', '#revision': 'revision' },
  },
  whenConditionFails: {
    read: ['status'],
    rules: [
      { when: [{ absent: true }], answer: 'notFound' },
      { when: [{ attribute: 'status', equals: CANCELLED }], answer: 'accepted' },
    ],
    otherwise: 'changed',
  },
  refusal: (answer, orderId) =>
    answer === 'notFound' ? new UnknownOrderError(orderId) : answer === 'changed' ? new OrderChangedError(orderId) : new OrderConflictError(orderId),
});
