/**
 * A local EventBridge bus: `PutEvents` validated as AWS does, rules matched
 * with the documented pattern syntax, targets delivered at least once with a
 * retry policy and a dead-letter queue, and every event kept for inspection.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { eventTimeMillis, isoUtc } from '../config/time';
import { AWS_LIMITS, enforceBytes } from './aws-limits';
import { RawJson } from './http';
import { JSON_PROTOCOL, optionalString, type JsonService } from './protocols/json';
import { AccessDeniedError, AwsError, DeliveryAbandonedError, TaskError } from './errors';
import { matchesPattern, validatePattern } from './event-pattern';
import type { IamGate, IamRequest, Principal } from './iam';
import { Journal } from './journal';
import { authorizeAll } from './kms';
import { namedResource, type BusEvent, type Integration, type LocalService, type Parts } from './service';
import type { LocalQueue } from './sqs';
import { UnsupportedTerraformError } from './errors';

declare module './service' {
  interface Parts {
    bus: EventBus;
  }
}

/**
 * The EventBridge service: the `aws_cloudwatch_event_bus` is the local bus,
 * `PutEvents` served under the caller's policies. Rules get their targets
 * from `targets.ts`, which binds each `aws_cloudwatch_event_target`.
 */
export const eventBusService: LocalService = {
  name: 'events',
  serves: {
    aws_cloudwatch_event_bus: {
      becomes: 'the local bus',
      attributes: namedResource('events', (name) => `event-bus/${name}`),
    },
    aws_cloudwatch_event_rule: {
      becomes: 'a rule on the bus, with its target',
      attributes: (model, resource) => {
        const { region, account } = model.context;
        const rule = model.string(resource, 'name');
        const bus = (model.field(resource, 'event_bus_name') as string | undefined) ?? 'default';
        const arn = bus === 'default' ? `arn:aws:events:${region}:${account}:rule/${rule}` : `arn:aws:events:${region}:${account}:rule/${bus}/${rule}`;
        return { id: bus === 'default' ? rule : `${bus}/${rule}`, name: rule, arn };
      },
    },
  },
  bind({ model, region, account, endpoint, gate, options, log, use, serve, provide, integrate, page, status, summary, onStart, onIdle }) {
    const { retryDelayMs, dataDir } = options;
    const resource = model.only('aws_cloudwatch_event_bus');
    const keyArn = model.field(resource, 'kms_key_identifier') as string | undefined;
    const deadLetterArn = model.field(resource, 'dead_letter_config', 'arn') as string | undefined;
    const deadLetterQueue = deadLetterArn ? use('sqs').byArn(deadLetterArn) : undefined;
    if (deadLetterArn && !deadLetterQueue)
      throw new UnsupportedTerraformError(resource.address, `dead-letter queue ${deadLetterArn} is not defined in the stacks`);
    const busName = model.attributes(resource).name as string;
    const busArn = model.attributes(resource).arn as string;
    const bus = new EventBus({
      name: busName,
      region,
      account,
      gate,
      ...(keyArn ? { encryption: { keyArn } } : {}),
      ...(deadLetterQueue ? { deadLetter: busDeadLetter(use('sqs'), deadLetterQueue, busArn, account, log) } : {}),
      ...(retryDelayMs !== undefined ? { retryDelayMs: () => retryDelayMs } : {}),
      onDeliveryError: (rule, event, error) => log(`rule ${rule}: delivery of ${event.id} failed: ${(error as Error).message}`),
      ...(dataDir ? { journal: new Journal<BusEntry>(path.join(dataDir, 'bus', 'deliveries.jsonl')) } : {}),
    });
    serve(JSON_PROTOCOL, bus.service());
    provide('bus', bus);
    integrate('events', workflowTasks(bus));
    page('/_local/events', (url) => {
      // Paged on request (?since=<sequence>&limit=<n>); the next page starts after X-Next-Since.
      const since = Number(url.searchParams.get('since') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? Number.MAX_SAFE_INTEGER);
      const events = bus.eventsPage(Number.isFinite(since) ? since : 0, Number.isFinite(limit) && limit > 0 ? limit : Number.MAX_SAFE_INTEGER);
      return new RawJson(events.json, { 'x-next-since': String(events.next) });
    });
    status('eventBus', () => ({ name: bus.name, arn: bus.arn, kept: bus.retained, ...(bus.journal ? { journal: bus.journal } : {}) }));
    summary('event bus', bus.name);
    summary('event bus ARN', bus.arn);
    const retention = bus.retained.retention;
    summary(
      'events',
      `${endpoint}/_local/events (the latest ${retention.maxEvents.toLocaleString('en')} events or ${retention.maxBytes / 1024 / 1024} MiB are kept)`,
    );
    onIdle(async () => {
      await bus.drain();
      return true;
    });
    if (dataDir) {
      onStart(() => {
        const resumed = bus.resumePending();
        if (resumed > 0) log(`bus: ${resumed} accepted events were not yet delivered when the runtime stopped; delivering them now`);
      });
    }
  },
};

