/**
 * Reads the synthesized Terraform (`cdk.tf.json` of every stack) and resolves
 * it to local values: `${aws_….arn}` references, cross-stack remote-state
 * outputs and data sources become the ARNs, names and URLs of the local
 * services, so the runtime builds exactly what `terraform apply` would create.
 *
 * Every resource type is one the runtime knows (`LOCAL_TYPES` of
 * `services.ts`: served by a local service, each declaring its types and
 * their local attributes, or declared to have no local behaviour); anything
 * else, and any expression this reader does not understand, stops the start
 * with its address. Nothing is skipped silently.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UnsupportedTerraformError } from './errors';

/** One Terraform resource type a service serves. */
export interface ServedType {
  /** What a resource of this type becomes locally. */
  readonly becomes: string;
  /**
   * The resource's attributes locally (ARN, name, URL), as the AWS provider
   * names them. `id` is a stable id derived from the address. Without it the
   * resource has an id and a placeholder ARN, which is all anything refers to.
   */
  readonly attributes?: (model: TerraformModel, resource: TerraformResource, id: string) => Record<string, unknown>;
}

/** Data sources the reader answers locally. */
const DATA_SOURCES = new Set(['aws_caller_identity', 'aws_partition', 'aws_region', 'aws_availability_zones', 'terraform_remote_state']);

/** One resource of one stack. */
export interface TerraformResource {
  readonly stack: string;
  readonly type: string;
  readonly name: string;
  /** `<stack>/<type>.<name>`, as errors and denials name it. */
  readonly address: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** What the reader resolves against. */
interface LocalContext {
  readonly region: string;
  readonly account: string;
  /** The local endpoint, for queue URLs. */
  readonly endpoint: string;
  /** The read model behind `aws_rds_cluster`. */
  readonly database: { readonly host: string; readonly port: number; readonly name: string };
  /** The clock of `timestamp()` (the time of the apply). @default the current time */
  readonly now?: () => Date;
}

interface StackJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
  data?: Record<string, Record<string, Record<string, unknown>>>;
  output?: Record<string, { value: unknown }>;
}

/** Reads every stack under `<outdir>/stacks`. */
export function readSynthesizedStacks(outdir: string): Map<string, { dir: string; json: StackJson }> {
  const stacks = new Map<string, { dir: string; json: StackJson }>();
  const root = path.join(outdir, 'stacks');
  for (const name of readdirSync(root).sort()) {
    const dir = path.join(root, name);
    stacks.set(name, { dir, json: JSON.parse(readFileSync(path.join(dir, 'cdk.tf.json'), 'utf8')) as StackJson });
  }
  return stacks;
}

/** The synthesized stacks, resolved to local values. */
export class TerraformModel {
  readonly context: LocalContext;
  readonly #types: Readonly<Record<string, ServedType>>;
  readonly #stacks: Map<string, { dir: string; json: StackJson }>;
  readonly #attributes = new Map<string, Record<string, unknown>>();
  readonly #resolving = new Set<string>();

  /** `types`: the resource types the runtime knows, served or without local behaviour (`LOCAL_TYPES` of `services.ts`). */
  constructor(stacks: Map<string, { dir: string; json: StackJson }>, context: LocalContext, types: Readonly<Record<string, ServedType>>) {
    this.#stacks = stacks;
    this.context = context;
    this.#types = types;
    const problems: string[] = [];
    for (const resource of this.resources()) {
      if (!Object.hasOwn(types, resource.type)) {
        problems.push(
          `${resource.address}: resource type ${resource.type} has no local behaviour: no service in local/services.ts serves it, and it is not declared in NO_LOCAL_BEHAVIOUR`,
        );
      }
    }
    for (const [stack, { json }] of stacks) {
      for (const type of Object.keys(json.data ?? {})) {
        if (!DATA_SOURCES.has(type)) problems.push(`${stack}/data.${type}: data source ${type} is not understood by the local runtime`);
      }
    }
    if (problems.length > 0)
      throw new UnsupportedTerraformError(problems[0]?.split(':')[0] ?? '', `the local runtime cannot run these stacks:\n  - ${problems.join('\n  - ')}`);
  }

