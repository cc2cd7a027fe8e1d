/**
 * What a command is: one module per command declares everything about it with
 * {@link defineCommand}, and `registry.ts` lists the modules. Validation in
 * validate-request, the workflow's routing and conditional writes
 * (asl/render.ts), the workflow role's DynamoDB actions, the stream filter and
 * what the projection adds or takes away all follow from that list.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { RefusalBody, RefusalError } from '../domain/errors';
import type { CommandEnvelope } from '../domain/order';

/** Detail of an `orderCommandResponse` event. */
export interface CommandResponseDetail {
  readonly orderid: string | null;
  /** A command's success status (`orderCreated`, `orderCancelled`), or `orderRejected`. */
  readonly commandStatus: string;
  readonly commandMessageId: string | null;
  readonly error?: RefusalBody;
}

/** Attribute names an expression uses (`#status` → `status`). */
type ExpressionNames = Readonly<Record<`#${string}`, string>>;

/**
 * A command's conditional write of the orders table: a whole new item
 * (`PutItem`) or an update of the stored one (`UpdateItem`). The expressions
 * are fixed: rendered into the workflow, they show in a plan's diff; only the
 * values come from the command.
 */
export type CommandWrite =
  | { readonly kind: 'put'; readonly condition: string; readonly names: ExpressionNames }
  | { readonly kind: 'update'; readonly update: string; readonly condition: string; readonly names: ExpressionNames };

/** A test of the stored order, read back when the write's condition failed. */
export type StoredOrderTest =
  /** No order is stored under the id. */
  | { readonly absent: true }
  /** A string attribute equals a fixed value. */
  | { readonly attribute: string; readonly equals: string }
  /** A string attribute equals the command's own value of it (`compare`). */
  | { readonly attribute: string; readonly equalsCommand: string };

/**
 * How a command can end: `accepted` (its success status), or a refusal:
 * `conflict` (`OrderConflict`), `notFound` (`OrderNotFound`), `changed` (the
 * order changed under the command: `ServiceUnavailable`, safe to send again).
 */
export type CommandAnswer = 'accepted' | 'conflict' | 'notFound' | 'changed';

/** A validated command: the order it is about, its write's values, and what a read-back compares. */
export interface ParsedCommand {
  readonly orderId: string;
  /** The item (`put`) or the `ExpressionAttributeValues` (`update`). */
  readonly values: Record<string, AttributeValue>;
  /** Values the read-back's `equalsCommand` tests compare with. */
  readonly compare: Readonly<Record<string, string>>;
}

/** One command. */
export interface CommandDefinition<Name extends string = string> {
  /** The `detail.command` that asks for it. */
  readonly name: Name;
  /** One line for `npm run send` help and the schemas. */
  readonly summary: string;
  /** `commandStatus` of its success answer. */
  readonly acceptedStatus: string;
  /**
   * What the command leaves the order as: its status, whether an order of
   * that status counts in the read model's totals (the projection adds an
   * order's lines when it starts counting and takes them away when it stops),
   * and the stream record the write makes.
   */
  readonly leaves: { readonly status: string; readonly counts: boolean; readonly streamEvent: 'INSERT' | 'MODIFY' };
  /** Detail fields (beyond `command`), for the published schema: the JSON Schema of each. */
  readonly detailSchema: { readonly required: readonly string[]; readonly properties: Readonly<Record<string, unknown>> };
  /**
   * Validates the whole envelope (`detail.command` already checked); throws a
   * `ValidationError` naming every offending field.
   */
  parse(envelope: CommandEnvelope): ParsedCommand;
  readonly write: CommandWrite;
  /** What to read back when the write's condition failed, and which answer each stored state gets (first match). */
  readonly whenConditionFails: {
    /** Attributes to read (the key is always read). */
    readonly read: readonly string[];
    readonly rules: readonly { readonly when: readonly StoredOrderTest[]; readonly answer: CommandAnswer }[];
    readonly otherwise: CommandAnswer;
  };
  /** The refusal each non-`accepted` answer this command can give carries. */
  refusal(answer: Exclude<CommandAnswer, 'accepted'>, orderId: string): RefusalError;
}

/** Declares a command (a typed identity that keeps its name's literal type: the module is the declaration). */
export function defineCommand<const Name extends string>(definition: CommandDefinition<Name>): CommandDefinition<Name> {
  return definition;
}

/** Every answer a command can give: the rules' and the fallback's. */
export function answersOf(command: CommandDefinition): CommandAnswer[] {
  const answers = new Set<CommandAnswer>(['accepted', ...command.whenConditionFails.rules.map((rule) => rule.answer), command.whenConditionFails.otherwise]);
  return [...answers];
}
