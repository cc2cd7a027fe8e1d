/**
 * Input limits of the pipeline. Anything outside them is refused with a
 * `ValidationError` that names the offending field. The README's "Limits"
 * table is written from these values.
 */
export const Limits = {
  /** `orderId`: 1–64 characters from {@link ORDER_ID_ALPHABET}. */
  orderIdMaxLength: 64,
  /** `itemid`: 1–64 characters, printable, no leading or trailing space. */
  itemIdMaxLength: 64,
  /** Line items per order. */
  maxItems: 100,
  /** Largest `quantity` of one line. */
  maxQuantity: 1_000_000,
  /** `cancelOrder`'s optional `reason`: 1–256 characters, the item id's character rules. */
  reasonMaxLength: 256,
} as const;

/**
 * Characters allowed in an `orderId`: it becomes a DynamoDB key, a log field
 * and a MySQL key, so it is kept to an unambiguous ASCII set.
 */
const ORDER_ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** JSON Schemas of the fields, from the same limits (the published event schemas use them). */
export const FieldSchema = {
  orderId: { type: 'string', minLength: 1, maxLength: Limits.orderIdMaxLength, pattern: ORDER_ID_PATTERN.source },
  itemId: { type: 'string', minLength: 1, maxLength: Limits.itemIdMaxLength },
  quantity: { type: 'integer', minimum: 1, maximum: Limits.maxQuantity },
  date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
} as const;

/** Human-readable form of {@link ORDER_ID_PATTERN} for error messages. */
const ORDER_ID_ALPHABET = 'A-Z a-z 0-9 _ . : -';

// Control and format characters, unpaired surrogates, non-characters and
// default-ignorable code points (the invisible ones, such as the Hangul filler
// U+3164) are refused in item ids, and so is a combining mark with no base
// character before it; any other Unicode text, SQL metacharacters included, is
// stored and returned verbatim.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const LEADING_COMBINING_MARK = /^\p{M}/u;

/** Returns why `value` is not a valid item id, or `undefined` when it is. */
export function itemIdProblem(value: unknown): string | undefined {
  return textProblem(value, Limits.itemIdMaxLength);
}

/** Returns why `value` is not printable text of 1 to `maxLength` characters (code points), or `undefined` when it is. */
export function textProblem(value: unknown, maxLength: number): string | undefined {
  if (value === undefined || value === null) return 'is required';
  if (typeof value !== 'string') return `must be a string, got ${describeType(value)}`;
  if (value.length === 0) return 'must not be empty';
  if (!value.isWellFormed()) return 'must be well-formed Unicode text';
  // Characters are code points; only a string longer in UTF-16 units can exceed the limit.
  if (value.length > maxLength) {
    const length = [...value].length;
    if (length > maxLength) return `must be at most ${maxLength} characters, got ${length}`;
  }
  if (INVISIBLE.test(value)) return 'must not contain control or invisible characters';
  if (LEADING_COMBINING_MARK.test(value)) return 'must not start with a combining mark (it has no character to combine with)';
  if (value.trim() !== value) return 'must not start or end with white space';
  return undefined;
}

/** Returns why `value` is not a valid order id, or `undefined` when it is. */
export function orderIdProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return 'is required';
  if (typeof value !== 'string') return `must be a string, got ${describeType(value)}`;
  if (value.length === 0) return 'must not be empty';
  if (value.length > Limits.orderIdMaxLength) {
    return `must be at most ${Limits.orderIdMaxLength} characters, got ${value.length}`;
  }
  if (!ORDER_ID_PATTERN.test(value)) return `must use only the characters ${ORDER_ID_ALPHABET}`;
  return undefined;
}

/** Returns why `value` is not a valid quantity, or `undefined` when it is. */
export function quantityProblem(value: unknown): string | undefined {
  if (value === undefined || value === null) return 'is required';
  if (typeof value !== 'number') return `must be a number, got ${describeType(value)}`;
  if (!Number.isInteger(value) || value < 1 || value > Limits.maxQuantity) {
    return `must be an integer from 1 to ${Limits.maxQuantity}, got ${value}`;
  }
  return undefined;
}

/** A short name of a JSON value's type, for error messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
