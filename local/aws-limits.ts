/**
 * The AWS limits the local runtime enforces, in one table: each row is the
 * service, the API and parameter, the value, the error AWS answers (code, HTTP
 * status, message shape) and the AWS documentation that gives the number. The
 * services enforce their rows through the checks below, so a request AWS would
 * refuse is refused here too, with the error an AWS SDK names as AWS does; no
 * number of this table is restated anywhere else.
 *
 * Sizes are bytes of UTF-8, as AWS counts them. Lengths are UTF-16 code units,
 * as a JavaScript string (and the Java `String` of AWS's request validation)
 * counts them.
 */
import { AwsError } from './errors';

/** The error AWS answers when a request passes a limit. */
interface LimitError {
  /** AWS's error code: the `name` an AWS SDK gives the error. */
  readonly code: string;
  readonly status: number;
  /**
   * SQS speaks AWS JSON 1.0 in query-compatible mode: its errors also carry
   * `x-amzn-query-error: <code>;Sender`, which the SDKs read first.
   */
  readonly queryCompatible?: true;
}

interface Row {
  readonly service: string;
  /** The API operations (or the service behaviour) the limit applies to. */
  readonly operations: readonly string[];
  readonly parameter: string;
  /** AWS documentation that gives the number (and, where AWS documents it, the error). */
  readonly documentation: readonly string[];
}

/** At most {@link max} bytes of UTF-8. */
export interface ByteLimit extends Row {
  readonly kind: 'bytes';
  readonly max: number;
  readonly error: LimitError;
  readonly message: (bytes: number, limit: ByteLimit) => string;
}

/** A number from {@link min} to {@link max}. */
export interface RangeLimit extends Row {
  readonly kind: 'range';
  readonly min: number;
  readonly max: number;
  readonly error: LimitError;
  readonly message: (value: number, limit: RangeLimit) => string;
}

/** A string of {@link min} to {@link max} UTF-16 code units. */
export interface LengthLimit extends Row {
  readonly kind: 'length';
  readonly min: number;
  readonly max: number;
  readonly error: LimitError;
  readonly message: (value: string, limit: LengthLimit) => string;
}

/** Only the code points {@link allowed} accepts. */
export interface CharacterLimit extends Row {
  readonly kind: 'characters';
  readonly allowed: (codePoint: number) => boolean;
  readonly error: LimitError;
  /** `index`: the offending code point's position, in UTF-16 code units. */
  readonly message: (value: string, codePoint: number, index: number) => string;
}

/** A size at which the service splits its work instead of refusing it (no error). */
export interface SplitLimit extends Row {
  readonly kind: 'split';
  readonly max: number;
}

type AwsLimit = ByteLimit | RangeLimit | LengthLimit | CharacterLimit | SplitLimit;

const MIB = 1024 * 1024;

/** Lambda's payload limit for a synchronous invocation, which a stream mapping's batches also keep under. */
const LAMBDA_SYNC_PAYLOAD_BYTES = 6 * MIB;

const STEP_FUNCTIONS_QUOTAS = 'https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html';
const START_EXECUTION = 'https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html';
const SQS_SEND_MESSAGE = 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html';
const LAMBDA_INVOKE = 'https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html';
const SNS_PUBLISH = 'https://docs.aws.amazon.com/sns/latest/api/API_Publish.html';
const SNS_CREATE_TOPIC = 'https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html';

/** A value quoted in a message: at most 64 code units, as every refusal of the project quotes. */
function quoted(value: string): string {
  return value.length <= 64 ? value : `${value.slice(0, 64)}…`;
}

/** A code point as AWS writes it in SQS messages: `#x7`, `#xFFFF`. */
const xmlHex = (codePoint: number) => `#x${codePoint.toString(16).toUpperCase()}`;

/**
 * What a Step Functions name must not contain: white space, brackets, wildcard
 * and special characters, control characters (U+0000–001F, U+007F–009F,
 * U+FFFE–FFFF), surrogates (U+D800–DFFF) and U+10FFFF.
 */
function forbiddenInName(codePoint: number): boolean {
  const char = String.fromCodePoint(codePoint);
  return (
    /\s/u.test(char) ||
    '<>{}[]?*"#%\\^|~`$&,;:/'.includes(char) ||
    codePoint <= 0x1f ||
    (codePoint >= 0x7f && codePoint <= 0x9f) ||
    codePoint === 0xfffe ||
    codePoint === 0xffff ||
    (codePoint >= 0xd800 && codePoint <= 0xdfff) ||
    codePoint === 0x10ffff
  );
}

