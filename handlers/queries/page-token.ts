/**
 * Page tokens: where the next page of an answer starts, bound to the query
 * and its parameters. A token is base64url JSON `{ q, a, d }`: the query, the
 * key of the last row sent, and a digest of the query, its parameters and
 * that key. A token from another query or other parameters (monthlySalesByItem
 * of another item), or one whose key was edited, fails the digest and is
 * refused with `ValidationError` before any SQL runs.
 *
 * The digest makes a token tamper-evident, not secret: a client that
 * recomputes it can only page through its own query's rows, which it may read
 * anyway, and each query also checks the key's form (`QueryPaging.valid`).
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../domain/errors';

/** Bumped when the token format changes: older tokens are then refused, not misread. */
const TOKEN_VERSION = 1;

/** Longest token accepted (a key is at most a 64-character item id). */
const MAX_PAGE_TOKEN_LENGTH = 1_024;

interface TokenBody {
  readonly q: string;
  readonly a: string;
  readonly d: string;
}

/** A JSON text with object keys sorted, so equal parameters digest equally. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function digest(query: string, params: unknown, after: string): string {
  return createHash('sha256')
    .update(canonical([TOKEN_VERSION, query, params, after]))
    .digest('base64url')
    .slice(0, 22);
}

/** The token that continues `query` with `params` after the row whose key is `after`. */
export function encodePageToken(query: string, params: unknown, after: string): string {
  return Buffer.from(JSON.stringify({ q: query, a: after, d: digest(query, params, after) } satisfies TokenBody)).toString('base64url');
}

/**
 * The key a token continues after, when it was issued for this query and
 * these parameters and its key has the query's form; anything else throws
 * `ValidationError` (never reaching SQL, never retried).
 */
export function decodePageToken(query: string, params: unknown, token: unknown, valid: (after: string) => boolean): string | undefined {
  if (token === undefined) return undefined;
  const refused = new ValidationError([`detail.pageToken must be the nextPageToken of a previous ${query} response with the same parameters`]);
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_PAGE_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) throw refused;
  let body: Partial<TokenBody>;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
  } catch {
    throw refused;
  }
  if (body === null || typeof body !== 'object' || body.q !== query || typeof body.a !== 'string' || typeof body.d !== 'string') throw refused;
  if (body.d !== digest(query, params, body.a) || !valid(body.a)) throw refused;
  return body.a;
}
