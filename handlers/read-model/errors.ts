/** Errors of the read model: schema migrations and projection. */
import { PipelineError } from '../shared/errors';

/** Base class of read-model errors. */
export class ReadModelError extends PipelineError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReadModelError';
  }
}

/** An already-applied (or partly applied) migration file was edited after it ran. */
export class MigrationChecksumError extends ReadModelError {
  constructor(version: number, name: string, recorded: string, actual: string, partly = false, options?: ErrorOptions) {
    super(
      `migration ${version} (${name}) was edited after it was ${partly ? 'partly ' : ''}applied: recorded checksum ${recorded}, file checksum ${actual}. ` +
        'Applied migrations are immutable; add a new migration instead.',
      options,
    );
    this.name = 'MigrationChecksumError';
  }
}

/** The migration files themselves are inconsistent (bad name, duplicate version). */
export class MigrationSetError extends ReadModelError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationSetError';
  }
}

/** Another runner held the migration lock for longer than we waited. */
export class MigrationLockError extends ReadModelError {
  constructor(lockName: string, seconds: number, options?: ErrorOptions) {
    super(`could not take the migration lock ${JSON.stringify(lockName)} within ${seconds} s; is another deploy running?`, options);
    this.name = 'MigrationLockError';
  }
}

/** A migration's SQL failed; `cause` holds the server's error. */
export class MigrationFailedError extends ReadModelError {
  constructor(version: number, name: string, options?: ErrorOptions & { step?: number }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`migration ${version} (${name})${options?.step === undefined ? '' : ` step ${options.step}`} failed${reason}`, options);
    this.name = 'MigrationFailedError';
  }
}

/**
 * A step could not take its table locks within the lock wait, attempt after
 * attempt: a long transaction holds the table. Nothing of the step ran; the
 * next run resumes at this step.
 */
export class MigrationLockWaitError extends ReadModelError {
  constructor(
    version: number,
    name: string,
    step: number,
    detail: { attempts: number; lockWaitSeconds: number; oldestTransaction?: string },
    options?: ErrorOptions,
  ) {
    super(
      `migration ${version} (${name}) step ${step} waited ${detail.attempts} times ${detail.lockWaitSeconds} s for its table locks and gave up, so the projection never waited longer than that; ` +
        `${detail.oldestTransaction ? `the oldest open transaction: ${detail.oldestTransaction}; ` : ''}end the long transaction and run it again (it resumes at step ${step})`,
      options,
    );
    this.name = 'MigrationLockWaitError';
  }
}

/** The run stopped before a step because its time was running out; the next run resumes there. */
export class MigrationIncompleteError extends ReadModelError {
  constructor(version: number, name: string, step: number, options?: ErrorOptions) {
    super(`migration ${version} (${name}) stopped before step ${step}: not enough time left in this run; run it again, it resumes at step ${step}`, options);
    this.name = 'MigrationIncompleteError';
  }
}

/**
 * The read model refused a write. Carries the server's code and message only:
 * never the SQL text or its parameters (a batch's INSERT can be megabytes of
 * customer data), which is why the server's error is read, not kept as the
 * `cause` (a logger that prints causes would print the SQL). `errno` and
 * `fatal` are kept for the retry decisions.
 */
export class ReadModelWriteError extends ReadModelError {
  readonly code: string | undefined;
  readonly errno: number | undefined;
  readonly fatal: boolean;

  constructor(error: unknown, options?: ErrorOptions) {
    const source = error as { code?: string; errno?: number; fatal?: boolean; message?: string };
    const message = String(source.message ?? error).slice(0, 300);
    super(`the read model refused the write: ${source.code ?? 'error'}: ${message}`, options);
    this.name = 'ReadModelWriteError';
    this.code = source.code;
    this.errno = source.errno;
    this.fatal = source.fatal === true;
  }
}
