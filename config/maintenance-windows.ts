/**
 * The Aurora cluster's preferred windows: the weekly maintenance window and
 * the daily backup window, checked as the RDS API documents them
 * (CreateDBCluster, `PreferredBackupWindow` and `PreferredMaintenanceWindow`,
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html):
 *
 * - maintenance: `ddd:hh24:mi-ddd:hh24:mi`, days `mon` to `sun`, in UTC, at least 30 minutes,
 *   not in conflict with the backup window;
 * - backup: `hh24:mi-hh24:mi`, in UTC, at least 30 minutes, not in conflict with the maintenance window.
 *
 * A window may run past midnight (`23:45-00:15`) or past Sunday (`sun:23:30-mon:00:30`).
 * Imports nothing: config validation calls it.
 */

/** The day names the maintenance window takes, in the week's order. */
const WINDOW_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** The shortest window RDS accepts, in minutes. */
const MINIMUM_WINDOW_MINUTES = 30;

const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** A window as minutes of the week: `[start, start + length)`, wrapping at the week's end. */
interface WeekInterval {
  readonly start: number;
  readonly length: number;
}

const TIME = '([01]\\d|2[0-3]):([0-5]\\d)';

function minutes(hours: string, mins: string): number {
  return Number(hours) * 60 + Number(mins);
}

/** Parses a maintenance window, or says what is wrong with it. */
export function parseMaintenanceWindow(text: string): WeekInterval | string {
  const match = new RegExp(`^(${WINDOW_DAYS.join('|')}):${TIME}-(${WINDOW_DAYS.join('|')}):${TIME}$`).exec(text);
  if (!match)
    return `must be ddd:hh24:mi-ddd:hh24:mi in UTC with days ${WINDOW_DAYS.join(', ')} (lower case), e.g. sun:04:00-sun:04:30, got ${JSON.stringify(text)}`;
  const [, fromDay, fromHours, fromMinutes, toDay, toHours, toMinutes] = match as unknown as [
    string,
    (typeof WINDOW_DAYS)[number],
    string,
    string,
    (typeof WINDOW_DAYS)[number],
    string,
    string,
  ];
  const start = WINDOW_DAYS.indexOf(fromDay) * MINUTES_PER_DAY + minutes(fromHours, fromMinutes);
  const end = WINDOW_DAYS.indexOf(toDay) * MINUTES_PER_DAY + minutes(toHours, toMinutes);
  const length = (end - start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
  if (length < MINIMUM_WINDOW_MINUTES) return `must be at least ${MINIMUM_WINDOW_MINUTES} minutes long, got ${length} (${text})`;
  return { start, length };
}

/** Parses a backup window (daily), or says what is wrong with it. */
export function parseBackupWindow(text: string): { readonly start: number; readonly length: number } | string {
  const match = new RegExp(`^${TIME}-${TIME}$`).exec(text);
  if (!match) return `must be hh24:mi-hh24:mi in UTC, e.g. 03:00-03:30, got ${JSON.stringify(text)}`;
  const [, fromHours, fromMinutes, toHours, toMinutes] = match as unknown as [string, string, string, string, string];
  const start = minutes(fromHours, fromMinutes);
  const length = (minutes(toHours, toMinutes) - start + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  if (length < MINIMUM_WINDOW_MINUTES) return `must be at least ${MINIMUM_WINDOW_MINUTES} minutes long, got ${length} (${text})`;
  return { start, length };
}

/** Whether two intervals of the week share a minute (each may wrap at the week's end). */
function intersects(a: WeekInterval, b: WeekInterval): boolean {
  // On a circle: b starts inside a, or a starts inside b.
  const inside = (interval: WeekInterval, point: number) => (point - interval.start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK < interval.length;
  return inside(a, b.start) || inside(b, a.start);
}

/**
 * What is wrong with a pair of windows: each one's format and length, and
 * whether the daily backup window meets the maintenance window on any day.
 * Empty when both are valid.
 */
export function windowProblems(maintenance: string, backup: string): string[] {
  const problems: string[] = [];
  const week = parseMaintenanceWindow(maintenance);
  const day = parseBackupWindow(backup);
  if (typeof week === 'string') problems.push(`aurora.maintenanceWindow ${week}`);
  if (typeof day === 'string') problems.push(`aurora.backupWindow ${day}`);
  if (typeof week !== 'string' && typeof day !== 'string') {
    const clash = WINDOW_DAYS.find((_, index) => intersects(week, { start: index * MINUTES_PER_DAY + day.start, length: day.length }));
    if (clash) problems.push(`aurora.backupWindow ${backup} overlaps aurora.maintenanceWindow ${maintenance} (on ${clash}): RDS requires them not to conflict`);
  }
  return problems;
}
