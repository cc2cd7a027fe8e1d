/**
 * The table of AWS limits: every row cites AWS's documentation, the checks
 * refuse one past each limit and no sooner, and no other module of the local
 * runtime restates a number of the table. The services' own tests prove each
 * row where it is enforced, over HTTP with the AWS SDK clients.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AWS_LIMITS, enforceBytes, enforceCharacters, enforceLength, enforceRange, exceeded } from '../../../local/aws-limits';
import { AwsError } from '../../../local/errors';

const LOCAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../local');

/** The error a check throws (undefined when it passes). */
function thrown(check: () => void): AwsError | undefined {
  try {
    check();
    return undefined;
  } catch (error) {
    if (!(error instanceof AwsError)) throw error;
    return error;
  }
}

describe('the table of AWS limits', () => {
  it.each(Object.entries(AWS_LIMITS))('%s cites the AWS documentation that gives its number', (_name, limit) => {
    expect(limit.documentation.length).toBeGreaterThan(0);
    for (const url of limit.documentation) expect(url).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/\S+$/);
    expect([limit.service, limit.parameter, ...limit.operations].every((text) => text.length > 0)).toBe(true);
  });

  it('holds the numbers AWS documents', () => {
    const numbers = Object.fromEntries(
      Object.entries(AWS_LIMITS).map(([name, limit]) => [name, 'max' in limit ? ['min' in limit ? limit.min : undefined, limit.max] : 'characters']),
    );
    expect(numbers).toEqual({
      stepFunctionsExecutionInput: [undefined, 262_144],
      stepFunctionsExecutionNameLength: [1, 80],
      stepFunctionsExecutionNameCharacters: 'characters',
      sqsMessageBodySize: [undefined, 1_048_576],
      sqsDelaySeconds: [0, 900],
      sqsMessageBodyCharacters: 'characters',
      lambdaSyncPayload: [undefined, 6_291_456],
      lambdaAsyncPayload: [undefined, 1_048_576],
      streamBatchPayload: [undefined, 6_291_456],
      putEventsEntries: [undefined, 262_144],
      snsMessageSize: [undefined, 262_144],
      snsTopicNameLength: [1, 256],
      snsTopicNameCharacters: 'characters',
    });
  });

  it("refuses one past a limit and no sooner, with the row's code, status and message", () => {
    const sync = AWS_LIMITS.lambdaSyncPayload;
    expect(exceeded(sync, sync.max)).toBeUndefined();
    expect(exceeded(sync, sync.max + 1)).toMatchObject({ type: 'RequestTooLargeException', status: 413, queryError: undefined });
    expect(thrown(() => enforceRange(AWS_LIMITS.sqsDelaySeconds, 0))).toBeUndefined();
    expect(thrown(() => enforceRange(AWS_LIMITS.sqsDelaySeconds, 900.5))).toMatchObject({
      type: 'InvalidParameterValue',
      queryError: 'InvalidParameterValue;Sender',
    });
    expect(thrown(() => enforceLength(AWS_LIMITS.stepFunctionsExecutionNameLength, 'n'.repeat(80)))).toBeUndefined();
    expect(thrown(() => enforceBytes(AWS_LIMITS.sqsMessageBodySize, 1_048_577))?.message).toContain('Message must be shorter than 1048576 bytes');
  });

  it('finds the first character the row refuses, counting the position in UTF-16 code units as JavaScript and Java do', () => {
    const refused = thrown(() => enforceCharacters(AWS_LIMITS.stepFunctionsExecutionNameCharacters, '😀😀 x'));
    expect(refused).toMatchObject({ type: 'InvalidName', status: 400 });
    expect(refused?.message).toContain('U+0020 at position 4 is not allowed');
    expect(thrown(() => enforceCharacters(AWS_LIMITS.sqsMessageBodyCharacters, '😀\ud83d'))?.message).toContain("'#xD83D'");
    expect(thrown(() => enforceCharacters(AWS_LIMITS.snsTopicNameCharacters, 'order-pipeline_local-alarms2'))).toBeUndefined();
    expect(thrown(() => enforceCharacters(AWS_LIMITS.snsTopicNameCharacters, 'alarms.fifo'))).toMatchObject({
      type: 'InvalidParameter',
      status: 400,
      message: expect.stringContaining('U+002E at position 6'),
    });
  });

  it('is the only place in local/ that states a number of the table', () => {
    // Written forms of the table's byte numbers; a module that needs one reads it from AWS_LIMITS.
    const restated = /\b(?:262_?144|256 \* 1024|1_?048_?576|6_?291_?456|6 \* 1024 \* 1024|6 \* MIB)\b/;
    const offenders = readdirSync(LOCAL)
      .filter((name) => name.endsWith('.ts') && name !== 'aws-limits.ts')
      .flatMap((name) =>
        readFileSync(path.join(LOCAL, name), 'utf8')
          .split('\n')
          .map((line, index) => [`${name}:${index + 1}`, line] as const)
          .filter(([, line]) => restated.test(line)),
      );
    expect(offenders).toEqual([]);
  });
});
