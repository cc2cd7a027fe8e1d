import { describe, expect, it } from '@jest/globals';
import { formatTable } from '../../../clients/table';

describe('formatTable', () => {
  it('prints a nested object (a refusal and its error) as JSON, never as [object Object]', () => {
    // Prepare
    const refusal = { orderid: '6102', commandStatus: 'orderRejected', error: { code: 'OrderConflict', message: 'order 6102 exists' } };

    // Act
    const table = formatTable([refusal]);

    // Assess
    expect(table).not.toContain('[object Object]');
    expect(table.split('\n')[2]).toBe('| 6102    | orderRejected | {"code":"OrderConflict","message":"order 6102 exists"} |');
  });

  it('right-aligns numbers, leaves missing values empty and prints lists as JSON', () => {
    // Act
    const table = formatTable([
      { itemid: 'z3333', totalordered: 6, tags: ['a', 'b'] },
      { itemid: 'z1', totalordered: 12 },
    ]);

    // Assess
    expect(table).toBe(
      [
        '| itemid | totalordered | tags      |',
        '|--------|--------------|-----------|',
        '| z3333  |            6 | ["a","b"] |',
        '| z1     |           12 |           |',
      ].join('\n'),
    );
  });
});
