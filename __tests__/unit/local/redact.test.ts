import { describe, expect, it } from '@jest/globals';
import { quoted, redactCredentials, safeLogLine } from '../../../local/redact';

describe('redactCredentials', () => {
  it.each([
    ['mysql://adv:Zq@9 x:y/#?%&Zq@host/db', 'mysql://adv:***@host/db', ['Zq@9', '9 x', '%&Zq']],
    ['mysql://adv:s3cr3t pw@127.0.0.1:99999/x', 'mysql://adv:***@127.0.0.1:99999/x', ['s3cr3t', 'pw@']],
    ['DB_URL is not a URL: mysql://root:p/a#ss@h/orders (see README)', 'DB_URL is not a URL: mysql://root:***@h/orders (see README)', ['p/a#ss']],
    ['two: mysql://a:one@h1/x and mysql://b:two@h2/y', 'two: mysql://a:***@h1/x and mysql://b:***@h2/y', ['one', 'two@']],
    ['mysql://user@host/db', 'mysql://user@host/db', []],
    ['line one mysql://u:pw@h\nline two admin@example.com', 'line one mysql://u:***@h\nline two admin@example.com', ['pw']],
    // A URL without a password, then a server's refusal naming 'user'@'host': kept whole.
    [
      "the read-model server at mysql://nouser@127.0.0.1:3306/x is not usable: Access denied for user 'nouser'@'127.0.0.1' (using password: NO)",
      "the read-model server at mysql://nouser@127.0.0.1:3306/x is not usable: Access denied for user 'nouser'@'127.0.0.1' (using password: NO)",
      [],
    ],
    ["mysql://u@[::1]:3306/x denied for 'u'@'::1'", "mysql://u@[::1]:3306/x denied for 'u'@'::1'", []],
    // A user holding '@' (user@server, as some hosted MySQL services name them) and a password: still redacted.
    ['mysql://admin@srv:p4ss@srv.example.com/db', 'mysql://admin@srv:***@srv.example.com/db', ['p4ss']],
    ['mysql://admin@srv:p4ss word@srv.example.com/db', 'mysql://admin@srv:***@srv.example.com/db', ['p4ss', 'word']],
  ])('redacts %j', (text, expected, secrets) => {
    const redacted = redactCredentials(text);
    expect(redacted).toBe(expected);
    for (const secret of secrets) expect(redacted).not.toContain(secret);
  });

  it('redacts more rather than less when an @ follows on the same line', () => {
    const redacted = redactCredentials('mysql://u:pw@h/db failed for admin@example.com');
    expect(redacted).not.toContain('pw');
    expect(redacted.startsWith('mysql://u:***@')).toBe(true);
  });
});

describe('log lines', () => {
  it.each(['\u2028', '\u2029', '\u0085', '\u202e', '\u2066', '\r', '\u001b[31m'])('escape %j in quoted values and at the sink', (char) => {
    const forged = `ok${char}FAKE 2026-11-27 local pipeline stopped`;
    expect(quoted(forged)).not.toContain(char);
    expect(safeLogLine(`rule x: ${forged}`)).not.toContain(char);
    expect(safeLogLine(`rule x: ${forged}`)).toContain(`\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  });

  it('keep tabs and the newlines of multi-line messages, and redact credentials', () => {
    expect(safeLogLine('a\tb\nc mysql://u:pw@h/db')).toBe('a\tb\nc mysql://u:***@h/db');
  });
});