  /** The stacks' names. */
  get stackNames(): string[] {
    return [...this.#stacks.keys()];
  }

  /** The folder of a stack (asset paths are relative to it). */
  stackDir(stack: string): string {
    return this.#require(stack).dir;
  }

  /** Every resource, optionally of one type, in stack then name order. */
  resources(type?: string): TerraformResource[] {
    const found: TerraformResource[] = [];
    for (const [stack, { json }] of this.#stacks) {
      for (const [resourceType, byName] of Object.entries(json.resource ?? {})) {
        if (type !== undefined && resourceType !== type) continue;
        for (const [name, body] of Object.entries(byName)) found.push({ stack, type: resourceType, name, address: `${stack}/${resourceType}.${name}`, body });
      }
    }
    return found;
  }

  /** The one resource of a type, failing when there are none or several. */
  only(type: string): TerraformResource {
    const found = this.resources(type);
    if (found.length !== 1) throw new UnsupportedTerraformError(type, `expected exactly one ${type}, found ${found.length}`);
    return found[0] as TerraformResource;
  }

  /** The stack outputs (not the cross-stack ones), resolved. */
  outputs(stack: string): Record<string, unknown> {
    const outputs = this.#require(stack).json.output ?? {};
    return Object.fromEntries(
      Object.entries(outputs)
        .filter(([name]) => !name.startsWith('cross-stack-output-'))
        .map(([name, output]) => [name, this.resolve(stack, output.value, `${stack}/output.${name}`)]),
    );
  }

  /** A field of a resource, resolved (`undefined` when absent). */
  field(resource: TerraformResource, ...pathParts: (string | number)[]): unknown {
    let value: unknown = resource.body;
    for (const part of pathParts) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string | number, unknown>)[part];
    }
    return value === undefined ? undefined : this.resolve(resource.stack, value, `${resource.address}.${pathParts.join('.')}`);
  }

  /** A required string field of a resource. */
  string(resource: TerraformResource, ...pathParts: (string | number)[]): string {
    const value = this.field(resource, ...pathParts);
    if (typeof value !== 'string')
      throw new UnsupportedTerraformError(resource.address, `${pathParts.join('.')} must be a string, got ${JSON.stringify(value)}`);
    return value;
  }

  /** Resolves every `${…}` inside a value (strings, arrays, objects). */
  resolve(stack: string, value: unknown, where: string): unknown {
    if (typeof value === 'string') return this.#interpolate(stack, value, where);
    if (Array.isArray(value)) return value.map((item, index) => this.resolve(stack, item, `${where}[${index}]`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([key]) => key !== '//')
          .map(([key, item]) => [key, this.resolve(stack, item, `${where}.${key}`)]),
      );
    }
    return value;
  }

  /** The local attributes of a resource (`arn`, `name`, `url`, ...). */
  attributes(resource: TerraformResource): Record<string, unknown> {
    const cached = this.#attributes.get(resource.address);
    if (cached) return cached;
    if (this.#resolving.has(resource.address)) throw new UnsupportedTerraformError(resource.address, 'its attributes refer to themselves');
    this.#resolving.add(resource.address);
    try {
      const id = localId(resource.address);
      const attributes = (Object.hasOwn(this.#types, resource.type) ? this.#types[resource.type]?.attributes?.(this, resource, id) : undefined) ?? {
        // Resources with no local behaviour, and served ones nothing refers to by
        // attribute: an id is all anything refers to.
        id: `${resource.type.replace(/^aws_/, '')}-${id.slice(0, 8)}`,
        arn: `arn:aws:local:${this.context.region}:${this.context.account}:${resource.type}/${id}`,
      };
      this.#attributes.set(resource.address, attributes);
      return attributes;
    } finally {
      this.#resolving.delete(resource.address);
    }
  }

  /** A resource by stack, type and name. */
  resource(stack: string, type: string, name: string): TerraformResource {
    const body = this.#require(stack).json.resource?.[type]?.[name];
    if (!body) throw new UnsupportedTerraformError(`${stack}/${type}.${name}`, 'is referenced but not defined');
    return { stack, type, name, address: `${stack}/${type}.${name}`, body };
  }

  /** The resource whose attribute equals `value` (e.g. the function with this ARN). */
  findBy(type: string, attribute: string, value: unknown): TerraformResource | undefined {
    return this.resources(type).find((resource) => this.attributes(resource)[attribute] === value);
  }

  #require(stack: string): { dir: string; json: StackJson } {
    const found = this.#stacks.get(stack);
    if (!found) throw new UnsupportedTerraformError(stack, 'no such stack was synthesized');
    return found;
  }

  #interpolate(stack: string, text: string, where: string): unknown {
    if (!text.includes('${')) return text;
    const parts: unknown[] = [];
    let index = 0;
    while (index < text.length) {
      const start = text.indexOf('${', index);
      if (start < 0) {
        parts.push(text.slice(index));
        break;
      }
      parts.push(text.slice(index, start));
      const end = closingBrace(text, start + 2);
      if (end < 0) throw new UnsupportedTerraformError(where, `unterminated expression in ${JSON.stringify(text)}`);
      parts.push(this.#evaluate(stack, text.slice(start + 2, end).trim(), where));
      index = end + 1;
    }
    const meaningful = parts.filter((part) => part !== '');
    // A string that is one expression keeps the expression's type (a list, a number).
    if (meaningful.length === 1 && text.startsWith('${') && text.endsWith('}')) return meaningful[0];
    return parts
      .map((part) => (typeof part === 'string' ? part : typeof part === 'number' || typeof part === 'boolean' ? String(part) : JSON.stringify(part)))
      .join('');
  }

  #evaluate(stack: string, expression: string, where: string): unknown {
    if (expression === 'terraform.workspace') return 'default';
    const call = /^([a-z0-9_]+)\((.*)\)$/s.exec(expression);
    if (call) {
      const [, name, args] = call as unknown as [string, string, string];
      if (name === 'filebase64sha256') {
        const file = JSON.parse(args) as string;
        return createHash('sha256')
          .update(readFileSync(path.join(this.stackDir(stack), file)))
          .digest('base64');
      }
      if (name === 'timestamp' && args.trim() === '') return (this.context.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
      if (name === 'formatdate') {
        const [spec, time] = splitArguments(args).map((argument) =>
          argument.startsWith('"') ? (JSON.parse(argument) as string) : this.#evaluate(stack, argument, where),
        );
        if (typeof spec !== 'string' || typeof time !== 'string' || Number.isNaN(Date.parse(time)))
          throw new UnsupportedTerraformError(where, `formatdate() needs a format and an RFC 3339 time (in \${${expression}})`);
        return formatDate(spec, new Date(time), where);
      }
      if (name === 'element') {
        // element(list, index): the index wraps around the list (Terraform's element function).
        const [list, index] = splitArguments(args).map((argument) => (/^\d+$/.test(argument) ? Number(argument) : this.#evaluate(stack, argument, where)));
        if (!Array.isArray(list) || list.length === 0 || typeof index !== 'number')
          throw new UnsupportedTerraformError(where, `element() needs a non-empty list and an index (in \${${expression}})`);
        return list[index % list.length];
      }
      throw new UnsupportedTerraformError(where, `function ${name}() is not understood by the local runtime (in \${${expression}})`);
    }
    const segments = referencePath(expression);
    if (!segments) throw new UnsupportedTerraformError(where, `expression \${${expression}} is not understood by the local runtime`);
    if (segments[0] === 'data') {
      const [, type, name, ...rest] = segments;
      if (type === 'terraform_remote_state' && rest[0] === 'outputs' && typeof rest[1] === 'string') {
        const upstream = remoteStateStack(this.#require(stack).json, String(name), where);
        const output = this.#require(upstream).json.output?.[rest[1]];
        if (!output) throw new UnsupportedTerraformError(where, `stack ${upstream} has no output ${rest[1]}`);
        return walk(this.resolve(upstream, output.value, `${upstream}/output.${rest[1]}`), rest.slice(2), where);
      }
      const body = this.#require(stack).json.data?.[String(type)]?.[String(name)] ?? {};
      return walk(
        this.#dataSource(String(type), this.resolve(stack, body, `${stack}/data.${String(type)}.${String(name)}`) as Record<string, unknown>, where),
        rest,
        where,
      );
    }
    const [type, name, ...rest] = segments;
    const resource = this.resource(stack, String(type), String(name));
    const attributes = this.attributes(resource);
    const [first] = rest;
    // Arguments are attributes too (a parameter group's name, a rule's pattern).
    if (typeof first === 'string' && !(first in attributes) && first in resource.body) return walk(this.field(resource, first), rest.slice(1), where);
    return walk(attributes, rest, where);
  }

  #dataSource(type: string, args: Record<string, unknown>, where: string): Record<string, unknown> {
    const { region, account } = this.context;
    switch (type) {
      case 'aws_caller_identity':
        return { account_id: account, arn: `arn:aws:iam::${account}:root`, user_id: account, id: account };
      case 'aws_partition':
        return { partition: 'aws', dns_suffix: 'amazonaws.com', id: 'aws' };
      case 'aws_region':
        return { name: region, region, id: region };
      case 'aws_availability_zones': {
        const zones = availabilityZones(region, args, where);
        return { names: zones.map((zone) => zone.name), zone_ids: zones.map((zone) => zone.id), id: region };
      }
      default:
        throw new UnsupportedTerraformError(where, `data source ${type} is not understood by the local runtime`);
    }
  }
}

/** One zone of the local region, as `DescribeAvailabilityZones` describes it. */
interface LocalZone {
  readonly name: string;
  readonly id: string;
  readonly 'zone-type': 'availability-zone' | 'local-zone' | 'wavelength-zone';
  readonly 'opt-in-status': 'opt-in-not-required' | 'opted-in' | 'not-opted-in';
  readonly state: 'available';
  readonly 'group-name': string;
}

/**
 * The zones of the local region: three Availability Zones, and a Local Zone
 * and a Wavelength Zone the account has opted in to, as a region with them
 * answers. Availability Zones always have opt-in status `opt-in-not-required`;
 * Local and Wavelength Zones `opted-in` or `not-opted-in`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AvailabilityZone.html).
 */
function regionZones(region: string): LocalZone[] {
  const zone = (name: string, id: string, type: LocalZone['zone-type'], group: string): LocalZone => ({
    name,
    id,
    'zone-type': type,
    'opt-in-status': type === 'availability-zone' ? 'opt-in-not-required' : 'opted-in',
    state: 'available',
    'group-name': group,
  });
  return [
    ...['a', 'b', 'c'].map((letter, index) => zone(`${region}${letter}`, `local-az${index + 1}`, 'availability-zone', region)),
    zone(`${region}-loc-1a`, 'local-loc1-az1', 'local-zone', `${region}-loc-1`),
    zone(`${region}-wl1-loc-wlz-1`, 'local-wl1-loc-wlz1', 'wavelength-zone', `${region}-wl1`),
  ];
}

/** The filters of `DescribeAvailabilityZones` the local region answers (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html). */
const ZONE_FILTERS = new Set(['state', 'opt-in-status', 'zone-type', 'zone-name', 'zone-id', 'group-name']);

/**
 * The `aws_availability_zones` data source over the local region, as the
 * provider reads it: `state` and each `filter` (values of one filter are
 * alternatives, filters all apply), `exclude_names`, sorted by name (the
 * provider sorts them, so a Local Zone, `us-east-1-loc-1a`, comes before
 * `us-east-1a`). Not-opted-in zones only with `all_availability_zones`.
 */
function availabilityZones(region: string, args: Record<string, unknown>, where: string): LocalZone[] {
  const filters: { name: string; values: string[] }[] = [];
  if (typeof args.state === 'string') filters.push({ name: 'state', values: [args.state] });
  for (const filter of (args.filter as { name?: unknown; values?: unknown }[] | undefined) ?? []) {
    if (typeof filter.name !== 'string' || !ZONE_FILTERS.has(filter.name) || !Array.isArray(filter.values)) {
      throw new UnsupportedTerraformError(
        where,
        `availability-zone filter ${JSON.stringify(filter)} is not understood by the local runtime (filters: ${[...ZONE_FILTERS].join(', ')})`,
      );
    }
    filters.push({ name: filter.name, values: filter.values.map(String) });
  }
  const excluded = new Set(((args.exclude_names as unknown[] | undefined) ?? []).map(String));
  const field = (zone: LocalZone, name: string) => (name === 'zone-name' ? zone.name : name === 'zone-id' ? zone.id : zone[name as keyof LocalZone]);
  return regionZones(region)
    .filter((zone) => args.all_availability_zones === true || zone['opt-in-status'] !== 'not-opted-in')
    .filter((zone) => filters.every((filter) => filter.values.includes(field(zone, filter.name))))
    .filter((zone) => !excluded.has(zone.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Terraform's `formatdate` for the numeric tokens (`YYYY`, `MM`, `DD`, `hh`,
 * `mm`, `ss`) and quoted literals, in UTC as Terraform's timestamps are; any
 * other letter stops the start (https://developer.hashicorp.com/terraform/language/functions/formatdate).
 */
function formatDate(spec: string, time: Date, where: string): string {
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  const tokens: Readonly<Record<string, string>> = {
    YYYY: pad(time.getUTCFullYear(), 4),
    MM: pad(time.getUTCMonth() + 1, 2),
    DD: pad(time.getUTCDate(), 2),
    hh: pad(time.getUTCHours(), 2),
    mm: pad(time.getUTCMinutes(), 2),
    ss: pad(time.getUTCSeconds(), 2),
  };
  return spec.replace(/'[^']*'|([A-Za-z])\1*/g, (token) => {
    if (token.startsWith("'")) return token.slice(1, -1);
    const value = tokens[token];
    if (value === undefined) throw new UnsupportedTerraformError(where, `formatdate() token ${token} is not understood by the local runtime`);
    return value;
  });
}

/** The arguments of a function call, split at the top-level commas. */
function splitArguments(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '\\') index++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === '(' || char === '[' || char === '{') depth++;
    else if (char === ')' || char === ']' || char === '}') depth--;
    else if (char === ',' && depth === 0) {
      parts.push(text.slice(start, index).trim());
      start = index + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((part) => part !== '');
}

/** The index of the `}` closing an expression that starts at `from`. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  let quoted = false;
  for (let index = from; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '\\') index++;
      else if (char === '"') quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === '{') depth++;
    else if (char === '}') {
      if (depth === 0) return index;
      depth--;
    }
  }
  return -1;
}

/** `a.b[0].c` → `['a', 'b', 0, 'c']`; anything else (operators, calls) → undefined. */
function referencePath(expression: string): (string | number)[] | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+|\[\d+\])*$/.test(expression)) return undefined;
  const segments: (string | number)[] = [];
  for (const match of expression.matchAll(/([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    segments.push(match[2] !== undefined ? Number(match[2]) : (match[1] as string));
  }
  return segments;
}

function walk(value: unknown, rest: readonly (string | number)[], where: string): unknown {
  let current = value;
  for (const key of rest) {
    const next = current !== null && typeof current === 'object' ? (current as Record<string | number, unknown>)[key] : undefined;
    if (next === undefined) throw new UnsupportedTerraformError(where, `attribute ${rest.join('.')} has no local value`);
    current = next;
  }
  return current;
}

/** The stack a `terraform_remote_state` data source reads (cdktf's cross-stack references). */
function remoteStateStack(json: StackJson, name: string, where: string): string {
  const source = json.data?.terraform_remote_state?.[name];
  if (!source) throw new UnsupportedTerraformError(where, `data.terraform_remote_state.${name} is not defined`);
  const prefix = 'cross-stack-reference-input-';
  if (!name.startsWith(prefix)) throw new UnsupportedTerraformError(where, `remote state ${name} is not a cdktf cross-stack reference`);
  return name.slice(prefix.length);
}

/** A stable, UUID-shaped id for a local resource. */
function localId(address: string): string {
  const hex = createHash('sha256').update(address).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
