/**
 * The AWS query protocol, as the local endpoint speaks it (SNS, and what the
 * AWS CLI sends for it): `POST /` with a form-encoded body
 * (`Action=Publish&Version=2010-03-31&TopicArn=…`); the answer is XML,
 * `<PublishResponse><PublishResult>…</PublishResult><ResponseMetadata>…`, an
 * error `<ErrorResponse><Error><Type/><Code/><Message/></Error>` with its HTTP
 * status. The API is the one the call's SigV4 credential scope names
 * (`…/us-east-1/sns/aws4_request`), else the one of its `Version`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AccessDeniedError, AwsError } from '../errors';
import { readBody, utf8Text } from '../http';
import type { Principal } from '../iam';
import type { Protocol } from '../service';

/** A call's parameters, flattened as the protocol sends them (`Attributes.entry.1.key`). */
export type QueryParams = Readonly<Record<string, string>>;

/** A value of an XML answer: an element per key, a `<member>` per list item, an `<entry><key/><value/>` per map entry. */
export type XmlValue = string | number | boolean | undefined | XmlMap | readonly XmlValue[] | { readonly [element: string]: XmlValue };

/** A map answered as `<entry><key>…</key><value>…</value></entry>` (SNS's `Attributes`). */
export class XmlMap {
  constructor(readonly entries: Readonly<Record<string, string>>) {}
}

/** An API served through the query protocol. */
export interface QueryApi {
  /** The SigV4 signing name (`sns`), which the credential scope of each call names. */
  readonly signingName: string;
  /** The API version calls carry (`2010-03-31`). */
  readonly version: string;
  /** The namespace of its XML answers. */
  readonly xmlNamespace: string;
  /** Each action's handler, once the caller is authorized: its parameters and caller in, the content of `<ActionResult>` out (undefined: no result element). */
  readonly operations: Readonly<Record<string, (params: QueryParams, caller: Principal) => Promise<XmlValue> | XmlValue>>;
  /** The IAM requests AWS evaluates for a call of a role or client identity; a denial throws `AccessDeniedError`. */
  readonly authorize: (principal: Principal, operation: string, params: QueryParams) => Promise<void>;
  /** The code and HTTP status the API answers a denied call with (SNS: `AuthorizationError`, 403). */
  readonly accessDenied: { readonly code: string; readonly status: number };
}

/** Reads a required parameter, refusing its absence with the API's `code` (SNS: `InvalidParameter`). */
export function requireParam(params: QueryParams, name: string, code = 'InvalidParameter'): string {
  const value = params[name];
  if (value === undefined || value.length === 0) throw new AwsError(code, `Invalid parameter: ${name} is required`);
  return value;
}

/**
 * A form-encoded body's parameters, strictly: the body and every
 * percent-escape must be UTF-8 (URLSearchParams turned either into U+FFFD,
 * and a message no client sent was published).
 */
function formParameters(raw: Buffer): Record<string, string> {
  const refused = (options: ErrorOptions = {}) => new AwsError('MalformedQueryString', 'the request body is not valid UTF-8 form encoding', 400, options);
  const text = utf8Text(raw);
  if (text === undefined) throw refused();
  const decode = (part: string) => decodeURIComponent(part.replace(/\+/g, ' '));
  const entries: [string, string][] = [];
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    try {
      entries.push(at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))]);
    } catch (error) {
      throw refused({ cause: error });
    }
  }
  // As URLSearchParams did: own properties only (a "__proto__" name is a name), the last value of a name wins.
  return Object.fromEntries(entries);
}

/** The query protocol: a form-encoded `POST` is its. */
export const QUERY_PROTOCOL: Protocol<QueryApi> = {
  name: 'AWS query (form-encoded Action, XML answers)',
  async serve({ request, response, principal }, apis) {
    if (request.method !== 'POST' || !String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return false;
    let api: QueryApi | undefined;
    try {
      const params = formParameters(await readBody(request));
      api = apis.find((candidate) => candidate.signingName === signingName(request)) ?? apis.find((candidate) => candidate.version === params.Version);
      const action = params.Action ?? '';
      const operation = api && Object.hasOwn(api.operations, action) ? api.operations[action] : undefined;
      if (!api || !operation) throw new AwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
      if (principal.kind !== 'account') await api.authorize(principal, action, params);
      const result = await operation(params, principal);
      sendXml(
        response,
        200,
        { [`${action}Response`]: { ...(result === undefined ? {} : { [`${action}Result`]: result }), ResponseMetadata: { RequestId: randomUUID() } } },
        api.xmlNamespace,
      );
    } catch (error) {
      if (response.headersSent) throw error;
      sendQueryError(response, asAwsError(error, api), api?.xmlNamespace);
    }
    return true;
  },
};

/** The signing name of the call's SigV4 credential scope (`Credential=<key>/<date>/<region>/<service>/aws4_request`). */
function signingName(request: IncomingMessage): string | undefined {
  return /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(request.headers.authorization ?? '')?.[1];
}

function asAwsError(error: unknown, api: QueryApi | undefined): AwsError {
  if (error instanceof AwsError) return error;
  if (error instanceof AccessDeniedError)
    return new AwsError(api?.accessDenied.code ?? 'AccessDenied', error.message, api?.accessDenied.status ?? 403, { cause: error });
  return new AwsError('InternalFailure', (error as Error).message, 500, { cause: error });
}

/** Writes an error of the query protocol. */
function sendQueryError(response: ServerResponse, error: AwsError, namespace = 'https://local/'): void {
  sendXml(
    response,
    error.status,
    { ErrorResponse: { Error: { Type: error.status < 500 ? 'Sender' : 'Receiver', Code: error.type, Message: error.message }, RequestId: randomUUID() } },
    namespace,
  );
}

function sendXml(response: ServerResponse, status: number, document: { readonly [root: string]: XmlValue }, namespace: string): void {
  const [root, value] = Object.entries(document)[0] as [string, XmlValue];
  const payload = Buffer.from(`<?xml version="1.0"?>\n<${root} xmlns="${escapeXml(namespace)}">${xml(value)}</${root}>`);
  response.writeHead(status, { 'content-type': 'text/xml', 'content-length': payload.length, 'x-amzn-requestid': randomUUID() });
  response.end(payload);
}

/** The XML of a value (the content of its element). */
function xml(value: XmlValue): string {
  if (value === undefined) return '';
  if (value instanceof XmlMap)
    return Object.entries(value.entries)
      .map(([key, entry]) => `<entry><key>${escapeXml(key)}</key><value>${escapeXml(entry)}</value></entry>`)
      .join('');
  if (Array.isArray(value)) return value.map((member: XmlValue) => `<member>${xml(member)}</member>`).join('');
  if (typeof value === 'object')
    return Object.entries(value as Record<string, XmlValue>)
      .map(([name, child]) => (child === undefined ? '' : `<${name}>${xml(child)}</${name}>`))
      .join('');
  return escapeXml(String(value));
}

/** Text as XML character data: markup escaped, and characters XML 1.0 cannot carry replaced by U+FFFD. */
function escapeXml(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- the controls XML 1.0 allows (tab, LF, CR) are named on purpose.
      .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
  );
}
