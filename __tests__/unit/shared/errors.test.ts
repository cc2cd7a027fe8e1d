/**
 * The handlers' errors: one base ({@link PipelineError}), every class keeps
 * the cause it is given, and a caller tells them apart by class. The table
 * below builds each exported error class once; a class added to an
 * `errors.ts` without a row here fails the first test.
 */
import { describe, expect, it } from '@jest/globals';
import * as domain from '../../../handlers/domain/errors';
import * as readModel from '../../../handlers/read-model/errors';
import { PipelineError } from '../../../handlers/shared/errors';

const cause = new Error('the underlying failure');

/** Each exported error class, built with a cause. */
const BUILT: Record<string, (options: ErrorOptions) => Error> = {
  ValidationError: (options) => new domain.ValidationError(['orderId is required'], options),
  UnsupportedCommandError: (options) => new domain.UnsupportedCommandError('shipOrder', ['createOrder'], options),
  UnsupportedQueryError: (options) => new domain.UnsupportedQueryError('everything', ['itemsSalesReport'], options),
  OrderConflictError: (options) => new domain.OrderConflictError('6102', options),
  OrderNotFoundError: (options) => new domain.OrderNotFoundError('6102', options),
  UnknownOrderError: (options) => new domain.UnknownOrderError('6102', options),
  OrderChangedError: (options) => new domain.OrderChangedError('6102', options),
  MalformedRecordError: (options) => new domain.MalformedRecordError('status "shipped" is not one a command leaves', options),
  ReadModelError: (options) => new readModel.ReadModelError('the read model failed', options),
  MigrationChecksumError: (options) => new readModel.MigrationChecksumError(1, 'read-model', 'a', 'b', false, options),
  MigrationSetError: (options) => new readModel.MigrationSetError('two migration files have version 1', options),
  MigrationLockError: (options) => new readModel.MigrationLockError('migrations', 30, options),
  MigrationFailedError: (options) => new readModel.MigrationFailedError(1, 'read-model', { ...options, step: 2 }),
  MigrationLockWaitError: (options) => new readModel.MigrationLockWaitError(1, 'read-model', 2, { attempts: 3, lockWaitSeconds: 5 }, options),
  MigrationIncompleteError: (options) => new readModel.MigrationIncompleteError(1, 'read-model', 2, options),
  ReadModelWriteError: (options) => new readModel.ReadModelWriteError({ code: 'ER_LOCK_DEADLOCK', errno: 1213, message: 'Deadlock found' }, options),
};

/** The exported classes that are errors, by name. */
function errorClasses(module: Record<string, unknown>): string[] {
  return Object.entries(module)
    .filter(([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error)
    .map(([name]) => name);
}

describe("the handlers' errors", () => {
  it('are all built by the table above (a new class needs its row)', () => {
    const exported = [...errorClasses(domain), ...errorClasses(readModel)].filter((name) => name !== 'RefusalError').sort();
    expect(exported).toEqual(Object.keys(BUILT).sort());
  });

  it.each(Object.entries(BUILT))('%s extends PipelineError, keeps its cause, and names itself', (name, build) => {
    const error = build({ cause });
    expect(error).toBeInstanceOf(PipelineError);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe(name);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it('tells a malformed record from a refusal by class', () => {
    const malformed = BUILT.MalformedRecordError!({});
    const refusal = BUILT.OrderConflictError!({});
    expect(malformed).toBeInstanceOf(domain.MalformedRecordError);
    expect(malformed).not.toBeInstanceOf(domain.RefusalError);
    expect(refusal).toBeInstanceOf(domain.RefusalError);
    expect(refusal).not.toBeInstanceOf(domain.MalformedRecordError);
  });
});
