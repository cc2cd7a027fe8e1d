/**
 * An append-only journal of JSON lines: what the local runtime keeps durably
 * with `--data`, as AWS keeps it (events accepted by the bus until delivered,
 * stream records and the mapping's checkpoint, queue messages). Appends are
 * synchronous: once an API call answered, its effect survives a `kill -9`.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Bytes read from a journal at a time: a journal is never read into one string (it may be larger than any string). */
const READ_CHUNK_BYTES = 1024 * 1024;

/** One journal file. */
export class Journal<Entry> {
  readonly file: string;
  #bytes: number;

  constructor(file: string) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
    this.#bytes = existsSync(file) ? statSync(file).size : 0;
  }

  /** The journal's size in bytes (what compaction watches). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Every entry, oldest first, read as a stream of lines in chunks; a torn
   * last line (a crash mid-append) is ignored.
   */
  *entries(): Generator<Entry> {
    if (!existsSync(this.file)) return;
    const descriptor = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      let pending: Buffer[] = [];
      for (;;) {
        const read = readSync(descriptor, buffer, 0, buffer.length, null);
        if (read === 0) break;
        let start = 0;
        for (let index = buffer.indexOf(10, 0); index !== -1 && index < read; index = buffer.indexOf(10, start)) {
          const line = Buffer.concat([...pending, buffer.subarray(start, index)]).toString('utf8');
          pending = [];
          start = index + 1;
          const entry = parseLine<Entry>(line);
          if (entry !== undefined) yield entry;
        }
        if (start < read) pending.push(Buffer.from(buffer.subarray(start, read)));
      }
      // A last line without its newline was torn by a crash: never acknowledged.
    } finally {
      closeSync(descriptor);
    }
  }

  /** Every entry, oldest first (small journals; large ones are read with {@link entries}). */
  read(): Entry[] {
    return [...this.entries()];
  }

  /** Appends one entry; returns the bytes it took. */
  append(entry: Entry): number {
    const line = `${JSON.stringify(entry)}\n`;
    appendFileSync(this.file, line);
    const bytes = Buffer.byteLength(line);
    this.#bytes += bytes;
    return bytes;
  }

  /**
   * Replaces the journal with `entries`, atomically: written to a staging file
   * entry by entry, then renamed over the journal (compaction, at start and
   * while running).
   */
  rewrite(entries: Iterable<Entry>): void {
    const staging = `${this.file}.${process.pid}.tmp`;
    const descriptor = openSync(staging, 'w');
    let bytes = 0;
    try {
      for (const entry of entries) bytes += writeSync(descriptor, `${JSON.stringify(entry)}\n`);
    } finally {
      closeSync(descriptor);
    }
    renameSync(staging, this.file);
    this.#bytes = bytes;
  }
}

function parseLine<Entry>(line: string): Entry | undefined {
  if (line.length === 0) return undefined;
  try {
    return JSON.parse(line) as Entry;
  } catch {
    // Only the last line can be torn; anything after it was never acknowledged.
    return undefined;
  }
}

/** A small durable value (a checkpoint), replaced atomically. */
export class DurableValue<T> {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
    mkdirSync(path.dirname(file), { recursive: true });
  }

  read(): T | undefined {
    if (!existsSync(this.#file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.#file, 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  write(value: T): void {
    const staging = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(staging, JSON.stringify(value));
    renameSync(staging, this.#file);
  }
}
