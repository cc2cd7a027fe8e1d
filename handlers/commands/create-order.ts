import { ORDERS_TABLE_KEY } from '../../config/contract';
import { OrderChangedError, OrderConflictError, UnknownOrderError } from '../domain/errors';
import { FieldSchema, Limits } from '../domain/limits';
import { INITIAL_STATE, orderFromCommand, orderToItem } from '../domain/order';
import { defineCommand } from './command-definition';

/**
 * `createOrder`: the order is written once (`attribute_not_exists`). When it
 * already exists, the same content is an exact re-delivery (answered
 * `orderCreated` again, nothing written, a cancelled order stays cancelled),
 * different content an `OrderConflict`.
 */
export const command = defineCommand({
  name: 'createOrder',
  summary: 'creates an order with its lines; written once',
  acceptedStatus: 'orderCreated',
  leaves: { status: INITIAL_STATE.status, counts: true, streamEvent: 'INSERT' },
  detailSchema: {
    required: ['orderId', 'items'],
    properties: {
      items: {
        type: 'array',
        minItems: 1,
        maxItems: Limits.maxItems,
        items: { type: 'object', required: ['itemid', 'quantity'], properties: { itemid: FieldSchema.itemId, quantity: FieldSchema.quantity } },
      },
    },
  },
  parse: (envelope) => {
    const order = orderFromCommand(envelope);
    return { orderId: order.orderId, values: orderToItem(order), compare: { contentHash: order.contentHash } };
  },
  write: { kind: 'put', condition: 'attribute_not_exists(#key)', names: { '#key': ORDERS_TABLE_KEY } },
  whenConditionFails: {
    read: ['contentHash'],
    rules: [{ when: [{ attribute: 'contentHash', equalsCommand: 'contentHash' }], answer: 'accepted' }],
    otherwise: 'conflict',
  },
  refusal: (answer, orderId) =>
    answer === 'conflict' ? new OrderConflictError(orderId) : answer === 'notFound' ? new UnknownOrderError(orderId) : new OrderChangedError(orderId),
});