/**
 * The workflow's `events:putEvents` Task: one `PutEvents` call as the
 * execution role, authorized as a client's is (once, with every entry's
 * values); failures named as Step Functions names EventBridge's
 * (`EventBridge.FailedEntry` when an entry fails).
 */
function workflowTasks(bus: EventBus): Integration {
  return {
    task: (action, principal) =>
      action !== 'putEvents'
        ? undefined
        : async (input) => {
            const entries = ((input as { Entries?: Record<string, unknown>[] }).Entries ?? []).map((entry) => ({
              ...entry,
              // Step Functions serialises a JSON Detail for the API call.
              Detail: typeof entry.Detail === 'string' ? entry.Detail : JSON.stringify(entry.Detail),
            }));
            let result;
            try {
              await bus.authorizePut(
                principal,
                entries.map((entry) => ({ EventBusName: bus.arn, ...entry })),
              );
              result = bus.putEvents({ Entries: entries });
            } catch (error) {
              if (error instanceof AccessDeniedError)
                throw new TaskError(
                  'EventBridge.AmazonEventBridgeException',
                  `${error.message} (Service: EventBridge, Status Code: 400, Error Code: AccessDeniedException)`,
                  { cause: error },
                );
              throw new TaskError(`EventBridge.${(error as Error).name}`, (error as Error).message, { cause: error });
            }
            if (result.FailedEntryCount > 0) throw new TaskError('EventBridge.FailedEntry', JSON.stringify(result.Entries));
            return result;
          },
  };
}

/** The bus's dead-letter queue, as EventBridge sends to it (the queue policy decides). */
function busDeadLetter(
  sqs: Parts['sqs'],
  queue: LocalQueue,
  busArn: string,
  account: string,
  log: (message: string) => void,
): NonNullable<EventBusOptions['deadLetter']> {
  return async (event, error) => {
    try {
      await sqs.authorize({ kind: 'service', service: 'events.amazonaws.com' }, 'SendMessage', queue.url, {
        'aws:SourceArn': busArn,
        'aws:SourceAccount': account,
      });
    } catch (denied) {
      log(`bus: event ${event.id} is lost: its key refused it and the bus dead-letter queue refused it too: ${(denied as Error).message}`);
      return;
    }
    queue.send(JSON.stringify(event));
    log(`bus: event ${event.id} sent to ${queue.name}: the bus could not encrypt it with its key: ${(error as Error).message}`);
  };
}

/** A bus journal line: a delivery owed to a rule, or its completion (delivered or dead-lettered). */
export type BusEntry =
  { readonly op: 'pending'; readonly rule: string; readonly event: BusEvent } | { readonly op: 'done'; readonly rule: string; readonly id: string };

/** Something a rule delivers to; throwing means the delivery failed. */
type RuleTarget = (event: BusEvent) => Promise<void>;

