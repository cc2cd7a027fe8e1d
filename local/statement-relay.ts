/**
 * The read model's endpoint as the functions reach it: a TCP relay in front
 * of the MySQL server (the `aws_rds_cluster`'s `endpoint` and `port` resolve
 * to it) that passes every byte through unchanged and counts, per database
 * user, the statements the clients send. The console shows a projected
 * batch's own statements from it: the server's global `Questions` counter
 * also takes every other client's (the runtime's own reads included), so a
 * one-record batch read 7 to 70 there instead of 6.
 *
 * What it reads of the MySQL client/server protocol
 * (https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html):
 * packets are a 3-byte little-endian payload length, a sequence id, then the
 * payload; the server's greeting gives its capabilities; the client's first
 * packet (sequence 1) is its handshake response, with its capabilities and,
 * after 32 bytes, the user name; the capabilities both sides have are the
 * connection's (with query attributes, a `COM_QUERY` carries their count
 * before its text); a command is a packet of sequence 0 whose first byte is
 * the command (`COM_QUERY` 0x03, `COM_STMT_EXECUTE` 0x17, the two the server
 * counts as statements; `COM_CHANGE_USER` 0x11 switches the user). A
 * connection that turns to TLS or compression is relayed but no longer read
 * (the local environment's database takes plain connections).
 */
import { createServer, connect as connectTcp, type AddressInfo, type Server, type Socket } from 'node:net';

/** What one database user's connections sent through the relay so far. */
export interface StatementTally {
  /** Statements: `COM_QUERY` and `COM_STMT_EXECUTE` commands. */
  readonly statements: number;
  /** Of those, the ones from `START TRANSACTION` (or `BEGIN`) to `COMMIT` or `ROLLBACK`, both included. */
  readonly inTransaction: number;
  /** Transactions started. */
  readonly transactions: number;
  /** Connections opened. */
  readonly connections: number;
}

const COM_QUERY = 0x03;
const COM_STMT_EXECUTE = 0x17;
const COM_CHANGE_USER = 0x11;
const CLIENT_COMPRESS = 0x20;
const CLIENT_PROTOCOL_41 = 0x200;
const CLIENT_SSL = 0x800;
const CLIENT_QUERY_ATTRIBUTES = 0x0800_0000;
/** Bytes of a packet's payload kept to read it: the handshake's user name, or the start of a statement. */
const HEAD_BYTES = 160;

