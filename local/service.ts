/**
 * What a local service is, and the types the services share (this module
 * imports no service). Each `local/<service>.ts` exports one
 * {@link LocalService}: the Terraform resource types it serves (with the
 * attributes a resource of each type has locally), and a `bind` that builds
 * the service from the Terraform model and plugs it into the runtime through
 * a {@link Binding}: its API on the endpoint, in the {@link Protocol} its AWS
 * service speaks (with its own authorization through the IAM gate), its
 * `/_local/*` pages, its part of the status, and what it shares with the
 * services bound after it ({@link Parts}).
 *
 * `services.ts` lists them in binding order; `runtime.ts` binds them in turn.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { IamGate, IamMode, Principal, SynthesizedPolicy } from './iam';
import type { LockHolder } from './read-model-owner';
import type { RoleSessions } from './sessions';
import type { StatementRelay } from './statement-relay';
import type { ServedType, TerraformModel, TerraformResource } from './terraform';

export type { ServedType } from './terraform';

/** Options of `LocalRuntime.start`. */
export interface LocalRuntimeOptions {
  /** TCP port of the endpoint; 0 picks a free one. @default 4566 */
  readonly port?: number;
  /** Interface to listen on. @default 127.0.0.1 */
  readonly host?: string;
  /** `DB_URL`; the default server is used, or a private one started, when omitted. */
  readonly dbUrl?: string;
  /** The server used when {@link dbUrl} is omitted. @default mysql://root@127.0.0.1:3306/orders */
  readonly defaultDbUrl?: string;
  /** Folder that keeps DynamoDB tables between runs; in memory when omitted. */
  readonly dataDir?: string;
  /**
   * Let the runtime own a database it did not make (other tables, a read model
   * with no owner recorded, or another runtime's): it drops and makes again
   * the read model's tables there and leaves any other table alone. Never
   * overrides the lock of a running runtime. @default false
   */
  readonly takeOver?: boolean;
  /** Where the handler bundles are (the stacks zip them). @default dist/ */
  readonly distDir?: string;
  /** Retry delays (ms) of the bus target, stream mapping and workflow; tests shorten them. */
  readonly retryDelayMs?: number;
  /** How long a stop waits for work under way before it abandons what still runs (ms); tests shorten it. @default 10000 */
  readonly stopDrainMs?: number;
  /** `enforce` (default) refuses what the synthesized IAM does not allow; `warn` only logs; `off` checks nothing. */
  readonly iam?: IamMode;
  /** Print every line the functions log (their log groups). @default false */
  readonly functionLogs?: boolean;
  /** The functions' application log level, as Lambda's logging controls set it; implies {@link functionLogs}. */
  readonly functionLogLevel?: string;
  /** Where the runtime's own messages go. @default stderr */
  readonly log?: (message: string) => void;
}

/**
 * The attributes of a resource known by its name (`name`, or `field`): its id
 * and name are the name, its ARN is `arn:aws:<service>:<region>:<account>:<path(name)>`.
 */
export function namedResource(service: string, path: (name: string) => string, field = 'name'): NonNullable<ServedType['attributes']> {
  return (model, resource) => {
    const name = model.string(resource, field);
    return { id: name, name, arn: `arn:aws:${service}:${model.context.region}:${model.context.account}:${path(name)}` };
  };
}

/**
 * What services share, by name: each service file adds its own entry
 * (`declare module './service' { interface Parts { … } }`), and provides it
 * when it binds; later services read it with {@link Binding.use}.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: each service file adds its members by declaration merging.
export interface Parts {}

/** One request to the endpoint, and who makes it (from the access key id it is signed with). */
export interface Call {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly url: URL;
  readonly principal: Principal;
}

/**
 * An AWS wire protocol (`local/protocols/`): which requests are in it, and
 * how a call of one of the APIs served with it is read, authorized through
 * the API, answered, and refused, all in the protocol's own shapes. `Api` is
 * what a service gives to be served with it.
 */
export interface Protocol<Api> {
  readonly name: string;
  /**
   * Serves `call` when it is in this protocol and answers it among `apis`
   * (errors included, in the protocol's shape); resolves false, having read
   * and written nothing, when the request is not this protocol's.
   */
  serve(call: Call, apis: readonly Api[]): Promise<boolean>;
}

/** A reachable read-model server (`mysql.ts` opens it before any service binds: the cluster's attributes resolve to it). */
export interface ReadModelServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly version: string;
  /** Whether this is a private instance started for this run. */
  readonly embedded: boolean;
  /** The URL to show (no password). */
  readonly displayUrl: string;
  /** This runtime, as the holder of the database's lock. */
  readonly holder: LockHolder;
  /** Why the lock is not held right now (its server connection was lost), if it is not. */
  readonly lockLost: string | undefined;
  /**
   * Where the functions reach the server (the cluster's endpoint and port): a
   * relay that counts each database user's statements. The runtime's own
   * connections (the lock, the console's reads) go to the server directly.
   */
  readonly relay: StatementRelay;
  /** Releases the lock, closes the relay and stops a private instance. */
  stop(): Promise<void>;
}

/** The EventBridge envelope delivered to targets. */
export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: Record<string, unknown>;
}