/** A rule on the bus. */
export interface Rule {
  readonly name: string;
  readonly pattern: unknown;
  readonly target: RuleTarget;
  /** Retries after the first failed delivery. @default 0 */
  readonly maximumRetryAttempts?: number;
  /** Receives the event after the last failed delivery. */
  readonly deadLetter?: (event: BusEvent, error: unknown) => Promise<void>;
}

/** One PutEvents request entry, as the API receives it. */
interface PutEventsEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Time?: unknown;
  Resources?: unknown;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The bus journal is compacted once it grows past this (`EventBusOptions.journalCompactBytes`). */
const DEFAULT_JOURNAL_COMPACT_BYTES = 64 * 1024 * 1024;

function owedKey(rule: string, id: string): string {
  return `${rule}\u0000${id}`;
}

/**
 * Deepest `Detail` the local bus accepts. AWS documents no figure; a deeper
 * document cannot be serialised by the targets without risking the stack, so
 * the entry is refused (`MalformedDetail`) rather than accepted and lost.
 */
const MAX_DETAIL_DEPTH = 100;

/** What the bus keeps for `/_local/events` (oldest dropped first). */
interface EventRetention {
  /** @default 10000 */
  readonly maxEvents: number;
  /** Serialised bytes. @default 64 MiB */
  readonly maxBytes: number;
}

/** Default {@link EventRetention}. */
const DEFAULT_EVENT_RETENTION: EventRetention = { maxEvents: 10_000, maxBytes: 64 * 1024 * 1024 };

/** Options of {@link EventBus}. */
export interface EventBusOptions {
  readonly name: string;
  readonly region: string;
  readonly account: string;
  /** Delay before retry `n` (1-based) of a failed delivery. @default 100 ms × 2^(n-1), at most 5 s */
  readonly retryDelayMs?: (attempt: number) => number;
  /** Called when a delivery fails for good and there is no dead-letter queue. */
  readonly onDeliveryError?: (rule: string, event: BusEvent, error: unknown) => void;
  /** What is kept for inspection. @default {@link DEFAULT_EVENT_RETENTION} */
  readonly retention?: EventRetention;
  /** Keeps accepted events until each rule delivered or dead-lettered them (with `--data`). */
  readonly journal?: Journal<BusEntry>;
  /** The journal is compacted to the deliveries still owed once it grows past this. @default 64 MiB */
  readonly journalCompactBytes?: number;
  /** Authorizes `PutEvents` of roles and client identities; without it, {@link EventBus.authorizePut} refuses. */
  readonly gate?: IamGate;
  /**
   * The bus's customer managed key: EventBridge uses it, as its own service
   * principal under the key policy, to encrypt each event it stores and to
   * decrypt it for pattern matching. An event it cannot encrypt is not
   * delivered: it goes to {@link deadLetter} (the bus's dead-letter queue).
   */
  readonly encryption?: { readonly keyArn: string };
  /** The bus's dead-letter queue: events that met a non-retriable encryption error. */
  readonly deadLetter?: (event: BusEvent, error: unknown) => Promise<void>;
}

/**
 * The KMS requests EventBridge makes for an event on a bus encrypted with a
 * customer managed key: a data key to encrypt it, and a decrypt for pattern
 * matching, as the service principal, with the bus's ARN as encryption context.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-event-bus-cmkey.html
 */
function busKeyRequests(keyArn: string, busArn: string, account: string): IamRequest[] {
  const principal: Principal = { kind: 'service', service: 'events.amazonaws.com' };
  const context = { 'kms:EncryptionContext:aws:events:event-bus:arn': busArn, 'aws:SourceAccount': account, 'aws:SourceArn': busArn };
  return ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({ principal, action, resource: keyArn, context }));
}

/** A kept event and its serialised form. */
interface KeptEvent {
  readonly sequence: number;
  readonly event: BusEvent;
  readonly json: string;
}

