/**
 * A small evaluator of CloudWatch metric math, for the alarms the stacks
 * synthesize: numbers, metric ids, `+ - * /`, the comparison operators
 * (1 when true, 0 when false), `AND`/`&&`, `OR`/`||`, `NOT`/`!`, `FILL(m, v)`
 * and `IF(condition, trueValue[, falseValue])`, point by point over aligned
 * series, a missing point (null) staying missing through arithmetic. Anything
 * else is refused, so a test never evaluates an expression it does not model.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */

/** One value per period, null where the metric has no data point. */
export type Series = (number | null)[];

type Token = { kind: 'number'; value: number } | { kind: 'name'; value: string } | { kind: 'op'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/<>(),!]))/y;
  let position = 0;
  while (position < expression.length) {
    if (/^\s*$/.test(expression.slice(position))) break;
    pattern.lastIndex = position;
    const match = pattern.exec(expression);
    if (!match) throw new Error(`metric math: cannot read ${JSON.stringify(expression.slice(position))}`);
    position = pattern.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', value: match[2] });
    else tokens.push({ kind: 'op', value: match[3] as string });
  }
  return tokens;
}

/** Evaluates `expression` over `metrics` (id → series, all of one length). */
export function evaluateMetricMath(expression: string, metrics: Readonly<Record<string, Series>>): Series {
  const lengths = new Set(Object.values(metrics).map((series) => series.length));
  if (lengths.size !== 1) throw new Error('metric math: the series must have one length');
  const length = [...lengths][0] as number;
  const tokens = tokenize(expression);
  let index = 0;
  const peek = () => tokens[index];
  const isOp = (...values: string[]) => {
    const token = peek();
    return (
      token !== undefined && ((token.kind === 'op' && values.includes(token.value)) || (token.kind === 'name' && values.includes(token.value.toUpperCase())))
    );
  };
  const expect = (value: string) => {
    if (!isOp(value)) throw new Error(`metric math: expected ${value} at token ${index} of ${expression}`);
    index += 1;
  };
  const constant = (value: number): Series => Array.from({ length }, () => value);
  const pointwise = (a: Series, b: Series, f: (x: number, y: number) => number): Series =>
    a.map((x, i) => (x === null || b[i] === null || b[i] === undefined ? null : f(x, b[i])));

  const primary = (): Series => {
    const token = peek();
    if (!token) throw new Error(`metric math: ${expression} ends too early`);
    index += 1;
    if (token.kind === 'number') return constant(token.value);
    if (token.kind === 'op' && token.value === '(') {
      const value = or();
      expect(')');
      return value;
    }
    if (token.kind === 'name' && isOp('(')) {
      expect('(');
      const args: Series[] = [or()];
      while (isOp(',')) {
        expect(',');
        args.push(or());
      }
      expect(')');
      const name = token.value.toUpperCase();
      if (name === 'FILL' && args.length === 2) return (args[0] as Series).map((x, i) => x ?? (args[1] as Series)[i] ?? null);
      if (name === 'IF' && (args.length === 2 || args.length === 3)) {
        const [condition, whenTrue, whenFalse] = args as [Series, Series, Series | undefined];
        return condition.map((c, i) => (c === null ? null : c !== 0 ? (whenTrue[i] ?? null) : whenFalse ? (whenFalse[i] ?? null) : null));
      }
      throw new Error(`metric math: ${token.value} with ${args.length} arguments is not modelled`);
    }
    if (token.kind === 'name') {
      const series = metrics[token.value];
      if (!series) throw new Error(`metric math: no metric ${token.value}`);
      return series;
    }
    throw new Error(`metric math: unexpected ${token.value} in ${expression}`);
  };
  const unary = (): Series => {
    if (isOp('-')) {
      expect('-');
      return unary().map((x) => (x === null ? null : -x));
    }
    return primary();
  };
  const product = (): Series => {
    let left = unary();
    while (isOp('*', '/')) {
      const op = (peek() as Token).value;
      index += 1;
      const right = unary();
      left = pointwise(left, right, (x, y) => (op === '*' ? x * y : x / y));
    }
    return left;
  };
  const sum = (): Series => {
    let left = product();
    while (isOp('+', '-')) {
      const op = (peek() as Token).value;
      index += 1;
      const right = product();
      left = pointwise(left, right, (x, y) => (op === '+' ? x + y : x - y));
    }
    return left;
  };
  const COMPARE: Record<string, (x: number, y: number) => boolean> = {
    '==': (x, y) => x === y,
    '!=': (x, y) => x !== y,
    '<=': (x, y) => x <= y,
    '>=': (x, y) => x >= y,
    '<': (x, y) => x < y,
    '>': (x, y) => x > y,
  };
  const comparison = (): Series => {
    const left = sum();
    if (isOp(...Object.keys(COMPARE))) {
      const op = (peek() as Token).value;
      index += 1;
      return pointwise(left, sum(), (x, y) => ((COMPARE[op] as (x: number, y: number) => boolean)(x, y) ? 1 : 0));
    }
    return left;
  };
  const not = (): Series => {
    if (isOp('NOT', '!')) {
      index += 1;
      return not().map((x) => (x === null ? null : x === 0 ? 1 : 0));
    }
    return comparison();
  };
  const and = (): Series => {
    let left = not();
    while (isOp('AND', '&&')) {
      index += 1;
      left = pointwise(left, not(), (x, y) => (x !== 0 && y !== 0 ? 1 : 0));
    }
    return left;
  };
  const or = (): Series => {
    let left = and();
    while (isOp('OR', '||')) {
      index += 1;
      left = pointwise(left, and(), (x, y) => (x !== 0 || y !== 0 ? 1 : 0));
    }
    return left;
  };

  const result = or();
  if (index !== tokens.length) throw new Error(`metric math: unread tokens after ${index} in ${expression}`);
  return result;
}

