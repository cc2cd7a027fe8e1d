import { describe, expect, it, jest } from '@jest/globals';
import { BatchCoalescer } from '../../../handlers/shared/coalescer';

describe('BatchCoalescer', () => {
  it('flushes once, after every seat submitted or left, and answers each submitter', async () => {
    // Prepare
    const flush = jest.fn(async (items: number[]) => items.map((item) => item * 10));
    const coalescer = new BatchCoalescer(3, flush);
    const [a, b, c] = [coalescer.seat(), coalescer.seat(), coalescer.seat()];

    // Act
    const first = a.submit(1);
    c.leave();
    expect(flush).not.toHaveBeenCalled();
    const second = b.submit(2);

    // Assess
    await expect(Promise.all([first, second])).resolves.toEqual([10, 20]);
    expect(flush).toHaveBeenCalledTimes(1);
    expect(flush).toHaveBeenCalledWith([1, 2]);
    expect([a.submitted, b.submitted, c.submitted]).toEqual([true, true, false]);
  });

  it('rejects every submitter when the flush fails', async () => {
    const coalescer = new BatchCoalescer<number, number>(2, async () => {
      throw new Error('database down');
    });
    const results = [coalescer.seat().submit(1), coalescer.seat().submit(2)];
    await expect(Promise.allSettled(results)).resolves.toEqual([
      { status: 'rejected', reason: new Error('database down') },
      { status: 'rejected', reason: new Error('database down') },
    ]);
  });

  it('does not flush when nobody submitted, and ignores leaving twice', () => {
    const flush = jest.fn(async (items: number[]) => items);
    const coalescer = new BatchCoalescer(1, flush);
    const seat = coalescer.seat();
    seat.leave();
    seat.leave();
    expect(flush).not.toHaveBeenCalled();
    expect(() => coalescer.seat()).toThrow('more than 1 seats taken');
  });

  it('refuses a submit after the seat left', async () => {
    const coalescer = new BatchCoalescer(2, async (items: number[]) => items);
    const seat = coalescer.seat();
    seat.leave();
    await expect(seat.submit(1)).rejects.toThrow('already left or submitted');
  });
});
