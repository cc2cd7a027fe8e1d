/**
 * The IAM gate: every call a function, the state machine, a rule target or
 * the stream mapping makes is evaluated against the synthesized policies of
 * the principal AWS would use, with a real IAM evaluator
 * (`@cloud-copilot/iam-simulate`, AGPL-3.0: a devDependency of the local
 * runtime only, never bundled into a Lambda). Resource policies count where AWS
 * consults them: key policies for KMS, queue policies for SQS, the log
 * resource policy for CloudWatch Logs.
 *
 * Decisions are cached: the policies do not change while the runtime runs
 * (the mutation test swaps them through {@link IamGate.replacePolicies}, which
 * clears the cache).
 */
import { createHash } from 'node:crypto';
import { getDenialReasons, runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { AccessDeniedError, type Denial } from './errors';

/** Who makes a call. */
export type Principal =
  /** A role's session: a function, the state machine, a rule target, the stream mapping. */
  | { readonly kind: 'role'; readonly arn: string }
  /** An AWS service acting under a resource policy (EventBridge to a DLQ or a log group, Logs to a key). */
  | { readonly kind: 'service'; readonly service: string }
  /** Anyone else on the endpoint (the CLI, tests): the account's administrator, not checked. */
  | { readonly kind: 'account' };

/** One IAM request. */
export interface IamRequest {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  /** Request context keys (`kms:ViaService`, `aws:SourceArn`, `events:detail-type`, ...). */
  readonly context?: Readonly<Record<string, string | string[]>>;
  /**
   * The VPC endpoint the call goes through (its id), when the caller runs in
   * a VPC whose route reaches the service through one: its policy must allow
   * the call too, and the request carries `aws:SourceVpce`.
   */
  readonly viaEndpoint?: string;
}

/** A policy document as JSON: `Statement` is one statement or a list of them. */
export type PolicyDocument = { Version?: string; Statement: unknown };

/** The synthesized policies the gate evaluates. */
export interface PolicySet {
  /** Identity policies of each role, by role ARN. */
  readonly identity: ReadonlyMap<string, readonly { readonly name: string; readonly document: PolicyDocument }[]>;
  /** Trust policies, by role ARN. */
  readonly trust: ReadonlyMap<string, PolicyDocument>;
  /** Resource policies by resource ARN: key policies, queue policies, topic policies. */
  readonly resource: ReadonlyMap<string, PolicyDocument>;
  /** Resource policies that apply to every resource matching a prefix (CloudWatch Logs account-level policies). */
  readonly prefixed: readonly { readonly prefix: string; readonly document: PolicyDocument }[];
  /** VPC endpoint policies, by endpoint id (an endpoint without one allows everything, as AWS's default policy does). */
  readonly endpoints?: ReadonlyMap<string, PolicyDocument>;
}

/**
 * One policy the stacks define, with where it comes from (the mutation test
 * removes its statements one by one). Each service gives the policies of its
 * own resources (`LocalService.policies`); the gate evaluates them all.
 */
export interface SynthesizedPolicy {
  /** The Terraform address it was read from. */
  readonly address: string;
  /**
   * How the gate applies it: an identity policy of the role or client
   * identity `target`; the trust policy of the role `target`; the resource
   * policy of the resource `target` (a key, a queue, a topic); or the
   * resource policy of every resource whose ARN starts with `target` (the
   * CloudWatch Logs account-level policies, `arn:aws:logs:`); or the policy
   * of the VPC endpoint whose id is `target`.
   */
  readonly kind: 'identity' | 'trust' | 'resource' | 'prefix' | 'endpoint';
  readonly target: string;
  readonly document: PolicyDocument;
}

/** A policy document from the JSON text of a Terraform field, or an error naming the address. */
export function parsePolicy(address: string, text: unknown): PolicyDocument {
  if (typeof text !== 'string') throw new Error(`${address}: the policy is not a JSON string`);
  return JSON.parse(text) as PolicyDocument;
}

/** The gate's view of a list of policies (the statements of several policies of one target, merged). */
export function policySet(policies: readonly SynthesizedPolicy[]): PolicySet {
  const identity = new Map<string, { name: string; document: PolicyDocument }[]>();
  const trust = new Map<string, PolicyDocument>();
  const resource = new Map<string, PolicyDocument>();
  const prefixed = new Map<string, unknown[]>();
  const endpoints = new Map<string, PolicyDocument>();
  const merged = (earlier: PolicyDocument | undefined, document: PolicyDocument): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: [...statements(earlier), ...statements(document)],
  });
  for (const policy of policies) {
    if (policy.kind === 'identity') identity.set(policy.target, [...(identity.get(policy.target) ?? []), { name: policy.address, document: policy.document }]);
    else if (policy.kind === 'trust') trust.set(policy.target, policy.document);
    else if (policy.kind === 'prefix') prefixed.set(policy.target, [...(prefixed.get(policy.target) ?? []), ...statements(policy.document)]);
    else if (policy.kind === 'endpoint') endpoints.set(policy.target, policy.document);
    else resource.set(policy.target, merged(resource.get(policy.target), policy.document));
  }
  return {
    identity,
    trust,
    resource,
    endpoints,
    prefixed: [...prefixed].map(([prefix, found]) => ({ prefix, document: { Version: '2012-10-17', Statement: found } })),
  };
}

