/**
 * Credentials never reach a message: in every `scheme://user:password@host`
 * of a text, everything between the user's `:` and the **last** `@` before
 * the next URL or the end of the line becomes `***`, whatever characters the
 * password holds (`@`, space, `#`, `/`, `?`, `%` included, which a URL parser
 * would not accept). When in doubt it redacts more, never less. A URL with no
 * ':' before its first '@' and a whole host[:port] after it has no password,
 * whatever '@' follows on the line (a server's "denied for user 'u'@'h'").
 */
const SCHEME = /[a-z][a-z0-9+.-]*:\/\//gi;
/** A host (name, IPv4 or [IPv6]) and an optional numeric port, then a path, query, fragment, whitespace or the end. */
const COMPLETE_AUTHORITY = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d+)?(?=[/?#\s]|$)/i;

/** The text with every URL password replaced by `***`. */
export function redactCredentials(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      const starts = [...line.matchAll(SCHEME)].map((match) => ({ at: match.index ?? 0, length: match[0].length }));
      if (starts.length === 0) return line;
      let out = line.slice(0, starts[0]?.at);
      starts.forEach((start, index) => {
        const end = starts[index + 1]?.at ?? line.length;
        const url = line.slice(start.at, end);
        const rest = url.slice(start.length);
        const at = rest.lastIndexOf('@');
        const colon = rest.indexOf(':');
        // A password is there when a ':' comes before the last '@' (the user holds no ':') ...
        const password = at >= 0 && colon >= 0 && colon < at;
        // ... unless the URL has none: no ':' before its first '@', and a whole host[:port] after it, then a
        // path, a space or the end. A server's refusal that follows ("denied for user 'u'@'h'") is not one.
        const first = rest.indexOf('@');
        const plain = first >= 0 && (colon < 0 || colon > first) && COMPLETE_AUTHORITY.test(rest.slice(first + 1));
        out += password && !plain ? `${url.slice(0, start.length)}${rest.slice(0, colon)}:***${rest.slice(at)}` : url;
      });
      return out;
    })
    .join('\n');
}

/**
 * A user-supplied value as it may appear in a log line: JSON-escaped, so a
 * newline or a control character cannot split or forge a line.
 */
export function quoted(value: unknown): string {
  try {
    // JSON leaves U+2028, U+2029, U+0085 and the bidirectional controls raw: a terminal or a
    // log viewer may break a line at them or reorder the text, which forges a line.
    return JSON.stringify(typeof value === 'string' ? value : String(value)).replace(
      /[\u0085\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
  } catch {
    return '"[unprintable]"';
  }
}

/** Characters a terminal or log viewer may break a line at or reorder text by (C0 controls but tab and newline, NEL, LS, PS, bidi controls). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point.
const UNSAFE_IN_LOG = /[\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * A runtime message as it is written to the log: credentials redacted, and
 * every character that could break or reorder a line escaped as `\\uXXXX`,
 * whatever part of the message it came from (a function's own log line, an
 * error message).
 */
export function safeLogLine(message: string): string {
  return redactCredentials(message).replace(UNSAFE_IN_LOG, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
