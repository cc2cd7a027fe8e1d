import { describe, expect, it } from '@jest/globals';
import '../../../local/polyfills';
import { LocalStateMachine } from '../../../local/state-machine';

/** A machine of one Pass state: no service is called, so none is needed. */
function passMachine(options: { keepExecutionBytes?: number; keepExecutions?: number } = {}) {
  return new LocalStateMachine({
    name: 'm',
    definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }),
    region: 'us-east-1',
    account: '000000000000',
    functions: {} as never,
    dynamodb: {} as never,
    bus: {} as never,
    principal: { kind: 'account' },
    gate: {} as never,
    ...options,
  });
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('the local state machine', () => {
  it('keeps executions within a byte cap, dropping the oldest, and counts what it dropped', async () => {
    const machine = passMachine({ keepExecutionBytes: 1024 * 1024 });
    const input = JSON.stringify({ padding: 'x'.repeat(100 * 1024) });

    for (let index = 0; index < 50; index++) await machine.runExecution(input);

    const kept = machine.kept;
    expect(kept.bytes).toBeLessThanOrEqual(1024 * 1024 + 2 * input.length + 10_000);
    expect(kept.executions).toBeLessThan(50);
    expect(kept.executions + kept.dropped).toBe(50);
    expect(machine.executions()).toHaveLength(kept.executions);
  });

  it('refuses an input nested 10,000 deep at once, and a deep but allowed one ends: nothing stays running', async () => {
    const machine = passMachine();

    await expect(machine.startSyncExecution(nested(10_000))).rejects.toThrow('the input nests deeper than 128 levels');
    const allowed = await machine.startSyncExecution(nested(100));
    const drained = await Promise.race([machine.drain().then(() => 'drained'), new Promise((resolve) => setTimeout(() => resolve('stuck'), 3_000))]);

    expect(allowed.status).toBe('SUCCEEDED');
    expect(drained).toBe('drained');
  });
});