/** The statements of a document, as a list. */
export function statements(document: PolicyDocument | undefined): unknown[] {
  if (!document) return [];
  return Array.isArray(document.Statement) ? document.Statement : [document.Statement];
}

/**
 * Enforcement mode: `enforce` refuses, `warn` only records and logs, `off`
 * evaluates nothing (the benchmark's baseline).
 */
export type IamMode = 'enforce' | 'warn' | 'off';

/** Options of {@link IamGate}. */
export interface IamGateOptions {
  readonly account: string;
  readonly mode: IamMode;
  readonly policies: PolicySet;
  readonly log?: (message: string) => void;
}

/** Denials kept for `/_local/denials`. */
const MAX_DENIALS = 1_000;

/** The gate. */
export class IamGate {
  readonly mode: IamMode;
  readonly #account: string;
  readonly #log: ((message: string) => void) | undefined;
  #policies: PolicySet;
  readonly #cache = new Map<string, Promise<string | undefined>>();
  #fingerprints = new WeakMap<object, string>();
  readonly #denials: Denial[] = [];
  #evaluations = 0;

  constructor(options: IamGateOptions) {
    this.mode = options.mode;
    this.#account = options.account;
    this.#policies = options.policies;
    this.#log = options.log;
  }

  /** Denials so far, oldest first. */
  denials(): readonly Denial[] {
    return this.#denials;
  }

  /** Forgets the denials (the mutation test, between runs). */
  clearDenials(): void {
    this.#denials.length = 0;
  }

  /** Simulations run (cache misses). */
  get evaluations(): number {
    return this.#evaluations;
  }

  /** The policies in force. */
  get policies(): PolicySet {
    return this.#policies;
  }

  /**
   * Swaps the policies. Cached decisions stay valid: each is keyed by the
   * policies it was evaluated against, so only requests whose policies
   * changed are evaluated again.
   */
  replacePolicies(policies: PolicySet): void {
    this.#policies = policies;
    this.#fingerprints = new WeakMap();
  }

