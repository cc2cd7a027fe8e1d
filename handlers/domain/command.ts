/**
 * Command validation for the workflow: a `createOrder` command becomes either
 * the orders-table item to write with the responses to publish, or the
 * refusal to publish. Bad input is an answer, never an error.
 */
import { OrderConflictError, RefusalError, type RefusalBody } from './errors';
import { orderFromCommand, orderToItem, type CommandEnvelope, type OrderItem } from './order';

/** Detail of an `orderCommandResponse` event. */
interface CommandResponseDetail {
  readonly orderid: string | null;
  readonly commandStatus: 'orderCreated' | 'orderRejected';
  readonly commandMessageId: string | null;
  readonly error?: RefusalBody;
}

/** What command validation hands to the workflow. */
export type CommandValidation =
  | {
      readonly valid: true;
      readonly orderId: string;
      readonly contentHash: string;
      /** The orders-table item, in DynamoDB AttributeValue form. */
      readonly item: OrderItem;
      /** The responses the workflow publishes after the conditional write. */
      readonly responses: {
        readonly created: CommandResponseDetail;
        readonly conflict: CommandResponseDetail;
      };
    }
  | {
      readonly valid: false;
      readonly response: CommandResponseDetail;
    };

/** Validates a command: the item and responses, or the refusal. */
export function validateCommand(envelope: CommandEnvelope): CommandValidation {
  const commandMessageId = typeof envelope.id === 'string' ? envelope.id : null;
  try {
    const order = orderFromCommand(envelope);
    return {
      valid: true,
      orderId: order.orderId,
      contentHash: order.contentHash,
      item: orderToItem(order),
      responses: {
        created: { orderid: order.orderId, commandStatus: 'orderCreated', commandMessageId },
        conflict: { orderid: order.orderId, commandStatus: 'orderRejected', commandMessageId, error: new OrderConflictError(order.orderId).toBody() },
      },
    };
  } catch (error) {
    if (!(error instanceof RefusalError)) throw error;
    const detail = envelope.detail as Record<string, unknown> | undefined;
    const orderId = typeof detail === 'object' && detail !== null ? detail.orderId : undefined;
    return {
      valid: false,
      response: {
        // Echo the id only while it is short enough to keep the response small.
        orderid: typeof orderId === 'string' && orderId.length <= 256 ? orderId : null,
        commandStatus: 'orderRejected',
        commandMessageId,
        error: error.toBody(),
      },
    };
  }
}
