/**
 * The local runtime's errors live in one module (`local/errors.ts`): one
 * base ({@link LocalRuntimeError}), every class keeps the cause it is given,
 * and callers tell them apart by class. A class added there without a row in
 * the table below fails the first test.
 */
import { describe, expect, it } from '@jest/globals';
import * as errors from '../../../local/errors';

const cause = new Error('the underlying failure');
const denial = {
  time: '2022-10-13T19:00:00.000Z',
  principal: 'arn:aws:iam::000000000000:role/r',
  action: 'sns:Publish',
  resource: 'arn:aws:sns:us-east-1:000000000000:t',
  context: {},
  missing: 'no statement allows it',
};

/** Each error class of local/errors.ts, built with a cause, and the name it must carry (what AWS, Step Functions or a log reads). */
const BUILT: Record<string, [(options: ErrorOptions) => Error, string]> = {
  LocalRuntimeError: [(options) => new errors.LocalRuntimeError('failed', options), 'LocalRuntimeError'],
  AwsError: [(options) => new errors.AwsError('ValidationException', 'bad', 400, options), 'ValidationException'],
  AccessDeniedError: [(options) => new errors.AccessDeniedError(denial, options), 'AccessDeniedException'],
  UnsupportedTerraformError: [(options) => new errors.UnsupportedTerraformError('stack/aws_x.y', 'not served', options), 'UnsupportedTerraformError'],
  InvokeError: [(options) => new errors.InvokeError('TooManyRequestsException', 'throttled', 429, options), 'TooManyRequestsException'],
  InvalidEventPatternError: [(options) => new errors.InvalidEventPatternError('pattern must not be empty', options), 'InvalidEventPatternError'],
  ReadModelRefusedError: [(options) => new errors.ReadModelRefusedError("the database is not the runtime's", options), 'ReadModelRefusedError'],
  TaskError: [(options) => new errors.TaskError('Lambda.TooManyRequestsException', 'throttled', options), 'Lambda.TooManyRequestsException'],
  DeliveryAbandonedError: [(options) => new errors.DeliveryAbandonedError('abandoned by the stop', options), 'DeliveryAbandoned'],
};

describe("the local runtime's errors", () => {
  it('are the classes of local/errors.ts, each built by the table above', () => {
    const exported = Object.entries(errors)
      .filter(([, value]) => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error)
      .map(([name]) => name);
    expect(exported.sort()).toEqual(Object.keys(BUILT).sort());
  });

  it.each(Object.entries(BUILT))('%s extends LocalRuntimeError, keeps its cause, and carries its AWS or Step Functions name', (_name, [build, name]) => {
    const error = build({ cause });
    expect(error).toBeInstanceOf(errors.LocalRuntimeError);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe(name);
  });

  it('keeps the query-compatible error code of an AwsError beside its cause', () => {
    const error = new errors.AwsError('InvalidParameterValue', 'delay', 400, { queryError: 'InvalidParameterValue;Sender', cause });
    expect(error).toMatchObject({ type: 'InvalidParameterValue', status: 400, queryError: 'InvalidParameterValue;Sender', cause });
  });
});