  /** A short identity of a policy list, computed once per policy set. */
  #fingerprint(documents: unknown): string {
    if (documents === undefined) return '-';
    const key = documents as object;
    let fingerprint = this.#fingerprints.get(key);
    if (fingerprint === undefined) {
      fingerprint = createHash('sha1').update(JSON.stringify(documents)).digest('base64');
      this.#fingerprints.set(key, fingerprint);
    }
    return fingerprint;
  }

  /**
   * Checks one request. Resolves when allowed; otherwise records the denial
   * and, when enforcing, throws {@link AccessDeniedError}.
   */
  async authorize(request: IamRequest): Promise<void> {
    if (request.principal.kind === 'account' || this.mode === 'off') return;
    const identity = request.principal.kind === 'role' ? this.#policies.identity.get(request.principal.arn) : undefined;
    const resourcePolicy = this.#resourcePolicy(request.action, request.resource, request.principal);
    const endpointPolicy = request.viaEndpoint === undefined ? undefined : this.#policies.endpoints?.get(request.viaEndpoint);
    const key = JSON.stringify([
      request.principal,
      request.action,
      request.resource,
      request.context ?? {},
      request.viaEndpoint ?? '',
      this.#fingerprint(identity),
      this.#fingerprint(resourcePolicy),
      this.#fingerprint(endpointPolicy),
    ]);
    let decision = this.#cache.get(key);
    if (!decision) {
      decision = this.#evaluate(request);
      this.#cache.set(key, decision);
    }
    const missing = await decision;
    if (missing === undefined) return;
    const denial: Denial = {
      time: new Date().toISOString(),
      principal: request.principal.kind === 'role' ? request.principal.arn : request.principal.service,
      action: request.action,
      resource: request.resource,
      context: { ...(request.context ?? {}), ...(request.viaEndpoint !== undefined ? { 'aws:SourceVpce': request.viaEndpoint } : {}) },
      missing,
    };
    this.#denials.push(denial);
    if (this.#denials.length > MAX_DENIALS) this.#denials.shift();
    if (this.mode === 'warn') {
      this.#log?.(`IAM (warn): ${denial.principal} may not ${denial.action} on ${denial.resource}: ${missing}`);
      return;
    }
    throw new AccessDeniedError(denial);
  }

  /** Whether a request would be allowed, without recording anything. */
  async allows(request: IamRequest): Promise<boolean> {
    if (request.principal.kind === 'account') return true;
    return (await this.#evaluate(request)) === undefined;
  }

  /** Runs the simulation; resolves with what is missing, or undefined when allowed. */
  async #evaluate(request: IamRequest): Promise<string | undefined> {
    this.#evaluations++;
    const { principal, action, resource } = request;
    const identity = principal.kind === 'role' ? (this.#policies.identity.get(principal.arn) ?? []) : [];
    const resourcePolicy = this.#resourcePolicy(action, resource, principal);
    const endpointPolicy = request.viaEndpoint === undefined ? undefined : this.#policies.endpoints?.get(request.viaEndpoint);
    const simulation: Simulation = {
      identityPolicies: identity.map((policy) => ({ name: policy.name, policy: spellEncryptionContext(policy.document) })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy: spellEncryptionContext(resourcePolicy) } : {}),
      ...(endpointPolicy ? { vpcEndpointPolicies: [{ name: `endpoint ${request.viaEndpoint}`, policy: spellEncryptionContext(endpointPolicy) }] } : {}),
      request: {
        action,
        principal: principal.kind === 'role' ? principal.arn : (principal as { service: string }).service,
        resource: { accountId: this.#account, resource },
        contextVariables: spellContextKeys({
          ...(principal.kind === 'role' ? { 'aws:PrincipalArn': principal.arn, 'aws:PrincipalAccount': this.#account } : {}),
          ...(request.viaEndpoint !== undefined ? { 'aws:SourceVpce': request.viaEndpoint } : {}),
          ...request.context,
        }),
      },
    };
    const result = await runSimulation(simulation, {});
    if (result.resultType === 'error') return `the simulation refused the request: ${result.errors.message}`;
    if (result.overallResult === 'Allowed') return undefined;
    const analysis = result.resultType === 'single' ? result.result.analysis : undefined;
    const reasons = analysis ? getDenialReasons(analysis) : [];
    const explained = reasons.map((reason) => {
      const named = 'identifier' in reason ? reason.identifier : 'policyIdentifier' in reason ? reason.policyIdentifier : undefined;
      return `${reason.denialType.toLowerCase()} deny by the ${reason.policyType} policy${named ? ` ${named}` : ''}`;
    });
    const where =
      principal.kind === 'role'
        ? `no statement of ${principal.arn}'s policies`
        : `no statement of the resource policy for ${(principal as { service: string }).service}`;
    const endpoint = endpointPolicy ? ` and the policy of VPC endpoint ${request.viaEndpoint}` : '';
    return `${where}${endpoint} allows it${resourcePolicy && action.startsWith('kms:') ? ' together with the key policy' : ''} (${explained.join('; ') || result.overallResult})`;
  }

  #resourcePolicy(action: string, resource: string, principal: Principal): PolicyDocument | undefined {
    // A service assuming a role is checked against the role's trust policy.
    if (action === 'sts:AssumeRole') return this.#policies.trust.get(resource) ?? { Version: '2012-10-17', Statement: [] };
    const exact = this.#policies.resource.get(resource);
    if (exact) return exact;
    for (const { prefix, document } of this.#policies.prefixed) if (resource.startsWith(prefix)) return document;
    // A key without a policy trusts nobody; a service principal needs a resource policy.
    if (action.startsWith('kms:') || principal.kind === 'service') return { Version: '2012-10-17', Statement: [] };
    return undefined;
  }
}

/**
 * `kms:EncryptionContext:<key>` (a condition key whose variable part follows a
 * colon) as the evaluator can match it. iam-simulate 0.1.173 recognizes a
 * variable condition key in a request only when its variable follows a `/`
 * (`aws:ResourceTag/<tag>`), so it drops `kms:EncryptionContext:<key>` from
 * every request and a condition on it never matches. The gate spells it
 * `aws:ResourceTag/kms:EncryptionContext:<key>` on both sides, in the policies
 * and in the request: a String key the evaluator compares the same way.
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context
 */
const ENCRYPTION_CONTEXT_KEY = /^kms:encryptioncontext:(?!keys$)/i;
const ENCRYPTION_CONTEXT_SPELLING = 'aws:ResourceTag/';

function spellContextKeys<T>(values: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [ENCRYPTION_CONTEXT_KEY.test(key) ? `${ENCRYPTION_CONTEXT_SPELLING}${key}` : key, value]),
  );
}

/** A policy document with each `kms:EncryptionContext:<key>` condition key spelled as {@link spellContextKeys} spells it. */
function spellEncryptionContext(document: PolicyDocument): PolicyDocument {
  const list: unknown[] = Array.isArray(document.Statement) ? (document.Statement as unknown[]) : [document.Statement];
  if (!JSON.stringify(list).toLowerCase().includes('kms:encryptioncontext:')) return document;
  return {
    ...document,
    Statement: list.map((statement) => {
      const condition = (statement as { Condition?: Record<string, Record<string, unknown>> }).Condition;
      if (!condition) return statement;
      return {
        ...(statement as object),
        Condition: Object.fromEntries(Object.entries(condition).map(([operator, keys]) => [operator, spellContextKeys(keys)])),
      };
    }),
  };
}
