/**
 * EventBridge event-pattern matching, as documented in "Event patterns" and
 * "Content filtering": exact values (string, number, boolean, null), prefix,
 * suffix, equals-ignore-case, wildcard, anything-but (values, prefix, suffix,
 * equals-ignore-case, wildcard), numeric ranges, exists, cidr and `$or`.
 * Arrays in the event match when any element matches. The same matcher serves
 * the local bus rules and the stream mapping's filter criteria.
 */

import { InvalidEventPatternError } from './errors';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Leaf values found at a path; `missing` when the path is absent. */
type Leaf = { present: true; values: Json[] } | { present: false };

/** Checks a pattern's syntax, throwing {@link InvalidEventPatternError} with the offending path. */
export function validatePattern(pattern: unknown, path = ''): void {
  if (!isObject(pattern)) throw new InvalidEventPatternError(`${path || 'pattern'} must be a JSON object`);
  if (Object.keys(pattern).length === 0 && path === '') throw new InvalidEventPatternError('pattern must not be empty');
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2) throw new InvalidEventPatternError(`${at} must be an array of at least two patterns`);
      value.forEach((sub, index) => validatePattern(sub, `${at}[${index}]`));
    } else if (Array.isArray(value)) {
      if (value.length === 0) throw new InvalidEventPatternError(`${at} must not be an empty array`);
      value.forEach((matcher) => validateMatcher(matcher, at));
    } else if (isObject(value)) {
      validatePattern(value, at);
    } else {
      throw new InvalidEventPatternError(`${at} must be an array of matchers or a nested pattern object`);
    }
  }
}

function validateMatcher(matcher: Json, at: string): void {
  if (!isObject(matcher)) return; // exact value
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new InvalidEventPatternError(`${at}: a matcher object must have exactly one key`);
  const [operator] = keys as [string];
  const operand = matcher[operator] as Json;
  switch (operator) {
    case 'prefix':
    case 'suffix':
      if (typeof operand === 'string') return;
      if (isObject(operand) && typeof operand['equals-ignore-case'] === 'string' && Object.keys(operand).length === 1) return;
      throw new InvalidEventPatternError(`${at}: ${operator} takes a string or {"equals-ignore-case": string}`);
    case 'equals-ignore-case':
    case 'wildcard':
      if (typeof operand !== 'string') throw new InvalidEventPatternError(`${at}: ${operator} takes a string`);
      return;
    case 'exists':
      if (typeof operand !== 'boolean') throw new InvalidEventPatternError(`${at}: exists takes true or false`);
      return;
    case 'cidr':
      if (typeof operand !== 'string' || !parseCidr(operand)) throw new InvalidEventPatternError(`${at}: cidr takes an IPv4 or IPv6 CIDR block`);
      return;
    case 'numeric':
      numericPredicate(operand, at);
      return;
    case 'anything-but':
      anythingButPredicate(operand, at);
      return;
    default:
      throw new InvalidEventPatternError(`${at}: unknown matcher ${JSON.stringify(operator)}`);
  }
}

/** Whether `event` matches `pattern`. The pattern must be valid ({@link validatePattern}). */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return matchObject(pattern as JsonObject, event as Json);
}

function matchObject(pattern: JsonObject, event: Json): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(expected as JsonObject[]).some((sub) => matchObject(sub, event))) return false;
      continue;
    }
    if (isObject(expected)) {
      const child = fieldOf(event, key);
      if (!child.present || !child.values.some((value) => isObject(value) && matchObject(expected, value))) return false;
      continue;
    }
    const leaf = fieldOf(event, key);
    if (!(expected as Json[]).some((matcher) => matchLeaf(matcher, leaf))) return false;
  }
  return true;
}

/** Values of `key` in `event`, flattening arrays (of values or of objects). */
function fieldOf(event: Json, key: string): Leaf {
  const containers = Array.isArray(event) ? event : [event];
  const values: Json[] = [];
  let present = false;
  for (const container of containers) {
    if (!isObject(container) || !(key in container)) continue;
    present = true;
    const value = container[key] as Json;
    if (Array.isArray(value)) values.push(...value);
    else values.push(value);
  }
  return present ? { present, values } : { present: false };
}

function matchLeaf(matcher: Json, leaf: Leaf): boolean {
  if (isObject(matcher) && 'exists' in matcher) {
    const exists = leaf.present && leaf.values.some((value) => !isObject(value));
    return matcher.exists === exists;
  }
  if (!leaf.present) return false;
  // Like every other matcher, anything-but matches an array when any element does.
  const predicate = leafPredicate(matcher);
  return leaf.values.some((value) => !isObject(value) && predicate(value));
}

type Predicate = (value: Json) => boolean;

function leafPredicate(matcher: Json): Predicate {
  if (!isObject(matcher)) return (value) => value === matcher;
  const [operator, operand] = Object.entries(matcher)[0] as [string, Json];
  switch (operator) {
    case 'prefix':
      return affixPredicate(operand, (value, affix) => value.startsWith(affix));
    case 'suffix':
      return affixPredicate(operand, (value, affix) => value.endsWith(affix));
    case 'equals-ignore-case':
      return (value) => typeof value === 'string' && foldCase(value) === foldCase(operand as string);
    case 'wildcard':
      return wildcardPredicate(operand as string);
    case 'numeric':
      return numericPredicate(operand, 'numeric');
    case 'cidr':
      return cidrPredicate(operand as string);
    case 'anything-but':
      return anythingButPredicate(operand, 'anything-but');
    default:
      throw new InvalidEventPatternError(`unknown matcher ${operator}`);
  }
}

