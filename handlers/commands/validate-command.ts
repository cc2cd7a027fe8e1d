/**
 * Command validation for the workflow: a command becomes its conditional
 * write's values with every answer the workflow may publish after it, or the
 * refusal to publish. Bad input is an answer, never an error.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { RefusalError, UnsupportedCommandError, ValidationError } from '../domain/errors';
import { describeType } from '../domain/limits';
import type { CommandEnvelope } from '../domain/order';
import { answersOf, type CommandAnswer, type CommandResponseDetail } from './command-definition';
import { SUPPORTED_COMMANDS, commandNamed, type CommandName } from './registry';

/** What command validation hands to the workflow. */
export type CommandValidation =
  | {
      readonly valid: true;
      /** Routes the workflow to the command's write. */
      readonly command: CommandName;
      readonly orderId: string;
      /** The item (`put`) or the update's `ExpressionAttributeValues`, in DynamoDB AttributeValue form. */
      readonly values: Record<string, AttributeValue>;
      /** What a read-back after a failed condition compares with. */
      readonly compare: Readonly<Record<string, string>>;
      /** Every answer the workflow may publish, by how the command ended. */
      readonly responses: Partial<Record<CommandAnswer, CommandResponseDetail>>;
    }
  | {
      readonly valid: false;
      readonly response: CommandResponseDetail;
    };

/** Validates a command: its write and answers, or the refusal. */
export function validateCommand(envelope: CommandEnvelope): CommandValidation {
  const commandMessageId = typeof envelope.id === 'string' ? envelope.id : null;
  try {
    const definition = commandNamed(commandName(envelope.detail));
    if (!definition) throw new Error('unreachable: commandName checks support');
    const parsed = definition.parse(envelope);
    const responses: Partial<Record<CommandAnswer, CommandResponseDetail>> = {};
    for (const answer of answersOf(definition)) {
      responses[answer] =
        answer === 'accepted'
          ? { orderid: parsed.orderId, commandStatus: definition.acceptedStatus, commandMessageId }
          : { orderid: parsed.orderId, commandStatus: 'orderRejected', commandMessageId, error: definition.refusal(answer, parsed.orderId).toBody() };
    }
    return { valid: true, command: definition.name, orderId: parsed.orderId, values: parsed.values, compare: parsed.compare, responses };
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

/** The detail's `command`, checked: an object's string naming a supported command. */
function commandName(detail: unknown): CommandName {
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail))
    throw new ValidationError([`detail must be an object, got ${describeType(detail)}`]);
  const { command } = detail as Record<string, unknown>;
  if (command === undefined || command === null) throw new ValidationError(['detail.command is required']);
  if (typeof command !== 'string') throw new ValidationError([`detail.command must be a string, got ${describeType(command)}`]);
  if (!commandNamed(command)) throw new UnsupportedCommandError(command, SUPPORTED_COMMANDS);
  return command as CommandName;
}
