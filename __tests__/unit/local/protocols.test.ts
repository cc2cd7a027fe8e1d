/**
 * The query protocol (`local/protocols/query.ts`), which SNS speaks, over
 * HTTP on a test endpoint: a form-encoded call reaches the API its SigV4
 * credential scope names (else the one of its `Version`), answers in the
 * protocol's XML, and is refused in the protocol's XML shape: an unknown
 * action, a denial by the real IAM gate (with the API's own code and status),
 * an operation's own error, and a failure. The JSON and REST-JSON protocols
 * are proved by every SDK test of the runtime (`local-runtime.mysql.test.ts`,
 * `hostile-requests.mysql.test.ts`, `lambda-invoke.test.ts`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AwsError } from '../../../local/errors';
import { IamGate, policySet } from '../../../local/iam';
import { QUERY_PROTOCOL, requireParam, XmlMap, type QueryApi } from '../../../local/protocols/query';
import { startTestEndpoint, type TestEndpoint } from '../../helpers/endpoint';

const ROLE = 'arn:aws:iam::000000000000:role/nobody';
let endpoint: TestEndpoint;

/** A query API for the test: `Echo` answers what it is sent in every XML form; `Fail` fails. */
function echoApi(signingName: string, version: string, gate: IamGate): QueryApi {
  return {
    signingName,
    version,
    xmlNamespace: `https://${signingName}.example/doc/${version}/`,
    accessDenied: { code: 'AuthorizationError', status: 403 },
    authorize: (principal, operation) => gate.authorize({ principal, action: `${signingName}:${operation}`, resource: '*' }),
    operations: {
      Echo: (params, caller) => ({
        Value: requireParam(params, 'Value'),
        Api: signingName,
        Caller: caller.kind,
        Items: [params['Items.member.1'], params['Items.member.2']],
        Attributes: new XmlMap({ k: 'v & w' }),
      }),
      Nothing: () => undefined,
      Refuse: () => {
        throw new AwsError('NotFound', 'Topic does not exist', 404);
      },
      Fail: () => {
        throw new Error('the operation broke');
      },
    },
  };
}

beforeAll(async () => {
  // The role's session key; the gate has no policy for it, so it may do nothing.
  endpoint = await startTestEndpoint(new Map([['ASIANOBODY', ROLE]]));
  const gate = new IamGate({ account: '000000000000', mode: 'enforce', policies: policySet([]) });
  endpoint.router.serve(QUERY_PROTOCOL, echoApi('alpha', '2099-01-01', gate));
  endpoint.router.serve(QUERY_PROTOCOL, echoApi('beta', '2099-01-01', gate));
});

afterAll(async () => {
  await endpoint?.close();
});

/** A form-encoded call, signed (in its Authorization header's credential scope) for `signingName` with `accessKey`. */
async function call(
  params: Record<string, string>,
  signingName?: string,
  accessKey = 'AKIDLOCAL',
): Promise<{ status: number; type: string | null; body: string }> {
  const authorization: Record<string, string> = signingName
    ? { authorization: `AWS4-HMAC-SHA256 Credential=${accessKey}/20240101/us-east-1/${signingName}/aws4_request, SignedHeaders=host, Signature=0` }
    : {};
  const response = await fetch(endpoint.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...authorization },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.text() };
}

describe('the query protocol', () => {
  it('answers the API the credential scope names, in XML: elements, <member> lists, <entry> maps, escaped text', async () => {
    // Act
    const answer = await call({ Action: 'Echo', Version: '2099-01-01', Value: 'a<b>&"c"', 'Items.member.1': 'x', 'Items.member.2': 'y' }, 'beta');

    // Assess
    expect({ status: answer.status, type: answer.type }).toEqual({ status: 200, type: 'text/xml' });
    expect(answer.body).toContain('<EchoResponse xmlns="https://beta.example/doc/2099-01-01/"><EchoResult>');
    expect(answer.body).toContain(
      '<Value>a&lt;b&gt;&amp;&quot;c&quot;</Value><Api>beta</Api><Caller>account</Caller><Items><member>x</member><member>y</member></Items>',
    );
    expect(answer.body).toContain('<Attributes><entry><key>k</key><value>v &amp; w</value></entry></Attributes></EchoResult>');
    expect(answer.body).toMatch(/<ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/EchoResponse>$/);
  });

  it('finds the API by Version when the call is not signed, and writes no result element for an action without one', async () => {
    const unsigned = await call({ Action: 'Echo', Version: '2099-01-01', Value: 'v' });
    const nothing = await call({ Action: 'Nothing', Version: '2099-01-01' }, 'alpha');

    expect(unsigned.body).toContain('<Api>alpha</Api>');
    expect(nothing.body).toMatch(/^<\?xml version="1.0"\?>\n<NothingResponse xmlns="[^"]+"><ResponseMetadata>/);
  });

  it('refuses an unknown action, an inherited name and a missing parameter, in the XML error shape', async () => {
    const unknown = await call({ Action: 'Publish', Version: '2099-01-01' }, 'alpha');
    const inherited = await call({ Action: 'constructor', Version: '2099-01-01' }, 'alpha');
    const missing = await call({ Action: 'Echo', Version: '2099-01-01' }, 'alpha');
    const refused = await call({ Action: 'Refuse', Version: '2099-01-01' }, 'alpha');

    for (const answer of [unknown, inherited]) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatch(
        /<ErrorResponse xmlns="[^"]+"><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code><Message>The action \w+ is not valid for this web service.<\/Message><\/Error><RequestId>/,
      );
    }
    expect(missing.body).toContain('<Code>InvalidParameter</Code><Message>Invalid parameter: Value is required</Message>');
    expect(refused.status).toBe(404);
    expect(refused.body).toContain('<Type>Sender</Type><Code>NotFound</Code>');
  });

  it("answers a role the gate denies with the API's own code and status, before the operation runs", async () => {
    const denied = await call({ Action: 'Fail', Version: '2099-01-01' }, 'alpha', 'ASIANOBODY');

    expect(denied.status).toBe(403);
    expect(denied.body).toContain(`<Code>AuthorizationError</Code><Message>User: ${ROLE} is not authorized to perform: alpha:Fail on resource: *`);
  });

  it('answers a failure of the operation as InternalFailure (500, Receiver), and keeps serving', async () => {
    const failed = await call({ Action: 'Fail', Version: '2099-01-01' }, 'alpha');
    const after = await call({ Action: 'Echo', Version: '2099-01-01', Value: 'still here' }, 'alpha');

    expect(failed.status).toBe(500);
    expect(failed.body).toContain('<Type>Receiver</Type><Code>InternalFailure</Code><Message>the operation broke</Message>');
    expect(after.body).toContain('<Value>still here</Value>');
  });

  it('leaves a request of another protocol alone', async () => {
    const json = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'AWSEvents.PutEvents', 'content-type': 'application/x-amz-json-1.1' },
      body: '{}',
    });
    expect(json.status).toBe(404);
  });
});