/** A JSON value a workflow Task takes and returns. */
export type TaskHandler = (input: unknown) => Promise<unknown>;

/** EventBridge, as the principal of what it does under a resource policy (a log group's, a queue's, a topic's). */
export const EVENTBRIDGE: Principal = { kind: 'service', service: 'events.amazonaws.com' };

/** An `aws_cloudwatch_event_target`, as the integration of its ARN's service sees it. */
export interface RuleTarget {
  readonly resource: TerraformResource;
  /** The ARN of what the rule delivers to. */
  readonly arn: string;
  readonly ruleName: string;
  readonly ruleArn: string;
}

/**
 * How a service is called by another on AWS's side, under the principal AWS
 * uses: as an EventBridge rule's target, as a workflow's Task. One map holds
 * them ({@link Binding.integrate}), keyed by the service in the ARN of what is
 * called (`arn:aws:<service>:…`; a Task's `arn:aws:states:::<service>:<action>`),
 * and each service registers its own, with its own authorization and the
 * error names its caller reads.
 */
export interface Integration {
  /**
   * The delivery of a rule's events to `target.arn`, as EventBridge makes it;
   * built once per target at start (a resource the stacks do not define stops
   * the start). A rejection is a failed delivery: the rule retries, then
   * dead-letters.
   */
  readonly target?: (target: RuleTarget) => (event: BusEvent) => Promise<void>;
  /**
   * The handler of the Task `arn:aws:states:::<service>:<action>`, called as
   * `principal` (the execution role), or undefined when the action is not
   * served. It fails with a `TaskError` named as Step Functions names the
   * failure, which the definition's Retry and Catch match.
   */
  readonly task?: (action: string, principal: Principal) => TaskHandler | undefined;
}

/** What a service binds itself with. */
export interface Binding {
  readonly model: TerraformModel;
  readonly region: string;
  readonly account: string;
  /** The local endpoint's URL: the functions' SDK clients are pointed at it. */
  readonly endpoint: string;
  /** Every call a service serves or makes is authorized through it. */
  readonly gate: IamGate;
  /** The policies the gate evaluates, as synthesized. */
  readonly policies: readonly SynthesizedPolicy[];
  /** The role sessions: the access key id a caller signs with names its principal. */
  readonly sessions: RoleSessions;
  /** The MySQL server behind `aws_rds_cluster`. */
  readonly database: ReadModelServer;
  /** The runtime's options, as `LocalRuntime.start` was given them. */
  readonly options: LocalRuntimeOptions;
  /** Writes a runtime message (redacted and escaped at the sink). */
  readonly log: (message: string) => void;
  /** A part a service earlier in the list provided. */
  readonly use: <K extends keyof Parts>(part: K) => Parts[K];
  readonly provide: <K extends keyof Parts>(part: K, value: Parts[K]) => void;
  /** Serves an API on the endpoint with the protocol its AWS service speaks (`JSON_PROTOCOL`, `REST_JSON_PROTOCOL`, `QUERY_PROTOCOL`). */
  readonly serve: <Api>(protocol: Protocol<Api>, api: Api) => void;
  /** Registers how other services call this one (rule targets, workflow Tasks), under the service name of its ARNs (`lambda`, `states`). */
  readonly integrate: (service: string, integration: Integration) => void;
  /** The integrations registered so far, by service: the one map rule targets and workflow Tasks dispatch through. */
  readonly integrations: ReadonlyMap<string, Integration>;
  /** A `GET /_local/…` page answered with JSON (or a file). */
  readonly page: (path: string, handler: (url: URL) => unknown) => void;
  /** A long-lived `GET` (server-sent events). */
  readonly stream: (path: string, handler: (request: IncomingMessage, response: ServerResponse) => void) => void;
  /** This service's entry in `GET /_local/status`. */
  readonly status: (key: string, value: () => unknown) => void;
  /** A line of what `npm start` prints. */
  readonly summary: (label: string, value: string) => void;
  /** Checks AWS makes when the resource is created (trust policies); run at start and by `checkCreation()`. */
  readonly creationCheck: (check: () => Promise<void>) => void;
  /** Checks that a service principal may assume a role (its trust policy), as AWS does. */
  readonly assumeRole: (service: string, roleArn: string, context?: Record<string, string>) => Promise<void>;
  /** Runs once every service is bound, in list order (schema trigger, recovery, polling). */
  readonly onStart: (hook: () => Promise<void> | void) => void;
  /** Runs at stop, in reverse order of registration. */
  readonly onStop: (cleanup: () => Promise<unknown>) => void;
  /** Whether this service has nothing in flight; awaited until every service says so (`idle()`). */
  readonly onIdle: (settled: (remainingMs: number) => Promise<boolean>) => void;
}

/** A local service. */
export interface LocalService {
  readonly name: string;
  readonly serves: Readonly<Record<string, ServedType>>;
  /**
   * The synthesized policies this service owns (its resources' policies: a
   * queue's, a topic's, the log groups'; IAM's roles and keys), read before
   * any service binds: the IAM gate evaluates every service's.
   */
  readonly policies?: (model: TerraformModel) => SynthesizedPolicy[];
  bind(binding: Binding): Promise<void> | void;
}