/** The parts of a synthesized `aws_cloudwatch_metric_alarm` the evaluation reads. */
export interface SynthesizedAlarm {
  readonly metric_query: {
    id: string;
    expression?: string;
    return_data?: boolean;
    metric?: { namespace: string; metric_name: string; stat: string; period: number; dimensions: Record<string, string> };
  }[];
  readonly evaluation_periods: number;
  readonly datapoints_to_alarm?: number;
  readonly threshold: number;
  readonly comparison_operator: string;
  readonly treat_missing_data: string;
}

/**
 * Whether the alarm is in ALARM after the periods of `data`: its returned
 * expression over the last `evaluation_periods` points, `datapoints_to_alarm`
 * of them breaching (missing points as `treat_missing_data` says).
 */
export function alarmFires(alarm: SynthesizedAlarm, data: (metric: NonNullable<SynthesizedAlarm['metric_query'][number]['metric']>) => Series): boolean {
  const metrics: Record<string, Series> = {};
  for (const query of alarm.metric_query) if (query.metric) metrics[query.id] = data(query.metric);
  const returned = alarm.metric_query.filter((query) => query.return_data === true);
  if (returned.length !== 1 || !returned[0]?.expression) throw new Error('the alarm must return exactly one expression');
  const values = evaluateMetricMath(returned[0].expression, metrics).slice(-alarm.evaluation_periods);
  const compare: Record<string, (x: number) => boolean> = {
    GreaterThanThreshold: (x) => x > alarm.threshold,
    GreaterThanOrEqualToThreshold: (x) => x >= alarm.threshold,
    LessThanThreshold: (x) => x < alarm.threshold,
    LessThanOrEqualToThreshold: (x) => x <= alarm.threshold,
  };
  const breaches = compare[alarm.comparison_operator];
  if (!breaches) throw new Error(`comparison ${alarm.comparison_operator} is not modelled`);
  if (alarm.treat_missing_data !== 'notBreaching') throw new Error(`treat_missing_data ${alarm.treat_missing_data} is not modelled`);
  return values.filter((value) => value !== null && breaches(value)).length >= (alarm.datapoints_to_alarm ?? alarm.evaluation_periods);
}
