/**
 * The commands, each declared once in a module of its own. Adding a command is
 * one module and one line here: validation, the workflow's routing and
 * conditional writes, the workflow role's DynamoDB actions, the stream filter,
 * the projection's statuses and the published schemas follow from this list.
 */
import { command as cancelOrder } from './cancel-order';
import type { CommandDefinition } from './command-definition';
import { command as createOrder } from './create-order';

/** Every command, in the order refusal messages list them. */
export const COMMANDS = [createOrder, cancelOrder] as const;

/** A supported command's name. */
export type CommandName = (typeof COMMANDS)[number]['name'];

/** The supported commands' names. */
export const SUPPORTED_COMMANDS: readonly CommandName[] = COMMANDS.map((command) => command.name);

/** The command a name asks for, if it is supported. */
export function commandNamed(name: string): (typeof COMMANDS)[number] | undefined {
  return COMMANDS.find((command) => command.name === name);
}

/** Whether an order of `status` counts in the read model's totals; throws for a status no command leaves. */
export function statusCounts(status: string): boolean {
  const command = COMMANDS.find((candidate) => candidate.leaves.status === status);
  if (!command) throw new Error(`no command leaves an order ${JSON.stringify(status)}; known: ${COMMANDS.map((c) => c.leaves.status).join(', ')}`);
  return command.leaves.counts;
}

/** Whether a status is one a command leaves. */
export function isKnownStatus(status: string): boolean {
  return COMMANDS.some((command) => command.leaves.status === status);
}

/** The stream record kinds the projection reads: one per kind of write the commands make. */
export function streamEventNames(commands: readonly CommandDefinition[] = COMMANDS): ('INSERT' | 'MODIFY')[] {
  return [...new Set(commands.map((command) => command.leaves.streamEvent))];
}

/** The DynamoDB operations the commands' writes use (`PutItem`, `UpdateItem`), each once. */
export function commandWriteOperations(commands: readonly CommandDefinition[] = COMMANDS): ('PutItem' | 'UpdateItem')[] {
  return [...new Set(commands.map((command) => (command.write.kind === 'put' ? 'PutItem' : 'UpdateItem')))];
}

/** The DynamoDB actions the workflow needs on the orders table: each command's write, and the read-back. */
export function ordersTableActions(commands: readonly CommandDefinition[] = COMMANDS): string[] {
  return [...commandWriteOperations(commands), 'GetItem'].map((operation) => `dynamodb:${operation}`);
}
