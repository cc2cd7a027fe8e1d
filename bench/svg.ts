/**
 * The query-latency chart: p50 latency against data size, log-log, for every
 * registered query and the original sample's queries it had. Plain SVG, no
 * dependency.
 */
import { ORIGINAL_SAMPLE_QUERIES } from '../analysis/capacity';
import { QUERIES } from '../handlers/queries/registry';

/** One history size of the queries section: each query's figures under its name (the original's under its key). */
type Step = { orderLines: number } & Record<string, { p50: number } | undefined>;

/** Ours solid, the original's dashed, each in its own colour. */
const OURS = ['#1f6feb', '#2da44e', '#8250df', '#0a7ea4', '#1b7c83'];
const THEIRS = ['#c0392b', '#e67e22', '#b35900', '#9a6700'];

/** A line per query the steps timed: the original's first (drawn under ours), then the registry's. */
function seriesOf(steps: readonly Step[], queries: readonly { readonly name: string }[]): { key: string; label: string; color: string; dash: string }[] {
  const timed = (key: string) => steps.some((step) => typeof step[key]?.p50 === 'number');
  const originals = Object.entries(ORIGINAL_SAMPLE_QUERIES)
    .filter(([, key]) => timed(key))
    .map(([query, key], index) => ({ key, label: `original ${query} (GROUP BY)`, color: THEIRS[index % THEIRS.length] as string, dash: '6 4' }));
  const ours = queries
    .filter((query) => timed(query.name))
    .map((query, index) => ({ key: query.name, label: `${query.name} (aggregates)`, color: OURS[index % OURS.length] as string, dash: '' }));
  return [...originals, ...ours];
}

export function queryChart(steps: Step[], queries: readonly { readonly name: string }[] = QUERIES): string {
  const SERIES = seriesOf(steps, queries);
  const p50 = (step: Step, key: string) => step[key]?.p50 ?? 0;
  const width = 720;
  const height = 420;
  const left = 70;
  const right = 20;
  const top = 40;
  const bottom = 60;
  const sizes = steps.map((step) => step.orderLines);
  const latencies = steps.flatMap((step) => SERIES.map((series) => p50(step, series.key))).filter((value) => value > 0);
  const xMin = Math.log10(Math.min(...sizes) / 1.5);
  const xMax = Math.log10(Math.max(...sizes) * 1.5);
  const yMin = Math.floor(Math.log10(Math.min(...latencies)));
  const yMax = Math.ceil(Math.log10(Math.max(...latencies)));
  const x = (value: number) => left + ((Math.log10(value) - xMin) / (xMax - xMin)) * (width - left - right);
  const y = (value: number) => top + (1 - (Math.log10(value) - yMin) / (yMax - yMin)) * (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">Query latency (p50) against order history</text>`,
  ];
  for (let exponent = yMin; exponent <= yMax; exponent++) {
    const value = 10 ** exponent;
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 8}" y="${y(value) + 4}" text-anchor="end">${value >= 1 ? value : value.toFixed(-exponent)} ms</text>`);
  }
  for (const size of sizes) {
    parts.push(`<line x1="${x(size)}" x2="${x(size)}" y1="${top}" y2="${height - bottom}" stroke="#f0f0f0"/>`);
    parts.push(`<text x="${x(size)}" y="${height - bottom + 18}" text-anchor="middle">${size.toLocaleString('en-US')}</text>`);
  }
  parts.push(`<text x="${(left + width - right) / 2}" y="${height - 18}" text-anchor="middle">order lines (log scale)</text>`);
  SERIES.forEach((series, index) => {
    const points = steps.map((step) => `${x(step.orderLines).toFixed(1)},${y(Math.max(p50(step, series.key), 10 ** yMin)).toFixed(1)}`);
    parts.push(
      `<polyline fill="none" stroke="${series.color}" stroke-width="2.5" ${series.dash ? `stroke-dasharray="${series.dash}"` : ''} points="${points.join(' ')}"/>`,
    );
    for (const point of points) {
      const [cx, cy] = point.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3.5" fill="${series.color}"/>`);
    }
    const legendY = top + 8 + index * 18;
    parts.push(
      `<line x1="${left + 12}" x2="${left + 40}" y1="${legendY}" y2="${legendY}" stroke="${series.color}" stroke-width="2.5" ${series.dash ? `stroke-dasharray="${series.dash}"` : ''}/>`,
    );
    parts.push(`<text x="${left + 46}" y="${legendY + 4}">${series.label}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