function affixPredicate(operand: Json, test: (value: string, affix: string) => boolean): Predicate {
  if (typeof operand === 'string') return (value) => typeof value === 'string' && test(value, operand);
  const affix = foldCase((operand as JsonObject)['equals-ignore-case'] as string);
  return (value) => typeof value === 'string' && test(foldCase(value), affix);
}

function foldCase(value: string): string {
  return value.toLowerCase();
}

function wildcardPredicate(pattern: string): Predicate {
  // `*` matches any run of characters; `\*` and `\\` are literal.
  let source = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index] as string;
    if (char === '\\' && (pattern[index + 1] === '*' || pattern[index + 1] === '\\')) {
      source += `\\${pattern[++index]}`;
    } else if (char === '*') {
      source += '.*';
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  const regex = new RegExp(`^${source}$`, 's');
  return (value) => typeof value === 'string' && regex.test(value);
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

function numericPredicate(operand: Json, at: string): Predicate {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0) {
    throw new InvalidEventPatternError(`${at}: numeric takes [operator, number, ...]`);
  }
  const checks: Predicate[] = [];
  for (let index = 0; index < operand.length; index += 2) {
    const operator = operand[index];
    const bound = operand[index + 1];
    if (typeof operator !== 'string' || !NUMERIC_OPERATORS.has(operator) || typeof bound !== 'number') {
      throw new InvalidEventPatternError(`${at}: numeric takes [operator, number, ...] with operators < <= = > >=`);
    }
    checks.push((value) => {
      const number = value as number;
      switch (operator) {
        case '<':
          return number < bound;
        case '<=':
          return number <= bound;
        case '=':
          return number === bound;
        case '>':
          return number > bound;
        default:
          return number >= bound;
      }
    });
  }
  if (operand.filter((_, index) => index % 2 === 0).includes('=') && operand.length > 2) {
    throw new InvalidEventPatternError(`${at}: numeric "=" cannot be combined with a range`);
  }
  return (value) => typeof value === 'number' && checks.every((check) => check(value));
}

function anythingButPredicate(operand: Json, at: string): Predicate {
  if (Array.isArray(operand)) {
    if (operand.length === 0 || operand.some((value) => isObject(value) || Array.isArray(value))) {
      throw new InvalidEventPatternError(`${at}: anything-but takes a value, a list of values, or one of prefix/suffix/equals-ignore-case/wildcard`);
    }
    return (value) => !operand.includes(value);
  }
  if (!isObject(operand)) return (value) => value !== operand;
  const [operator, inner] = (Object.entries(operand)[0] ?? []) as [string, Json];
  if (Object.keys(operand).length !== 1) throw new InvalidEventPatternError(`${at}: anything-but takes one nested matcher`);
  const list = (value: Json): string[] => {
    const values = Array.isArray(value) ? value : [value];
    if (values.length === 0 || values.some((item) => typeof item !== 'string')) {
      throw new InvalidEventPatternError(`${at}: anything-but ${operator} takes a string or a list of strings`);
    }
    return values as string[];
  };
  switch (operator) {
    case 'prefix': {
      const prefixes = list(inner);
      return (value) => typeof value === 'string' && !prefixes.some((prefix) => value.startsWith(prefix));
    }
    case 'suffix': {
      const suffixes = list(inner);
      return (value) => typeof value === 'string' && !suffixes.some((suffix) => value.endsWith(suffix));
    }
    case 'equals-ignore-case': {
      const excluded = list(inner).map(foldCase);
      return (value) => typeof value === 'string' && !excluded.includes(foldCase(value));
    }
    case 'wildcard': {
      const patterns = list(inner).map(wildcardPredicate);
      return (value) => typeof value === 'string' && !patterns.some((matches) => matches(value));
    }
    default:
      throw new InvalidEventPatternError(`${at}: anything-but does not take ${JSON.stringify(operator)}`);
  }
}

/** Parses an IPv4 or IPv6 CIDR block into address bits. */
function parseCidr(cidr: string): { bits: bigint; length: number; width: number } | undefined {
  const [address, prefix] = cidr.split('/');
  if (address === undefined || prefix === undefined || !/^\d+$/.test(prefix)) return undefined;
  const parsed = parseAddress(address);
  if (!parsed) return undefined;
  const length = Number(prefix);
  if (length > parsed.width) return undefined;
  return { bits: parsed.bits, length, width: parsed.width };
}

function parseAddress(address: string): { bits: bigint; width: number } | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) {
    const octets = address.split('.').map(Number);
    if (octets.some((octet) => octet > 255)) return undefined;
    return { bits: octets.reduce((bits, octet) => (bits << 8n) | BigInt(octet), 0n), width: 32 };
  }
  if (!address.includes(':')) return undefined;
  const [head, tail, ...rest] = address.split('::');
  if (rest.length > 0) return undefined;
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const left = groups(head);
  const right = groups(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(Math.max(fill, 0)).fill('0'), ...right];
  if (all.length !== 8 || all.some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return { bits: all.reduce((bits, group) => (bits << 16n) | BigInt(parseInt(group, 16)), 0n), width: 128 };
}

function cidrPredicate(cidr: string): Predicate {
  const block = parseCidr(cidr) as { bits: bigint; length: number; width: number };
  const shift = BigInt(block.width - block.length);
  return (value) => {
    if (typeof value !== 'string') return false;
    const address = parseAddress(value);
    return address !== undefined && address.width === block.width && address.bits >> shift === block.bits >> shift;
  };
}