/** The local bus. */
/** The members of a PutEvents entry that are strings in the API model (Time is a timestamp, Resources a list). */
const ENTRY_STRING_MEMBERS = ['EventBusName', 'Source', 'DetailType', 'Detail', 'TraceHeader'] as const;

export class EventBus {
  readonly name: string;
  readonly arn: string;
  readonly #options: EventBusOptions;
  readonly #rules: Rule[] = [];
  readonly #events: KeptEvent[] = [];
  #keptBytes = 0;
  #sequence = 0;
  #dropped = 0;
  readonly #deliveries = new Set<Promise<void>>();
  /** Deliveries journaled as owed and not yet done, by rule and event id: what a compaction keeps. */
  readonly #owed = new Map<string, { rule: string; event: BusEvent; bytes: number }>();
  #owedBytes = 0;
  #compactions = 0;
  readonly #listeners = new Set<(event: BusEvent) => void>();

  constructor(options: EventBusOptions) {
    this.#options = options;
    this.name = options.name;
    this.arn = `arn:aws:events:${options.region}:${options.account}:event-bus/${options.name}`;
  }

  /** Adds a rule; its pattern is validated as PutRule would. */
  addRule(rule: Rule): void {
    validatePattern(rule.pattern);
    this.#rules.push(rule);
  }

  /** The kept events, oldest first (see {@link EventRetention}). */
  events(): BusEvent[] {
    return this.#events.map((kept) => kept.event);
  }

  /** How many events are kept, and how many were dropped to stay within the retention. */
  get retained(): { total: number; events: number; bytes: number; dropped: number; retention: EventRetention } {
    return {
      total: this.#sequence,
      events: this.#events.length,
      bytes: this.#keptBytes,
      dropped: this.#dropped,
      retention: this.#options.retention ?? DEFAULT_EVENT_RETENTION,
    };
  }

  /**
   * The kept events after sequence `since` (0: from the oldest), at most
   * `limit`, as one JSON array, and the sequence to ask for next.
   */
  eventsPage(since = 0, limit = Number.MAX_SAFE_INTEGER): { json: string; next: number; count: number } {
    const page = this.#events.filter((kept) => kept.sequence > since).slice(0, limit);
    return {
      json: `[${page.map((kept) => kept.json).join(',')}]`,
      next: page.length > 0 ? (page[page.length - 1] as KeptEvent).sequence : since,
      count: page.length,
    };
  }

