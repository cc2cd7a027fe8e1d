/**
 * An append-only journal of JSON lines: what the local runtime keeps durably
 * with `--data`, as AWS keeps it (events accepted by the bus until delivered,
 * stream records and the mapping's checkpoint, queue messages). Appends are
 * synchronous: once an API call answered, its effect survives a `kill -9`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One journal file. */
export class Journal<Entry> {
  readonly file: string;

  constructor(file: string) {
    this.file = file;
    mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Every entry, oldest first; a torn last line (a crash mid-append) is ignored. */
  read(): Entry[] {
    if (!existsSync(this.file)) return [];
    const entries: Entry[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (line.length === 0) continue;
      try {
        entries.push(JSON.parse(line) as Entry);
      } catch {
        // Only the last line can be torn; anything after it was never acknowledged.
      }
    }
    return entries;
  }

  append(entry: Entry): void {
    appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** Replaces the journal with `entries`, atomically (compaction at start). */
  rewrite(entries: readonly Entry[]): void {
    const staging = `${this.file}.${process.pid}.tmp`;
    writeFileSync(staging, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
    renameSync(staging, this.file);
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
