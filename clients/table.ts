/** The text of one cell: an object or a list (a refusal's `error`) as JSON, nothing for a missing value. */
function cellText(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

/** Prints rows as an aligned text table (numbers right-aligned). */
export function formatTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  if (rows.length === 0) return '(no rows)';
  const keys = columns ?? Object.keys(rows[0] as object);
  const cells = rows.map((row) => keys.map((key) => cellText(row[key])));
  const widths = keys.map((key, index) => Math.max(key.length, ...cells.map((line) => [...(line[index] as string)].length)));
  const numeric = keys.map((key) => rows.every((row) => typeof row[key] === 'number'));
  const pad = (text: string, index: number) => {
    const gap = ' '.repeat((widths[index] as number) - [...text].length);
    return numeric[index] ? gap + text : text + gap;
  };
  const line = (values: string[]) => `| ${values.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [line([...keys]), rule, ...cells.map(line)].join('\n');
}
