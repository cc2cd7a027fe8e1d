/**
 * One participant of a {@link BatchCoalescer}: it either submits one item or
 * leaves without one. Leaving after submitting does nothing.
 */
export interface Seat<T, R> {
  submit(item: T): Promise<R>;
  leave(): void;
  /** Whether this seat submitted an item. */
  readonly submitted: boolean;
}

interface Pending<T, R> {
  readonly item: T;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the items of records that are processed concurrently (each through
 * its own idempotency check) and writes them with one `flush` once every
 * record has either submitted or left. This is how per-record idempotency and
 * a set-based, constant-statement write live together.
 *
 * Every one of `expected` participants must take a seat and settle it, or the
 * flush never happens: use it only with records processed in parallel.
 */
export class BatchCoalescer<T, R> {
  readonly #expected: number;
  readonly #flush: (items: T[]) => Promise<R[]>;
  readonly #pending: Pending<T, R>[] = [];
  #seats = 0;
  #settled = 0;

  constructor(expected: number, flush: (items: T[]) => Promise<R[]>) {
    this.#expected = expected;
    this.#flush = flush;
  }

  /** Takes one of the `expected` seats. */
  seat(): Seat<T, R> {
    if (this.#seats >= this.#expected) throw new Error(`more than ${this.#expected} seats taken`);
    this.#seats++;
    let settled = false;
    let submitted = false;
    const settle = (): void => {
      settled = true;
      this.#settled++;
      if (this.#settled === this.#expected) void this.#run();
    };
    return {
      submit: (item) => {
        if (settled) return Promise.reject(new Error('this seat already left or submitted'));
        const result = new Promise<R>((resolve, reject) => this.#pending.push({ item, resolve, reject }));
        submitted = true;
        settle();
        return result;
      },
      leave: () => {
        if (!settled) settle();
      },
      get submitted() {
        return submitted;
      },
    };
  }

  async #run(): Promise<void> {
    if (this.#pending.length === 0) return;
    try {
      const results = await this.#flush(this.#pending.map((pending) => pending.item));
      this.#pending.forEach((pending, index) => pending.resolve(results[index] as R));
    } catch (error) {
      for (const pending of this.#pending) pending.reject(error);
    }
  }
}
