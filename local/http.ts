/**
 * What every protocol of the local endpoint, and its `/_local/*` pages, write
 * and read over HTTP: bounded request bodies, JSON answers, files, and JSON
 * kept as text.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsError } from './errors';

/** Reads a request body, refusing anything over `limit` bytes. */
export async function readBody(request: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new AwsError('RequestEntityTooLargeException', `request body is over ${limit} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A request body as text, or undefined when it is not UTF-8. Decoded
 * leniently, invalid bytes became U+FFFD and reached what was stored (an item
 * id no client sent); each protocol refuses it with its own error instead.
 */
export function utf8Text(raw: Buffer): string | undefined {
  try {
    return STRICT_UTF8.decode(raw);
  } catch {
    return undefined;
  }
}

/** Writes a JSON response. */
export function sendJson(response: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const payload = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': contentType,
    'content-length': payload.length,
    'x-amzn-requestid': crypto.randomUUID(),
  });
  response.end(payload);
}

/** A file served as it is (the console's page and scripts). */
export class StaticFile {
  constructor(
    readonly content: Buffer,
    readonly contentType: string,
  ) {}
}

/** A response body that is already JSON text. */
export class RawJson {
  constructor(
    readonly json: string,
    readonly headers: Record<string, string> = {},
  ) {}
}
