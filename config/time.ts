/**
 * Instants, decided in one place: which event times the bus accepts, and
 * which order dates the read model can hold. Dates never roll over: 2022-02-30
 * is refused, not read as 2 March.
 *
 * - The bus takes `Time` as EventBridge's API does: epoch seconds (what every
 *   SDK and the AWS CLI send), or a strict ISO 8601 / RFC 3339 date-time
 *   (`2022-10-13T19:00:00Z`, `…+02:00`, fractions allowed). Any other text
 *   (`Feb 30 2022`, `2022/02/30`, `2022-2-30`, `30 Feb 2022 10:00 GMT`) is
 *   refused per entry. Years run 0000 to 9999, the years an ISO 8601 event
 *   `time` can write, on the proleptic Gregorian calendar (0000-02-29 exists).
 * - An order's date must also fit the read model's DATETIME, 1000-01-01 to
 *   9999-12-31 (the range MySQL 8.0 and MariaDB both document), or the
 *   command is refused with `ValidationError` naming `time`.
 */

/** The earliest instant an event may carry: 0000-01-01T00:00:00Z. */
const MIN_EVENT_MILLIS = -62_167_219_200_000;
/** The latest: 9999-12-31T23:59:59.999Z. */
const MAX_EVENT_MILLIS = 253_402_300_799_999;
/** The earliest order date the read model holds: 1000-01-01T00:00:00Z. */
const MIN_ORDER_MILLIS = -30_610_224_000_000;

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Whether `year` is a leap year of the proleptic Gregorian calendar (year 0 is one). */
function isLeap(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysIn(year: number, month: number): number {
  return [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/** A strict ISO 8601 date-time as epoch milliseconds, or undefined: no rollover, no other format. */
export function parseIsoDateTime(text: string): number | undefined {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (match[9]) {
    const offsetHours = Number(match[10]);
    const offsetMins = Number(match[11]);
    if (offsetHours > 23 || offsetMins > 59) return undefined;
    offsetMinutes = (match[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const milliseconds = Math.floor(Number(`0.${match[7] ?? '0'}`) * 1000);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, milliseconds);
  return date.getTime() - offsetMinutes * 60_000;
}

/**
 * A `PutEvents` entry's `Time` as epoch milliseconds: absent means now;
 * epoch seconds as a number or a numeric string; or a strict ISO 8601
 * date-time. Undefined when it is none of these or outside years 0000-9999.
 */
export function eventTimeMillis(value: unknown, now: number = Date.now()): number | undefined {
  let millis: number | undefined;
  if (value === undefined || value === null) millis = now;
  else if (typeof value === 'number') millis = value * 1000;
  else if (typeof value === 'string' && /^-?\d{1,15}(\.\d+)?$/.test(value)) millis = Number(value) * 1000;
  else if (typeof value === 'string') millis = parseIsoDateTime(value);
  if (millis === undefined || !Number.isFinite(millis) || millis < MIN_EVENT_MILLIS || millis > MAX_EVENT_MILLIS) return undefined;
  return millis;
}

/** An instant in years 0000-9999 as ISO 8601 UTC (`toISOString` writes year 0 as `0000`, and years above 9999 otherwise). */
export function isoUtc(millis: number): string {
  return new Date(millis).toISOString();
}

/**
 * Normalises an event `time` (ISO 8601) to ISO 8601 UTC with milliseconds,
 * or undefined when it is not a strict ISO 8601 date-time in years 0000-9999.
 */
export function normaliseEventTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const millis = parseIsoDateTime(value);
  if (millis === undefined || millis < MIN_EVENT_MILLIS || millis > MAX_EVENT_MILLIS) return undefined;
  return isoUtc(millis);
}

/** Why an order's date cannot be stored, or undefined when it can. */
export function orderTimeProblem(orderedAt: string): string | undefined {
  const millis = Date.parse(orderedAt);
  return millis < MIN_ORDER_MILLIS ? `time must be from 1000-01-01 (the read model's dates) to 9999-12-31, got ${orderedAt.slice(0, 10)}` : undefined;
}
