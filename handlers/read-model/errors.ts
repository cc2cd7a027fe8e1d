/** Errors of the read model: schema migrations and projection. */

/** Base class of read-model errors. */
export class ReadModelError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReadModelError';
  }
}

/** An already-applied migration file was edited after it ran. */
export class MigrationChecksumError extends ReadModelError {
  constructor(version: number, name: string, recorded: string, actual: string) {
    super(
      `migration ${version} (${name}) was edited after it was applied: recorded checksum ${recorded}, file checksum ${actual}. ` +
        'Applied migrations are immutable; add a new migration instead.',
    );
    this.name = 'MigrationChecksumError';
  }
}

/** The migration files themselves are inconsistent (bad name, duplicate version). */
export class MigrationSetError extends ReadModelError {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationSetError';
  }
}

/** Another runner held the migration lock for longer than we waited. */
export class MigrationLockError extends ReadModelError {
  constructor(lockName: string, seconds: number) {
    super(`could not take the migration lock ${JSON.stringify(lockName)} within ${seconds} s; is another deploy running?`);
    this.name = 'MigrationLockError';
  }
}

/** A migration's SQL failed; `cause` holds the server's error. */
export class MigrationFailedError extends ReadModelError {
  constructor(version: number, name: string, options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`migration ${version} (${name}) failed${reason}`, options);
    this.name = 'MigrationFailedError';
  }
}
