/**
 * Credentials never reach a message: every `scheme://user:password@` in a text
 * keeps its user and loses its password, whatever characters the password
 * holds (`#`, `/`, `?` included, which a URL parser would not accept).
 */
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s@]*@/gi;

/** The text with every URL password replaced by `***`. */
export function redactCredentials(text: string): string {
  return text.replace(CREDENTIALS_IN_URL, '$1:***@');
}

/**
 * A user-supplied value as it may appear in a log line: JSON-escaped, so a
 * newline or a control character cannot split or forge a line.
 */
export function quoted(value: unknown): string {
  try {
    return JSON.stringify(typeof value === 'string' ? value : String(value));
  } catch {
    return '"[unprintable]"';
  }
}
