/**
 * The SDK client stand-ins the bundler puts in the functions
 * (stacks/bundling/lazy-sdk-client.ts), against the real DynamoDB client
 * package and dynalite: what their importers (Powertools' idempotency store,
 * the secrets middleware, the rebuild) rely on works once the package is
 * loaded, and the package is loaded only when needed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as dynamodb from '@aws-sdk/client-dynamodb';
import { addUserAgentMiddleware } from '@aws-lambda-powertools/commons';
import { lazyClient, lazyCommand, lazyException, lazyPackage, type LazyPackage } from '../../stacks/bundling/lazy-sdk-client';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';

const TABLE = 'lazy-client';

interface StandInClient {
  send(command: unknown): Promise<unknown>;
  destroy(): void;
  readonly config: unknown;
  readonly middlewareStack: Record<string, (...args: unknown[]) => unknown>;
}

/** The stand-ins of one fresh package (as one bundle has them). */
function standIns(): {
  pkg: LazyPackage;
  Client: new (config: object) => StandInClient;
  Put: new (input: object) => object;
  Get: new (input: object) => object;
  Conflict: new () => object;
} {
  const pkg = lazyPackage('@aws-sdk/client-dynamodb');
  // As a bundle has it: each importer's part of the package behind its own import().
  pkg.add(async () => ({ DynamoDBClient: dynamodb.DynamoDBClient, ConditionalCheckFailedException: dynamodb.ConditionalCheckFailedException }));
  pkg.add(async () => ({ PutItemCommand: dynamodb.PutItemCommand, GetItemCommand: dynamodb.GetItemCommand }));
  return {
    pkg,
    Client: lazyClient(pkg, 'DynamoDBClient'),
    Put: lazyCommand('PutItemCommand'),
    Get: lazyCommand('GetItemCommand'),
    Conflict: lazyException(pkg, 'ConditionalCheckFailedException'),
  };
}

let dynamo: LocalDynamo;
let config: object;

beforeAll(async () => {
  dynamo = await startDynalite(TABLE);
  config = { endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
});

afterAll(async () => {
  await dynamo.close();
});

describe('an SDK client stand-in', () => {
  it('sends its commands as the real ones, through the real client', async () => {
    const { Client, Put, Get } = standIns();
    const client = new Client(config);

    await client.send(new Put({ TableName: TABLE, Item: { id: { S: 'sent' }, status: { S: 'COMPLETED' } } }));
    const read = (await client.send(new Get({ TableName: TABLE, Key: { id: { S: 'sent' } }, ConsistentRead: true }))) as {
      Item?: Record<string, { S?: string }>;
    };

    expect(read.Item?.status?.S).toBe('COMPLETED');
    client.destroy();
  });

  it('answers instanceof for the real exception class, as the idempotency store checks a conditional write', async () => {
    const { Client, Put, Conflict } = standIns();
    const client = new Client(config);
    const put = () => client.send(new Put({ TableName: TABLE, Item: { id: { S: 'once' } }, ConditionExpression: 'attribute_not_exists(id)' }));
    await put();

    const error = await put().then(
      () => undefined,
      (failure: unknown) => failure,
    );

    expect(error instanceof Conflict).toBe(true);
    expect(error instanceof dynamodb.ConditionalCheckFailedException).toBe(true);
    expect(new Error('other') instanceof Conflict).toBe(false);
    expect(() => new Conflict()).toThrow(/stand-in for instanceof checks/);
    client.destroy();
  });

  it("runs middleware added before its first call (Powertools' user agent) on the real client", async () => {
    const { Client, Get } = standIns();
    const client = new Client(config);
    const userAgents: string[] = [];
    addUserAgentMiddleware(client, 'idempotency');
    client.middlewareStack.add?.(
      (next: (args: { request: { headers: Record<string, string> } }) => Promise<unknown>) =>
        async (args: { request: { headers: Record<string, string> } }) => {
          userAgents.push(args.request.headers['user-agent'] ?? '');
          return next(args);
        },
      { step: 'finalizeRequest', name: 'captureUserAgent' },
    );
    const identified = client.middlewareStack.identify?.() as string[];

    await client.send(new Get({ TableName: TABLE, Key: { id: { S: 'absent' } } }));

    expect(identified).toEqual(['addPowertoolsToUserAgent - after getUserAgentMiddleware', 'captureUserAgent - finalizeRequest']);
    expect(userAgents).toHaveLength(1);
    expect(userAgents[0]).toMatch(/PT\/idempotency\//);
    // Once loaded, the stack is the real client's.
    expect(client.middlewareStack.identify?.()).toEqual(
      expect.arrayContaining([
        'addPowertoolsToUserAgent - after getUserAgentMiddleware',
        'captureUserAgent - finalizeRequest',
        'retryMiddleware - finalizeRequest',
      ]),
    );
    client.destroy();
  });

  it('refuses, naming it, a middleware-stack call it cannot record before the package is loaded', () => {
    const { Client } = standIns();
    const client = new Client(config);

    expect(() => client.middlewareStack.remove?.('anything')).toThrow(
      /DynamoDBClient\.middlewareStack\.remove before the client's first call is not supported/,
    );
    client.destroy();
  });

  it('loads its package only after the code that constructed it has run, or at its first call', async () => {
    const { pkg, Client } = standIns();
    const client = new Client(config);

    const loadedWhileConstructing = pkg.loaded !== undefined;
    await pkg.load();

    expect(loadedWhileConstructing).toBe(false);
    expect(pkg.loaded?.DynamoDBClient).toBe(dynamodb.DynamoDBClient);
    // The real client's resolved configuration, once it exists.
    await new Promise((resolve) => setImmediate(resolve));
    expect(typeof (client.config as { region?: unknown }).region).toBe('function');
    client.destroy();
  });
});