  /** Calls `listener` for each new event; returns the unsubscribe function. */
  subscribe(listener: (event: BusEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Resolves once every delivery started so far has finished. */
  async drain(): Promise<void> {
    while (this.#deliveries.size > 0) await Promise.allSettled([...this.#deliveries]);
  }

  /** Whether `nameOrArn` designates this bus. */
  isThisBus(nameOrArn: unknown): boolean {
    return nameOrArn === this.name || nameOrArn === this.arn;
  }

  /** The `PutEvents` operation. */
  putEvents(body: Record<string, unknown>): { FailedEntryCount: number; Entries: EntryResult[] } {
    const entries = body.Entries as (PutEventsEntry | null)[] | undefined;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      throw new AwsError(
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    // A string member of another JSON type (Detail given as an object, Source as a number) fails the
    // whole call at deserialization, as on AWS, naming the entry and the member; read per entry, it was
    // answered "Detail is a required argument", which named the wrong problem.
    entries.forEach((entry, index) => {
      if (typeof entry !== 'object' || entry === null) return;
      for (const member of ENTRY_STRING_MEMBERS) {
        try {
          optionalString(entry, member);
        } catch (error) {
          throw new AwsError('SerializationException', `Entries[${index}].${(error as Error).message}`, 400, { cause: error });
        }
      }
    });
    enforceBytes(
      AWS_LIMITS.putEventsEntries,
      entries.reduce((total, entry) => total + entrySize(entry), 0),
    );
    // Each entry succeeds or fails on its own, as in AWS: one bad entry never fails its neighbours.
    const results = entries.map((entry): EntryResult => {
      try {
        return this.#accept(entry);
      } catch (error) {
        return { ErrorCode: 'InternalFailure', ErrorMessage: `the entry could not be processed: ${(error as Error).message}` };
      }
    });
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  /** Puts one event directly (the workflow's `events:putEvents` integration uses {@link putEvents}). */
  #accept(entry: PutEventsEntry | null): EntryResult {
    if (typeof entry !== 'object' || entry === null) return invalid('Entry', 'Entry must be an object.');
    const busName = optionalString(entry, 'EventBusName');
    if (busName !== undefined && busName !== 'default' && !this.isThisBus(busName)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    }
    if (typeof entry.Source !== 'string' || entry.Source.length === 0) return invalid('Source', 'Source is a required argument.');
    if (typeof entry.DetailType !== 'string' || entry.DetailType.length === 0) {
      return invalid('DetailType', 'DetailType is a required argument.');
    }
    if (typeof entry.Detail !== 'string' || entry.Detail.length === 0) return invalid('Detail', 'Detail is a required argument.');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail);
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    if (clampNumbersAndCheckDepth(detail, MAX_DETAIL_DEPTH)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: `Detail is malformed: it nests deeper than ${MAX_DETAIL_DEPTH} levels.` };
    }
    const time = eventTime(entry.Time);
    if (time === undefined)
      return invalid('Time', 'Time is not a valid timestamp: use epoch seconds or an ISO 8601 date-time such as 2022-10-13T19:00:00Z, in years 0000 to 9999.');
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || resources.some((resource) => typeof resource !== 'string')) {
      return invalid('Resources', 'Resources must be a list of strings.');
    }
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.#options.account,
      time,
      region: this.#options.region,
      resources: resources as string[],
      detail: detail as Record<string, unknown>,
    };
    // Events on the account's default bus have no rules here; only this bus is kept.
    if (busName === undefined || busName === 'default') return { EventId: event.id };
    this.#keep(event);
    for (const listener of this.#listeners) listener(event);
    // Stored under the bus key before any rule sees it; deliveries wait for it, and none happens when it fails.
    const sealed = this.#seal(event);
    const matching = this.#rules.filter((rule) => matchesPattern(rule.pattern, event));
    // Journaled before PutEvents answers: an accepted event is never lost.
    if (this.#options.journal) {
      for (const rule of matching) {
        const bytes = this.#options.journal.append({ op: 'pending', rule: rule.name, event });
        this.#owed.set(owedKey(rule.name, event.id), { rule: rule.name, event, bytes });
        this.#owedBytes += bytes;
      }
    }
    for (const rule of matching) this.#track(this.#deliverOnce(rule, event, sealed));
    if (matching.length === 0) this.#track(sealed.then(() => undefined));
    return { EventId: event.id };
  }

  /**
   * Encrypts an event with the bus key, as EventBridge does once it accepted
   * it: resolves true, or false when EventBridge may not use the key (the event
   * then goes to the bus's dead-letter queue, or is lost without one).
   */
  async #seal(event: BusEvent): Promise<boolean> {
    const encryption = this.#options.encryption;
    if (!encryption) return true;
    // Asynchronous, as in the cloud: PutEvents has answered before.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      await authorizeAll(this.#options.gate, busKeyRequests(encryption.keyArn, this.arn, this.#options.account));
      return true;
    } catch (error) {
      try {
        if (this.#options.deadLetter) await this.#options.deadLetter(event, error);
        else this.#options.onDeliveryError?.('(bus encryption)', event, error);
      } catch (deadLetterError) {
        this.#options.onDeliveryError?.('(bus encryption)', event, deadLetterError);
      }
      return false;
    }
  }