/** What an SQS message may hold: `#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF` (XML 1.0 characters). */
function allowedInMessage(codePoint: number): boolean {
  return (
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff)
  );
}

/** The limits, by the name the services enforce them with. */
export const AWS_LIMITS = {
  /**
   * Step Functions quotas (task executions): the maximum input or output size of
   * a task, state or execution is 256 KiB of data as a UTF-8 encoded string; the
   * API reference's `input`: "Length constraints apply to the payload size, and
   * are expressed as bytes in UTF-8 encoding", maximum length 262144. AWS's
   * request validation refuses a length constraint of the API model with
   * `ValidationException` and its "1 validation error detected" message (on
   * record for a name over 80 characters); the same refusal for `input` is
   * inferred from the model, AWS documents no error for it. AWS omits the value
   * of a sensitive member such as `input`.
   */
  stepFunctionsExecutionInput: {
    kind: 'bytes',
    service: 'Step Functions',
    operations: ['StartExecution', 'StartSyncExecution'],
    parameter: 'input',
    max: 256 * 1024,
    error: { code: 'ValidationException', status: 400 },
    message: (bytes, { max }) =>
      `1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${max} (the input is ${bytes} bytes of UTF-8)`,
    documentation: [`${STEP_FUNCTIONS_QUOTAS}#service-limits-task-executions`, START_EXECUTION],
  },
  /**
   * The API reference's `name`: length 1 to 80 (the model's `Name` shape); the
   * quotas page: names of state machines, executions and activity tasks have at
   * most 80 characters. The live service answers a longer one with
   * `ValidationException`: "1 validation error detected: Value '…' at 'name'
   * failed to satisfy constraint: Member must have length less than or equal to 80".
   */
  stepFunctionsExecutionNameLength: {
    kind: 'length',
    service: 'Step Functions',
    operations: ['StartExecution', 'StartSyncExecution'],
    parameter: 'name',
    min: 1,
    max: 80,
    error: { code: 'ValidationException', status: 400 },
    message: (name, { min, max }) =>
      `1 validation error detected: Value '${quoted(name)}' at 'name' failed to satisfy constraint: Member must have length ${name.length < min ? `greater than or equal to ${min}` : `less than or equal to ${max}`} (the name is ${name.length} characters)`,
    documentation: [START_EXECUTION, `${STEP_FUNCTIONS_QUOTAS}#service-limits-general`],
  },
  /**
   * The API reference's `name`: "A name must not contain: white space, brackets
   * `< > { } [ ]`, wildcard characters `? *`, special characters
   * `" # % \ ^ | ~ \` $ & , ; : /`, control characters (U+0000-001F, U+007F-009F,
   * U+FFFE-FFFF), surrogates (U+D800-DFFF), invalid characters (U+10FFFF)" (the
   * API model of SDK 3.1164; older pages list the first two control ranges only);
   * StartExecution's errors: `InvalidName`, HTTP 400. AWS does not define "white
   * space": JavaScript's `\s` (Unicode White_Space and U+FEFF) is taken.
   */
  stepFunctionsExecutionNameCharacters: {
    kind: 'characters',
    service: 'Step Functions',
    operations: ['StartExecution', 'StartSyncExecution'],
    parameter: 'name',
    allowed: (codePoint) => !forbiddenInName(codePoint),
    error: { code: 'InvalidName', status: 400 },
    message: (name, codePoint, index) =>
      `Invalid Name: '${quoted(name)}': U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at position ${index} is not allowed (a name has no white space, brackets < > { } [ ], wildcards ? *, special characters " # % \\ ^ | ~ \` $ & , ; : /, control characters, surrogates or U+10FFFF)`,
    documentation: [START_EXECUTION, `${STEP_FUNCTIONS_QUOTAS}#service-limits-general`],
  },
  /**
   * SendMessage's `MessageBody`: "The minimum size is one character. The maximum
   * size is 1 MiB or 1,048,576 bytes". SQS answers `InvalidParameterValue`,
   * "One or more parameters are invalid. Reason: Message must be shorter than
   * 1048576 bytes." (the live service's message; SendMessage documents no code for it).
   */
  sqsMessageBodySize: {
    kind: 'bytes',
    service: 'SQS',
    operations: ['SendMessage'],
    parameter: 'MessageBody',
    max: MIB,
    error: { code: 'InvalidParameterValue', status: 400, queryCompatible: true },
    message: (bytes, { max }) => `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes. (The message body is ${bytes} bytes.)`,
    documentation: [SQS_SEND_MESSAGE, 'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html'],
  },
  /** SendMessage's `DelaySeconds`: "Valid values: 0 to 900. Maximum: 15 minutes"; the live service's refusal is `InvalidParameterValue`. */
  sqsDelaySeconds: {
    kind: 'range',
    service: 'SQS',
    operations: ['SendMessage'],
    parameter: 'DelaySeconds',
    min: 0,
    max: 900,
    error: { code: 'InvalidParameterValue', status: 400, queryCompatible: true },
    message: (value, { min, max }) => `Value ${value} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= ${min} and <= ${max}.`,
    documentation: [SQS_SEND_MESSAGE],
  },
  /**
   * SendMessage's `MessageBody`: only "#x9 | #xA | #xD | #x20 to #xD7FF | #xE000
   * to #xFFFD | #x10000 to #x10FFFF"; "If a message contains characters outside
   * the allowed set, Amazon SQS rejects the message and returns an
   * InvalidMessageContents error."
   */
  sqsMessageBodyCharacters: {
    kind: 'characters',
    service: 'SQS',
    operations: ['SendMessage'],
    parameter: 'MessageBody',
    allowed: allowedInMessage,
    error: { code: 'InvalidMessageContents', status: 400, queryCompatible: true },
    message: (_body, codePoint) =>
      `Invalid binary character '${xmlHex(codePoint)}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].`,
    documentation: [SQS_SEND_MESSAGE],
  },
  /**
   * Invoke: "For synchronous invocations, the maximum payload size is 6 MB";
   * its errors: `RequestTooLargeException`, "The request payload exceeded the
   * Invoke request body JSON input quota", HTTP 413. 6 MB is 6,291,456 bytes, the
   * figure the live service's message gives. Reports from users (2017 to 2024)
   * show the live service sending these messages under the code
   * `RequestEntityTooLargeException`, which no SDK models; the table follows the
   * API reference, whose code the SDKs model and name.
   */
  lambdaSyncPayload: {
    kind: 'bytes',
    service: 'Lambda',
    operations: ['Invoke (RequestResponse)'],
    parameter: 'Payload',
    max: LAMBDA_SYNC_PAYLOAD_BYTES,
    error: { code: 'RequestTooLargeException', status: 413 },
    message: (bytes, { max }) => `Request must be smaller than ${max} bytes for the InvokeFunction operation (the payload is ${bytes} bytes)`,
    documentation: [LAMBDA_INVOKE, 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html'],
  },
  /** Invoke: "For asynchronous invocations, the maximum payload size is 1 MB"; the same error as {@link lambdaSyncPayload}. */
  lambdaAsyncPayload: {
    kind: 'bytes',
    service: 'Lambda',
    operations: ['Invoke (Event)'],
    parameter: 'Payload',
    max: MIB,
    error: { code: 'RequestTooLargeException', status: 413 },
    message: (bytes, { max }) => `${bytes} byte payload is too large for the Event invocation type (limit ${max} bytes)`,
    documentation: [LAMBDA_INVOKE, 'https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html'],
  },
  /**
   * Event source mappings, batching behavior: Lambda invokes the function when
   * the batch size is met, the batching window ends, or the batch's payload
   * reaches 6 MB; BatchSize: "Lambda passes all of the records in the batch to
   * the function in a single call, up to the payload limit for synchronous
   * invocation (6 MB)". A stream record is at most an item (400 KB) and its
   * keys, so one always fits.
   */
  streamBatchPayload: {
    kind: 'split',
    service: 'Lambda',
    operations: ['event source mapping (DynamoDB Streams)'],
    parameter: 'the event of one invocation ({"Records": [...]})',
    max: LAMBDA_SYNC_PAYLOAD_BYTES,
    documentation: [
      'https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html',
      'https://docs.aws.amazon.com/lambda/latest/dg/API_EventSourceMappingConfiguration.html',
    ],
  },
  /**
   * PutEvents: "The total entry size must be less than 256KB", each entry
   * counted as the EventBridge user guide's "Calculating PutEvents event entry
   * size" does; the live service answers `ValidationException`, "Total size of
   * the entries in the request is over the limit."
   */
  putEventsEntries: {
    kind: 'bytes',
    service: 'EventBridge',
    operations: ['PutEvents'],
    parameter: 'Entries',
    max: 256 * 1024,
    error: { code: 'ValidationException', status: 400 },
    message: (bytes, { max }) => `Total size of the entries in the request is over the limit. (The entries are ${bytes} bytes; the limit is ${max}.)`,
    documentation: [
      'https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html',
      'https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html',
    ],
  },
  /**
   * Publish's `Message`: "With the exception of SMS, messages must be UTF-8
   * encoded strings and at most 256 KB in size (262,144 bytes, not 262,144
   * characters)"; the message attributes count toward it too (name, data type
   * and value: the SNS developer guide's message attributes page). SNS answers
   * `InvalidParameter` ("Invalid parameter: Message too long"), HTTP 400.
   */
  snsMessageSize: {
    kind: 'bytes',
    service: 'SNS',
    operations: ['Publish'],
    parameter: 'Message, with its MessageAttributes',
    max: 256 * 1024,
    error: { code: 'InvalidParameter', status: 400 },
    message: (bytes, { max }) => `Invalid parameter: Message too long (the message and its attributes are ${bytes} bytes; the limit is ${max})`,
    documentation: [SNS_PUBLISH, 'https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html'],
  },
  /**
   * CreateTopic's `Name`: "Topic names must be made up of only uppercase and
   * lowercase ASCII letters, numbers, underscores, and hyphens, and must be
   * between 1 and 256 characters long" (a FIFO topic's `.fifo` suffix aside:
   * the local SNS serves standard topics only). SNS answers
   * `InvalidParameter`, "Invalid parameter: Topic Name", HTTP 400.
   */
  snsTopicNameLength: {
    kind: 'length',
    service: 'SNS',
    operations: ['CreateTopic'],
    parameter: 'Name',
    min: 1,
    max: 256,
    error: { code: 'InvalidParameter', status: 400 },
    message: (name, { min, max }) => `Invalid parameter: Topic Name (${name.length} characters; a name has ${min} to ${max})`,
    documentation: [SNS_CREATE_TOPIC],
  },
  /** CreateTopic's `Name`: ASCII letters, digits, `_` and `-` only (see {@link snsTopicNameLength}). */
  snsTopicNameCharacters: {
    kind: 'characters',
    service: 'SNS',
    operations: ['CreateTopic'],
    parameter: 'Name',
    allowed: (codePoint) => /^[A-Za-z0-9_-]$/.test(String.fromCodePoint(codePoint)),
    error: { code: 'InvalidParameter', status: 400 },
    message: (name, codePoint, index) =>
      `Invalid parameter: Topic Name ('${quoted(name)}': U+${codePoint.toString(16).toUpperCase().padStart(4, '0')} at position ${index} is not an ASCII letter, digit, _ or -)`,
    documentation: [SNS_CREATE_TOPIC],
  },
} as const satisfies Record<string, AwsLimit>;

/** AWS's error for a limit. */
function refusal(error: LimitError, message: string): AwsError {
  return new AwsError(error.code, message, error.status, error.queryCompatible ? { queryError: `${error.code};Sender` } : {});
}

/** AWS's error when `bytes` passes the limit, or undefined. */
export function exceeded(limit: ByteLimit, bytes: number): AwsError | undefined {
  return bytes > limit.max ? refusal(limit.error, limit.message(bytes, limit)) : undefined;
}

/** Throws AWS's error when `bytes` passes the limit. */
export function enforceBytes(limit: ByteLimit, bytes: number): void {
  const error = exceeded(limit, bytes);
  if (error) throw error;
}

/** Throws AWS's error when `value` is outside the range. */
export function enforceRange(limit: RangeLimit, value: number): void {
  if (value < limit.min || value > limit.max) throw refusal(limit.error, limit.message(value, limit));
}

/** Throws AWS's error when `value` is too short or too long. */
export function enforceLength(limit: LengthLimit, value: string): void {
  if (value.length < limit.min || value.length > limit.max) throw refusal(limit.error, limit.message(value, limit));
}

/** Throws AWS's error at the first code point the limit does not allow (a lone surrogate is one code point). */
export function enforceCharacters(limit: CharacterLimit, value: string): void {
  let index = 0;
  for (const char of value) {
    const codePoint = char.codePointAt(0) as number;
    if (!limit.allowed(codePoint)) throw refusal(limit.error, limit.message(value, codePoint, index));
    index += char.length;
  }
}
