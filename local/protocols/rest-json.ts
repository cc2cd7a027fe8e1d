/**
 * The AWS REST-JSON protocol, as the local endpoint speaks it: the operation
 * is the method and path (`POST /2015-03-31/functions/<name>/invocations`,
 * Lambda's `Invoke`), the payload the body; errors carry their code in the
 * `x-amzn-errortype` header and `{"Type": "User", "message": ...}` in the body,
 * with the HTTP status of the error (403 for a denial).
 */
import type { ServerResponse } from 'node:http';
import { AccessDeniedError, AwsError } from '../errors';
import { sendJson } from '../http';
import type { Call, Protocol } from '../service';

/** One REST operation: its method and path, and its handler, given the path's match. */
export interface RestRoute {
  readonly method: string;
  readonly path: RegExp;
  /** Answers the call; its own authorization included. An `AwsError` or a denial it throws is answered in this protocol's shape. */
  readonly handle: (call: Call, match: RegExpExecArray) => Promise<void>;
}

/** Writes an error of the REST-JSON protocol. */
function sendRestJsonError(response: ServerResponse, error: AwsError): void {
  response.setHeader('x-amzn-errortype', error.type);
  sendJson(response, error.status, { Type: error.status < 500 ? 'User' : 'Service', message: error.message });
}

/** The REST-JSON protocol: a request whose method and path one of the routes matches is its. */
export const REST_JSON_PROTOCOL: Protocol<RestRoute> = {
  name: 'AWS REST-JSON (method and path)',
  async serve(call, routes) {
    const { request, response, url } = call;
    for (const route of routes) {
      const match = request.method === route.method ? route.path.exec(url.pathname) : null;
      if (!match) continue;
      try {
        await route.handle(call, match);
      } catch (error) {
        if (response.headersSent) throw error;
        if (error instanceof AwsError) sendRestJsonError(response, error);
        else if (error instanceof AccessDeniedError) sendRestJsonError(response, new AwsError('AccessDeniedException', error.message, 403, { cause: error }));
        else throw error;
      }
      return true;
    }
    return false;
  },
};