/** A relay listening on 127.0.0.1 in front of `upstream`. */
export class StatementRelay {
  readonly host = '127.0.0.1';
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #tallies = new Map<string, { statements: number; inTransaction: number; transactions: number; connections: number }>();

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a relay to the server at `upstream`, on a free port. */
  static async start(upstream: { readonly host: string; readonly port: number }): Promise<StatementRelay> {
    const server = createServer();
    const relay = new StatementRelay(server);
    server.on('connection', (client) => relay.#relay(client, upstream));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return relay;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** What `user`'s connections sent so far (all zero for a user that never connected). */
  tally(user: string): StatementTally {
    return { ...(this.#tallies.get(user) ?? { statements: 0, inTransaction: 0, transactions: 0, connections: 0 }) };
  }

  /** Stops listening and closes every relayed connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #relay(client: Socket, upstream: { readonly host: string; readonly port: number }): void {
    const server = connectTcp(upstream.port, upstream.host);
    this.#sockets.add(client).add(server);
    let connected = false;
    server.once('connect', () => (connected = true));
    const connection: Connection = { user: undefined, capabilities: 0, serverCapabilities: undefined, inTransaction: false };
    const commands = new Packets((sequence, length, head) => {
      if (!this.#read(connection, sequence, length, head)) commands.stopped = true;
    });
    const greeting = new Packets((_sequence, _length, head) => {
      connection.serverCapabilities = serverCapabilities(head);
      greeting.stopped = true;
      server.off('data', readGreeting);
    });
    const readGreeting = (chunk: Buffer) => greeting.feed(chunk);
    server.on('data', readGreeting);
    client.on('data', (chunk: Buffer) => commands.feed(chunk));
    client.pipe(server);
    server.pipe(client);
    const end = (error?: Error) => {
      // A server that refused the connection: the client's connection is reset, as close to a refusal as a relay can make it.
      if (error && !connected && !client.destroyed) client.resetAndDestroy();
      else client.destroy();
      server.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(server);
    };
    client.on('close', () => end()).on('error', () => end());
    server.on('close', () => end()).on('error', (error) => end(error));
  }

  /** Reads one client packet; false when nothing more of the connection can be read. */
  #read(connection: Connection, sequence: number, length: number, head: Buffer): boolean {
    if (connection.user === undefined) {
      if (sequence !== 1 || head.length < 4) return true;
      const requested = head.readUInt32LE(0);
      if (requested & CLIENT_SSL && length === 32) return false;
      connection.capabilities = requested & (connection.serverCapabilities ?? ~0);
      if (connection.capabilities & CLIENT_COMPRESS) return false;
      connection.user = requested & CLIENT_PROTOCOL_41 ? nulTerminated(head, 32) : nulTerminated(head, 5);
      this.#tallyOf(connection.user).connections++;
      return true;
    }
    if (sequence !== 0 || length === 0) return true;
    const command = head[0];
    if (command === COM_CHANGE_USER) {
      connection.user = nulTerminated(head, 1);
      connection.inTransaction = false;
      return true;
    }
    if (command !== COM_QUERY && command !== COM_STMT_EXECUTE) return true;
    const tally = this.#tallyOf(connection.user);
    tally.statements++;
    const text = command === COM_QUERY ? queryText(head, connection.capabilities) : undefined;
    if (text !== undefined && /^\s*(START\s+TRANSACTION|BEGIN)\b/i.test(text)) {
      tally.transactions++;
      connection.inTransaction = true;
    }
    if (connection.inTransaction) tally.inTransaction++;
    if (text !== undefined && /^\s*(COMMIT|ROLLBACK)\b(?!\s+(WORK\s+)?TO\b)/i.test(text)) connection.inTransaction = false;
    return true;
  }

  #tallyOf(user: string) {
    let tally = this.#tallies.get(user);
    if (!tally) {
      tally = { statements: 0, inTransaction: 0, transactions: 0, connections: 0 };
      this.#tallies.set(user, tally);
    }
    return tally;
  }
}

/** What the relay knows of one client connection. */
interface Connection {
  /** The database user, once the handshake response named it. */
  user: string | undefined;
  /** The capabilities both sides have. */
  capabilities: number;
  serverCapabilities: number | undefined;
  inTransaction: boolean;
}

/** Cuts a byte stream into packets, keeping the first {@link HEAD_BYTES} of each payload. */
class Packets {
  /** Nothing more is read (TLS, compression, or all that was wanted). */
  stopped = false;
  readonly #onPacket: (sequence: number, length: number, head: Buffer) => void;
  #header = Buffer.alloc(0);
  #remaining = 0;
  #sequence = 0;
  #length = 0;
  #head: Buffer[] = [];
  #headLength = 0;

  constructor(onPacket: (sequence: number, length: number, head: Buffer) => void) {
    this.#onPacket = onPacket;
  }

  feed(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && !this.stopped) {
      if (this.#remaining === 0 && this.#header.length < 4) {
        const take = Math.min(4 - this.#header.length, chunk.length - offset);
        this.#header = Buffer.concat([this.#header, chunk.subarray(offset, offset + take)]);
        offset += take;
        if (this.#header.length < 4) return;
        this.#length = this.#header.readUIntLE(0, 3);
        this.#sequence = this.#header[3] as number;
        this.#remaining = this.#length;
        if (this.#remaining === 0) this.#finish();
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - offset);
      if (this.#headLength < HEAD_BYTES) {
        const kept = chunk.subarray(offset, offset + Math.min(take, HEAD_BYTES - this.#headLength));
        this.#head.push(kept);
        this.#headLength += kept.length;
      }
      offset += take;
      this.#remaining -= take;
      if (this.#remaining === 0) this.#finish();
    }
  }

  #finish(): void {
    const head = Buffer.concat(this.#head);
    this.#header = Buffer.alloc(0);
    this.#head = [];
    this.#headLength = 0;
    this.#onPacket(this.#sequence, this.#length, head);
  }
}

/**
 * The capabilities in the server's greeting (protocol 10): after the version
 * (NUL-terminated), a 4-byte thread id, 8 bytes of scramble and a filler, the
 * lower two bytes; the upper two follow the character set and status flags.
 */
function serverCapabilities(head: Buffer): number | undefined {
  if (head[0] !== 10) return undefined;
  const at = head.indexOf(0, 1) + 1 + 4 + 8 + 1;
  if (at <= 14 || head.length < at + 2) return undefined;
  const lower = head.readUInt16LE(at);
  const upper = head.length >= at + 7 ? head.readUInt16LE(at + 5) : 0;
  return (upper << 16) | lower;
}

/** A NUL-terminated string at `offset` (to the end of what was kept, when the NUL is past it). */
function nulTerminated(buffer: Buffer, offset: number): string {
  const end = buffer.indexOf(0, offset);
  return buffer.subarray(offset, end < 0 ? buffer.length : end).toString('utf8');
}

/**
 * The start of a `COM_QUERY`'s text; with query attributes on, only when the
 * query carries none (their values come first and are not read here).
 */
function queryText(head: Buffer, capabilities: number): string | undefined {
  if (!(capabilities & CLIENT_QUERY_ATTRIBUTES)) return head.subarray(1).toString('utf8');
  // parameter_count and parameter_set_count, each a one-byte length-encoded integer when small.
  return head[1] === 0 ? head.subarray(3).toString('utf8') : undefined;
}
