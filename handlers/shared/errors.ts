/**
 * The base of every error the handlers' code defines (refusals, malformed
 * stream records, read-model failures): each area's `errors.ts` extends it,
 * every constructor takes `ErrorOptions`, so a wrapped failure keeps its
 * `cause`, and callers match errors with `instanceof`, never by `name`.
 */

/** Base class of the handlers' errors. */
export class PipelineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineError';
  }
}