  #keep(event: BusEvent): void {
    const json = JSON.stringify(event);
    this.#events.push({ sequence: ++this.#sequence, event, json });
    this.#keptBytes += json.length;
    const retention = this.#options.retention ?? DEFAULT_EVENT_RETENTION;
    while (this.#events.length > retention.maxEvents || (this.#keptBytes > retention.maxBytes && this.#events.length > 1)) {
      const dropped = this.#events.shift() as KeptEvent;
      this.#keptBytes -= dropped.json.length;
      this.#dropped++;
    }
  }

  #track(delivery: Promise<void>): void {
    this.#deliveries.add(delivery);
    void delivery.finally(() => this.#deliveries.delete(delivery));
  }

  /**
   * Re-delivers what the journal says was accepted but never delivered nor
   * dead-lettered (the process died first), then compacts the journal.
   * Returns how many deliveries resumed.
   */
  resumePending(): number {
    const journal = this.#options.journal;
    if (!journal) return 0;
    for (const entry of journal.entries()) {
      if (entry.op === 'done') {
        this.#forget(entry.rule, entry.id);
        continue;
      }
      const bytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
      this.#forget(entry.rule, entry.event.id);
      this.#owed.set(owedKey(entry.rule, entry.event.id), { rule: entry.rule, event: entry.event, bytes });
      this.#owedBytes += bytes;
    }
    this.#compact(journal);
    let resumed = 0;
    for (const { rule: name, event } of [...this.#owed.values()]) {
      const rule = this.#rules.find((candidate) => candidate.name === name);
      if (!rule) continue;
      this.#keep(event);
      this.#track(this.#deliverOnce(rule, event));
      resumed++;
    }
    return resumed;
  }

  async #deliverOnce(rule: Rule, event: BusEvent, sealed: Promise<boolean> = Promise.resolve(true)): Promise<void> {
    // A delivery the runtime's stop abandoned stays owed: the next start on the same data makes it.
    if ((await sealed) && !(await this.#deliver(rule, event))) return;
    const journal = this.#options.journal;
    if (!journal) return;
    journal.append({ op: 'done', rule: rule.name, id: event.id });
    this.#forget(rule.name, event.id);
    // Compacted while running, to what is still owed, once at least half the journal is done
    // deliveries: a rewrite then costs at most what was appended since the last one (linear).
    if (journal.bytes > Math.max(this.#options.journalCompactBytes ?? DEFAULT_JOURNAL_COMPACT_BYTES, 2 * this.#owedBytes)) {
      this.#compact(journal);
      this.#compactions++;
    }
  }

  /** A delivery is no longer owed. */
  #forget(rule: string, id: string): void {
    const key = owedKey(rule, id);
    this.#owedBytes -= this.#owed.get(key)?.bytes ?? 0;
    this.#owed.delete(key);
  }

  /** Rewrites the journal to the deliveries still owed. */
  #compact(journal: Journal<BusEntry>): void {
    journal.rewrite([...this.#owed.values()].map(({ rule, event }): BusEntry => ({ op: 'pending', rule, event })));
  }

  /** The journal's size and how often it was compacted (`/_local/status`). */
  get journal(): { bytes: number; owed: number; compactions: number } | undefined {
    const journal = this.#options.journal;
    return journal ? { bytes: journal.bytes, owed: this.#owed.size, compactions: this.#compactions } : undefined;
  }

  /** Delivers with the rule's retries, then to its dead-letter queue; false when the runtime's stop abandoned the delivery. */
  async #deliver(rule: Rule, event: BusEvent): Promise<boolean> {
    const retries = rule.maximumRetryAttempts ?? 0;
    const delay = this.#options.retryDelayMs ?? ((attempt: number) => Math.min(100 * 2 ** (attempt - 1), 5_000));
    // Asynchronous, as in the cloud: PutEvents answers before any target runs.
    await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 0; ; attempt++) {
      try {
        await rule.target(event);
        return true;
      } catch (error) {
        if (error instanceof DeliveryAbandonedError) return false;
        if (attempt >= retries) {
          try {
            if (rule.deadLetter) await rule.deadLetter(event, error);
            else this.#options.onDeliveryError?.(rule.name, event, error);
          } catch (deadLetterError) {
            this.#options.onDeliveryError?.(rule.name, event, deadLetterError);
          }
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, delay(attempt + 1)));
      }
    }
  }

  /** Authorizes one `PutEvents` call: once per bus it names, with every entry's values, so a denied call delivers nothing. */
  authorizePut(principal: Principal, entries: readonly unknown[]): Promise<void> {
    if (principal.kind === 'account') return Promise.resolve();
    return authorizeAll(this.#options.gate, putEventsRequests(principal, entries, this.#options.region, this.#options.account));
  }

  /** This bus as an AWS JSON service (`AWSEvents.*`). */
  service(): JsonService {
    return {
      targetPrefix: 'AWSEvents',
      jsonVersion: '1.1',
      operations: { PutEvents: (body) => this.putEvents(body) },
      authorize: (principal, _operation, body) => this.authorizePut(principal, Array.isArray(body.Entries) ? (body.Entries as unknown[]) : []),
    };
  }
}

/**
 * The IAM requests of one `PutEvents` call: one per bus it names, each with
 * the values of all that bus's entries in the multivalued keys
 * `events:source` and `events:detail-type`, as EventBridge authorizes a call.
 */
function putEventsRequests(principal: Principal, entries: readonly unknown[], region: string, account: string): IamRequest[] {
  const byBus = new Map<string, { sources: Set<string>; detailTypes: Set<string> }>();
  for (const entry of entries) {
    const fields = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const name = optionalString(fields, 'EventBusName') ?? 'default';
    const bus = name.startsWith('arn:') ? name : `arn:aws:events:${region}:${account}:event-bus/${name}`;
    const values = byBus.get(bus) ?? { sources: new Set<string>(), detailTypes: new Set<string>() };
    if (typeof fields.Source === 'string') values.sources.add(fields.Source);
    if (typeof fields.DetailType === 'string') values.detailTypes.add(fields.DetailType);
    byBus.set(bus, values);
  }
  return [...byBus].map(([resource, values]) => ({
    principal,
    action: 'events:PutEvents',
    resource,
    // A key with no value is absent, as in AWS (the policies' Null guard then refuses).
    context: {
      ...(values.sources.size > 0 ? { 'events:source': [...values.sources] } : {}),
      ...(values.detailTypes.size > 0 ? { 'events:detail-type': [...values.detailTypes] } : {}),
    },
  }));
}

function invalid(parameter: string, reason: string): EntryResult {
  return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${parameter} is not valid. Reason: ${reason}` };
}

/**
 * Whether a parsed JSON value nests deeper than `limit` (iterative: no
 * recursion to overflow). On the way, numbers beyond the double range (JSON
 * allows `1e400`; JavaScript reads it as Infinity, which serialises as null)
 * become ±Number.MAX_VALUE, so every later hop still sees a number out of any
 * range rather than a missing value. EventBridge keeps the text; this is the
 * closest a JavaScript runtime gets.
 */
function clampNumbersAndCheckDepth(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    if (depth > limit) return true;
    const container = current as Record<string, unknown>;
    for (const key of Object.keys(container)) {
      const child = container[key];
      if (typeof child === 'number' && !Number.isFinite(child)) container[key] = child > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
      else stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * `Time` as SDKs send it (epoch seconds) or a strict ISO 8601 date-time, in
 * years 0000-9999 (see config/time.ts, where the pipeline decides
 * which instants it takes); AWS keeps whole seconds. Anything else, an
 * impossible date such as 2022-02-30 included, is refused, never rolled over.
 */
function eventTime(value: unknown): string | undefined {
  const millis = eventTimeMillis(value);
  return millis === undefined ? undefined : isoUtc(Math.floor(millis / 1000) * 1000).replace('.000Z', 'Z');
}

/** An entry's size as AWS counts it: 14 bytes of time plus the UTF-8 bytes of its strings. */
function entrySize(entry: PutEventsEntry | null): number {
  if (typeof entry !== 'object' || entry === null) return 0;
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time !== undefined ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += bytes(resource);
  return size;
}
