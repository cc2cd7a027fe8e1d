/**
 * The provider calls of each synthesized resource, on that resource's own
 * ARN: the table's ARN templates filled with the resource's synthesized
 * attributes (references followed to the resource they name, across stacks
 * through the cross-stack outputs). What the IAM proof of the CI roles asks
 * the evaluator about.
 */
import type { StackJson } from '../synth-offline';
import { PROVIDER_CALLS, targeted, type ProviderCalls } from './provider-calls';
import type { RoleScope } from './ci-policies';

/** Stands for an identifier AWS generates (a key id, a VPC id): policies match it with `*`. */
export const GENERATED_ID = 'generated-id';

/** The phases of a resource's life a call belongs to. */
export type Phase = 'read' | 'plan' | 'create' | 'update' | 'delete';

/** One call Terraform makes for one synthesized resource. */
export interface ConcreteCall {
  /** `<stack> <type>.<id>` */
  readonly address: string;
  readonly type: string;
  readonly phase: Phase;
  readonly action: string;
  /** The ARNs the call is authorized on (all must be allowed), or `*`. */
  readonly resources: readonly string[];
  /** Request context the call carries (`kms:ViaService` for a KMS call a service makes). */
  readonly context?: Readonly<Record<string, string>>;
}

type Resource = Record<string, unknown>;
type Stacks = Readonly<Record<string, StackJson>>;

/** An attribute of a resource, or of its local-exec provisioner's environment. */
function attribute(resource: Resource, name: string): unknown {
  if (name in resource) return resource[name];
  const provisioners = (resource.provisioner ?? []) as { 'local-exec'?: { environment?: Record<string, unknown> } }[];
  return provisioners.map((provisioner) => provisioner['local-exec']?.environment?.[name]).find((value) => value !== undefined);
}

/** Follows references to concrete names, with the table saying which attribute names each type. */
class Resolver {
  constructor(
    private readonly stacks: Stacks,
    private readonly table: Readonly<Record<string, ProviderCalls>>,
  ) {}

  /** The name a reference to `type.id` in `stack` stands for. */
  nameOf(stack: string, type: string, id: string): string {
    const row = this.table[type];
    const resource = this.stacks[stack]?.resource?.[type]?.[id];
    if (!resource) throw new Error(`${stack}: ${type}.${id} is referenced but not synthesized`);
    if (!row?.name || resource[row.name] === undefined) return GENERATED_ID;
    return this.value(stack, resource[row.name]);
  }

  /** A synthesized value, references followed. */
  value(stack: string, value: unknown): string {
    if (typeof value !== 'string') throw new Error(`${stack}: expected a string, got ${JSON.stringify(value)}`);
    const reference = /^\$\{([^}]+)\}$/.exec(value)?.[1];
    if (!reference) return value;
    const remote = /^data\.terraform_remote_state\.[^.]+\.outputs\.([^.]+)$/.exec(reference);
    if (remote) {
      const producer = Object.entries(this.stacks).find(([, json]) => json.output?.[remote[1] as string] !== undefined);
      if (!producer) throw new Error(`${stack}: no stack outputs ${remote[1]}`);
      return this.value(producer[0], producer[1].output?.[remote[1] as string]?.value);
    }
    const local = /^(aws_[a-z0-9_]+)\.([^.]+)\.[a-z_]+$/.exec(reference);
    if (local) return this.nameOf(stack, local[1] as string, local[2] as string);
    throw new Error(`${stack}: cannot follow the reference ${value}`);
  }
}

/** An ARN template filled for one resource. */
function fill(template: string, resource: Resource, stack: string, resolver: Resolver, scope: RoleScope): string {
  if (template === '*') return '*';
  return template.replace(/\{([^}]+)\}/g, (_, key: string) => {
    if (key === 'partition') return scope.partition;
    if (key === 'region') return scope.region;
    if (key === 'account') return scope.account;
    if (key === 'id') return GENERATED_ID;
    const value = attribute(resource, key);
    if (value === undefined) throw new Error(`${stack}: the ARN template ${template} names ${key}, which the resource does not set`);
    return resolver.value(stack, value);
  });
}

/** Every call of every synthesized resource and data source of one environment's stacks that the table lists. */
export function concreteCalls(stacks: Stacks, scope: RoleScope, table: Readonly<Record<string, ProviderCalls>> = PROVIDER_CALLS): ConcreteCall[] {
  const resolver = new Resolver(stacks, table);
  const calls: ConcreteCall[] = [];
  for (const [stack, json] of Object.entries(stacks)) {
    const instances = [
      ...Object.entries(json.resource ?? {}).flatMap(([type, resources]) => Object.entries(resources).map(([id, resource]) => ({ type, id, resource }))),
      ...Object.entries(json.data ?? {}).flatMap(([type, resources]) =>
        Object.entries(resources).map(([id, resource]) => ({ type: `data.${type}`, id, resource })),
      ),
    ];
    for (const { type, id, resource } of instances) {
      const row = table[type];
      if (!row) continue;
      for (const phase of ['read', 'plan', 'create', 'update', 'delete'] as const) {
        for (const call of (phase === 'plan' ? row.plan : row[phase]) ?? []) {
          const { action, on, when, viaService } = targeted(row, call);
          if (when && attribute(resource, when) === undefined) continue;
          const templates = typeof on === 'string' ? [on] : on;
          calls.push({
            address: `${stack} ${type}.${id}`,
            type,
            phase,
            action,
            resources: templates.map((template) => fill(template, resource, stack, resolver, scope)),
            ...(viaService ? { context: { 'kms:ViaService': `${viaService}.${scope.region}.amazonaws.com` } } : {}),
          });
        }
      }
    }
  }
  return calls;
}
