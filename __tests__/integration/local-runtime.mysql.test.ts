/**
 * The local runtime end to end, started as `npm start` would be (child
 * process, free port, its own read-model database on the MariaDB/MySQL at
 * DB_URL), driven only through AWS SDK v3 clients, the AWS CLI and HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { EventBridgeClient, ListRulesCommand, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Pool } from 'mysql2/promise';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { localEvents, localIdle, putEntries, waitForResponse, type PipelineEvent, type Target } from '../../clients/pipeline-client';
import { readModelPool, startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { adminConnection, serverUrl, dropReadModel } from '../helpers/mysql';
import { budget } from '../helpers/budget';

let runtime: RunningLocalRuntime;
let target: Target;
let events: EventBridgeClient;
let pool: Pool;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(
  async () => {
    // One test here provokes a denial on purpose.
    runtime = await startLocalRuntime({ allowDenials: true });
    target = { kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint };
    events = new EventBridgeClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    pool = readModelPool(runtime);
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  events?.destroy();
  await pool?.end();
  await runtime?.stop();
});

async function send(detailType: string, detail: unknown, bus: string = runtime.busName): Promise<string> {
  const result = await events.send(
    new PutEventsCommand({
      Entries: [{ EventBusName: bus, Source: 'orderPipeline', DetailType: detailType, Detail: JSON.stringify(detail), Time: new Date('2022-10-13T19:00:00Z') }],
    }),
  );
  expect(result.FailedEntryCount).toBe(0);
  return result.Entries?.[0]?.EventId as string;
}

async function answer(detailType: string, detail: unknown): Promise<PipelineEvent['detail']> {
  return (await waitForResponse(target, await send(detailType, detail), 20_000)).detail;
}

async function totals(itemId: string): Promise<unknown> {
  const [rows] = await pool.query('SELECT total_ordered FROM item_totals WHERE item_id = ?', [itemId]);
  return (rows as { total_ordered: number }[])[0]?.total_ordered;
}

describe('local runtime', () => {
  it('creates the original sample order, answers orderCreated and projects it into the read model', async () => {
    // Act
    const response = await answer('orderCommand', {
      command: 'createOrder',
      orderId: '6102',
      items: [
        { itemid: 'z3333', quantity: 6 },
        { itemid: 'z4444', quantity: 3 },
      ],
    });
    await localIdle(runtime.endpoint);

    // Assess
    expect(response).toEqual({ orderid: '6102', commandStatus: 'orderCreated', commandMessageId: expect.any(String) });
    expect(await totals('z3333')).toBe(6);
    expect(await totals('z4444')).toBe(3);
  });

  it('answers the same command again with orderCreated and does not count it twice', async () => {
    const response = await answer('orderCommand', {
      command: 'createOrder',
      orderId: '6102',
      items: [
        { itemid: 'z4444', quantity: 3 },
        { itemid: 'z3333', quantity: 6 },
      ],
    });
    await localIdle(runtime.endpoint);
    expect(response).toMatchObject({ orderid: '6102', commandStatus: 'orderCreated' });
    expect(await totals('z3333')).toBe(6);
  });

  it('refuses a conflicting command and leaves the stored order untouched', async () => {
    const response = await answer('orderCommand', { command: 'createOrder', orderId: '6102', items: [{ itemid: 'z3333', quantity: 60 }] });
    await localIdle(runtime.endpoint);
    expect(response).toMatchObject({ orderid: '6102', commandStatus: 'orderRejected', error: { code: 'OrderConflict' } });
    expect(await totals('z3333')).toBe(6);
  });

  it('answers both queries with the contract rows', async () => {
    const report = await answer('orderQuery', { query: 'itemsSalesReport' });
    const monthly = await answer('orderQuery', { query: 'monthlySalesByItem', itemid: 'z3333' });
    expect(report).toEqual({
      query: 'itemsSalesReport',
      queryMessageId: expect.any(String),
      queryStatus: 200,
      queryResult: expect.arrayContaining([
        { itemid: 'z3333', totalordered: 6, lastorderdate: '2022-10-13' },
        { itemid: 'z4444', totalordered: 3, lastorderdate: '2022-10-13' },
      ]),
    });
    expect(monthly).toEqual({
      query: 'monthlySalesByItem',
      queryMessageId: expect.any(String),
      queryItemId: 'z3333',
      queryStatus: 200,
      queryResult: [{ monthyear: 'October 2022', monthlyordered: 6 }],
    });
  });

  it('answers orderDetails with the lines in the order sent, 404 for an order it does not hold, 400 for a bad id', async () => {
    // Act
    const found = await answer('orderQuery', { query: 'orderDetails', orderId: '6102' });
    const missing = await answer('orderQuery', { query: 'orderDetails', orderId: 'never-sent' });
    const invalid = await answer('orderQuery', { query: 'orderDetails', orderId: 'not valid!' });

    // Assess
    expect(found).toEqual({
      query: 'orderDetails',
      queryMessageId: expect.any(String),
      queryOrderId: '6102',
      queryOrderStatus: 'created',
      queryStatus: 200,
      queryResult: [
        { itemid: 'z3333', quantity: 6, orderdate: '2022-10-13' },
        { itemid: 'z4444', quantity: 3, orderdate: '2022-10-13' },
      ],
    });
    expect(missing).toEqual({
      query: 'orderDetails',
      queryMessageId: expect.any(String),
      queryOrderId: 'never-sent',
      queryStatus: 404,
      error: { code: 'OrderNotFound', message: expect.stringContaining('"never-sent" is not in the read model') },
    });
    expect(invalid).toMatchObject({
      queryOrderId: 'not valid!',
      queryStatus: 400,
      error: { code: 'ValidationError', message: 'detail.orderId must use only the characters A-Z a-z 0-9 _ . : -' },
    });
  });

  it(
    'answers npm run query -- orderDetails 6102 from the command line',
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'scripts/query.ts', 'orderDetails', '6102', '--endpoint', runtime.endpoint],
        {
          cwd: new URL('../..', import.meta.url).pathname,
          env: { ...process.env, NODE_OPTIONS: '', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
        },
      );
      expect(stdout).toMatch(/orderDetails 6102 \(queryMessageId [0-9a-f-]+\)/);
      expect(stdout).toMatch(/\| z3333 +\| +6 \| 2022-10-13 +\|/);
    },
    budget({ cliRuns: 1 }),
  );

  it('stores and answers an item id full of SQL metacharacters verbatim, end to end', async () => {
    const itemid = `x'); DROP TABLE orders; -- \\ %_"`;
    expect(await answer('orderCommand', { command: 'createOrder', orderId: 'meta-1', items: [{ itemid, quantity: 4 }] })).toMatchObject({
      commandStatus: 'orderCreated',
    });
    await localIdle(runtime.endpoint);
    expect(await answer('orderQuery', { query: 'monthlySalesByItem', itemid })).toMatchObject({
      queryItemId: itemid,
      queryStatus: 200,
      queryResult: [{ monthyear: 'October 2022', monthlyordered: 4 }],
    });
    expect(await totals(itemid)).toBe(4);
  });

  it('refuses an invalid command with orderRejected naming the fields', async () => {
    const response = await answer('orderCommand', { command: 'createOrder', orderId: '', items: [{ itemid: 'a', quantity: 0 }] });
    expect(response).toMatchObject({
      commandStatus: 'orderRejected',
      error: { code: 'ValidationError', message: 'detail.orderId must not be empty; detail.items[0].quantity must be an integer from 1 to 1000000, got 0' },
    });
  });

  it('answers a bad query with queryStatus 400', async () => {
    expect(await answer('orderQuery', { query: 'monthlySalesByItem' })).toMatchObject({
      queryStatus: 400,
      error: { code: 'ValidationError', message: 'detail.itemid is required' },
    });
    expect(await answer('orderQuery', { query: 'everything' })).toMatchObject({ queryStatus: 400, error: { code: 'UnsupportedQuery' } });
  });

  it('starts no execution for an event no rule matches', async () => {
    // Prepare
    const before = (await (await fetch(`${runtime.endpoint}/_local/executions`)).json()) as unknown[];

    // Act
    const id = await send('somethingElse', { hello: 'world' });
    await localIdle(runtime.endpoint);

    // Assess
    const after = (await (await fetch(`${runtime.endpoint}/_local/executions`)).json()) as unknown[];
    expect(after).toHaveLength(before.length);
    expect((await localEvents(runtime.endpoint)).some((event) => event.id === id)).toBe(true);
  });

  it('validates PutEvents entries as AWS does', async () => {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: runtime.busName, Source: 'orderPipeline', DetailType: 'orderCommand', Detail: 'not json' },
          { EventBusName: runtime.busName, Source: 'orderPipeline', DetailType: 'orderCommand', Detail: '[1, 2]' },
          { EventBusName: 'no-such-bus', Source: 'orderPipeline', DetailType: 'orderCommand', Detail: '{}' },
          { EventBusName: runtime.busArn, Source: 'orderPipeline', DetailType: 'orderQuery', Detail: '{"query":"itemsSalesReport"}' },
        ],
      }),
    );
    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries?.map((entry) => entry.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'MalformedDetail', 'ResourceNotFoundException', 'ok']);
    await expect(events.send(new PutEventsCommand({ Entries: [] }))).rejects.toThrow(/entries/);
  });

  it('runs the workflow through StartSyncExecution, StartExecution and DescribeExecution', async () => {
    // Prepare
    const sfn = new SFNClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials, disableHostPrefix: true });
    const input = JSON.stringify({
      id: 'direct-1',
      'detail-type': 'orderQuery',
      source: 'orderPipeline',
      time: '2022-10-13T19:00:00Z',
      detail: { query: 'itemsSalesReport' },
    });

    try {
      // Act
      const sync = await sfn.send(new StartSyncExecutionCommand({ stateMachineArn: runtime.stateMachineArn, input }));
      const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: runtime.stateMachineArn, input: JSON.stringify({ nothing: true }) }));
      await localIdle(runtime.endpoint);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

      // Assess
      expect(sync.status).toBe('SUCCEEDED');
      expect((JSON.parse(sync.output as string) as { response: unknown }).response).toMatchObject({ queryMessageId: 'direct-1', queryStatus: 200 });
      expect(described).toMatchObject({ status: 'FAILED', error: 'UnroutableEvent' });
    } finally {
      sfn.destroy();
    }
  });

  it("refuses a function role's call its synthesized policy does not allow, with AccessDeniedException, and lists the denial", async () => {
    // Prepare: the validation function's role may not touch DynamoDB at all.
    const status = (await (await fetch(`${runtime.endpoint}/_local/status`)).json()) as { functions: { name: string; role: string }[] };
    const role = status.functions.find((fn) => fn.name.endsWith('validate-request'))!.role;
    const { roleAccessKeyId } = await import('../../local/sessions');
    const dynamo = new DynamoDBClient({
      endpoint: runtime.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: roleAccessKeyId(role), secretAccessKey: 'x', sessionToken: 'y' },
      maxAttempts: 1,
    });

    // Act
    const scan = dynamo.send(new ScanCommand({ TableName: 'order-pipeline-local-orders' }));

    // Assess
    await expect(scan).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`User: ${role} is not authorized to perform: dynamodb:Scan`),
    });
    const denials = (await (await fetch(`${runtime.endpoint}/_local/denials`)).json()) as {
      principal: string;
      action: string;
      resource: string;
      missing: string;
    }[];
    expect(denials).toEqual([
      expect.objectContaining({
        principal: role,
        action: 'dynamodb:Scan',
        resource: expect.stringContaining(':table/order-pipeline-local-orders'),
        missing: expect.any(String),
      }),
    ]);
    dynamo.destroy();
  });

  it('serves the local database credentials through GetSecretValue', async () => {
    const secrets = new SecretsManagerClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    // The secret Aurora manages for the cluster: its ARN, as the functions' DB_SECRET_ID has it.
    const status = (await (await fetch(`${runtime.endpoint}/_local/status`)).json()) as { secrets: string[] };
    const secret = await secrets.send(new GetSecretValueCommand({ SecretId: status.secrets[0] }));
    secrets.destroy();
    expect(JSON.parse(secret.SecretString as string)).toEqual({ username: expect.any(String), password: expect.any(String) });
  });

  it('answers unsupported operations with an AWS-style error instead of hanging', async () => {
    const dynamo = new DynamoDBClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    await expect(dynamo.send(new TransactWriteItemsCommand({ TransactItems: [] }))).rejects.toMatchObject({ name: 'UnknownOperationException' });
    await expect(events.send(new ListRulesCommand({}))).rejects.toMatchObject({ name: 'UnknownOperationException' });
    dynamo.destroy();
  });

  it('retries a record the projection cannot handle, then sends it to the on-failure destination with the reason', async () => {
    // Prepare: any client writing to the orders table feeds the stream.
    const dynamo = new DynamoDBClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    const sqs = new SQSClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    try {
      // Act
      await dynamo.send(
        new PutItemCommand({
          TableName: 'order-pipeline-local-orders',
          Item: {
            orderid: { S: 'poison-1' },
            orderedAt: { S: '2022-10-13T19:00:00.000Z' },
            items: { L: [{ M: { itemid: { S: 'p' }, quantity: { S: 'many' } } }] },
          },
        }),
      );
      await localIdle(runtime.endpoint);

      // Assess
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'order-pipeline-local-projection-failures' }));
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      const bodies = (received.Messages ?? []).map((message) => JSON.parse(message.Body as string) as unknown);
      expect(bodies).toEqual([
        expect.objectContaining({
          requestContext: expect.objectContaining({ condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 }),
          DDBStreamBatchInfo: expect.objectContaining({ batchSize: 1, streamArn: expect.stringContaining('order-pipeline-local-orders/stream/') }),
          localDiagnostics: expect.objectContaining({ recordErrors: [expect.stringContaining('items[0].quantity is required (N attribute)')] }),
        }),
      ]);
      const scan = await dynamo.send(new ScanCommand({ TableName: 'order-pipeline-local-orders' }));
      expect(scan.Items?.map((item) => item.orderid?.S)).toEqual(expect.arrayContaining(['6102', 'poison-1']));
    } finally {
      dynamo.destroy();
      sqs.destroy();
    }
  });

  it('captures a stream record for every change any client makes, readable through the DynamoDB Streams API', async () => {
    // Prepare
    const dynamo = new DynamoDBClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    const streams = new DynamoDBStreamsClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials });
    const table = 'order-pipeline-local-idempotency';
    try {
      await dynamo.send(
        new CreateTableCommand({
          TableName: 'stream-probe',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
        }),
      );
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: 'stream-probe' }));

      // Act
      await dynamo.send(new PutItemCommand({ TableName: 'stream-probe', Item: { pk: { S: 'a' }, v: { N: '1' } } }));
      const replaced = await dynamo.send(new PutItemCommand({ TableName: 'stream-probe', Item: { pk: { S: 'a' }, v: { N: '2' } }, ReturnValues: 'ALL_OLD' }));
      await dynamo.send(new PutItemCommand({ TableName: 'stream-probe', Item: { pk: { S: 'a' }, v: { N: '2' } } }));
      await dynamo.send(
        new UpdateItemCommand({
          TableName: 'stream-probe',
          Key: { pk: { S: 'a' } },
          UpdateExpression: 'SET v = :v',
          ExpressionAttributeValues: { ':v': { N: '3' } },
        }),
      );
      await dynamo.send(new DeleteItemCommand({ TableName: 'stream-probe', Key: { pk: { S: 'a' } } }));
      await dynamo.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'not-streamed' } } }));
      const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Table?.LatestStreamArn }));
      const { ShardIterator } = await streams.send(
        new GetShardIteratorCommand({ StreamArn: Table?.LatestStreamArn, ShardId: StreamDescription?.Shards?.[0]?.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      const { Records = [] } = await streams.send(new GetRecordsCommand({ ShardIterator }));

      // Assess
      expect(replaced.Attributes).toEqual({ pk: { S: 'a' }, v: { N: '1' } });
      expect(Records.map((record) => [record.eventName, record.dynamodb?.OldImage?.v?.N, record.dynamodb?.NewImage?.v?.N])).toEqual([
        ['INSERT', undefined, '1'],
        ['MODIFY', '1', '2'],
        ['MODIFY', '2', '3'],
        ['REMOVE', '3', undefined],
      ]);
      const sequence = Records.map((record) => BigInt(record.dynamodb?.SequenceNumber ?? '0'));
      expect(sequence).toEqual([...sequence].sort((a, b) => (a < b ? -1 : 1)));
      expect(new Set(sequence).size).toBe(4);
      expect(Records.every((record) => record.dynamodb?.Keys?.pk?.S === 'a')).toBe(true);
    } finally {
      dynamo.destroy();
      streams.destroy();
    }
  });

  it(
    'works with every installed AWS CLI (v1 and v2), as the original README does',
    async () => {
      // Prepare: the CLIs on this machine (.ci/run installs v2 next to the image's v1).
      const run = promisify(execFile);
      const candidates = ['aws', '/root/.pyenv/shims/aws', '/usr/local/bin/aws', '/usr/bin/aws'];
      const clis = new Map<string, string>();
      for (const candidate of candidates) {
        const version = await run(candidate, ['--version']).then(
          (out) => `${out.stdout}${out.stderr}`,
          () => '',
        );
        const major = /aws-cli\/(\d)/.exec(version)?.[1];
        if (major && !clis.has(major)) clis.set(major, candidate);
      }
      expect([...clis.keys()].length).toBeGreaterThan(0);

      for (const [major, cli] of clis) {
        // Act: the original README's command, with --endpoint-url.
        const entries = JSON.stringify([
          {
            EventBusName: runtime.busArn,
            Time: '2022-10-13T19:00:00Z',
            DetailType: 'orderCommand',
            Source: 'orderPipeline',
            Detail: JSON.stringify({ command: 'createOrder', orderId: `cli-v${major}`, items: [{ itemid: 'cli-item', quantity: 2 }] }),
          },
        ]);
        const { stdout } = await run(
          cli,
          ['--endpoint-url', runtime.endpoint, '--region', 'us-east-1', '--output', 'json', 'events', 'put-events', '--entries', entries],
          {
            env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' },
          },
        );
        const id = (JSON.parse(stdout) as { Entries: { EventId: string }[] }).Entries[0]?.EventId as string;

        // Assess
        expect({ major, detail: (await waitForResponse(target, id)).detail }).toMatchObject({
          major,
          detail: { orderid: `cli-v${major}`, commandStatus: 'orderCreated' },
        });
        const scan = await run(
          cli,
          [
            '--endpoint-url',
            runtime.endpoint,
            '--region',
            'us-east-1',
            '--output',
            'json',
            'dynamodb',
            'get-item',
            '--table-name',
            'order-pipeline-local-orders',
            '--key',
            JSON.stringify({ orderid: { S: `cli-v${major}` } }),
          ],
          {
            env: { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_PAGER: '' },
          },
        );
        expect((JSON.parse(scan.stdout) as { Item: { orderid: { S: string } } }).Item.orderid.S).toBe(`cli-v${major}`);
      }
    },
    budget({ awsCliRuns: 8, seconds: 5 }),
  );

  it(
    'keeps DynamoDB and the read model across restarts with --data',
    async () => {
      // Prepare
      const data = mkdtempSync(path.join(tmpdir(), 'local-data-'));
      const url = serverUrl();
      const dbUrl = `mysql://${url.username || 'root'}@${url.hostname}:${url.port || 3306}/test_persist_${process.pid}`;
      let second: RunningLocalRuntime;
      let response: PipelineEvent;
      let report: PipelineEvent;
      // The database is dropped whatever happens, so a failed run leaves nothing behind.
      try {
        const first = await startLocalRuntime({ args: ['--data', data], dbUrl });
        const firstTarget: Target = { kind: 'local', bus: first.busName, endpoint: first.endpoint };
        const [id] = await putEntries(firstTarget, [
          {
            Source: 'orderPipeline',
            DetailType: 'orderCommand',
            Detail: { command: 'createOrder', orderId: 'kept-1', items: [{ itemid: 'kept', quantity: 5 }] },
          },
        ]);
        await waitForResponse(firstTarget, id as string);
        await localIdle(first.endpoint);
        expect(await first.stop()).toBe(0);

        // Act
        second = await startLocalRuntime({ args: ['--data', data], dbUrl });
        const secondTarget: Target = { kind: 'local', bus: second.busName, endpoint: second.endpoint };
        const [again] = await putEntries(secondTarget, [
          {
            Source: 'orderPipeline',
            DetailType: 'orderCommand',
            Detail: { command: 'createOrder', orderId: 'kept-1', items: [{ itemid: 'kept', quantity: 5 }] },
          },
        ]);
        response = await waitForResponse(secondTarget, again as string);
        await localIdle(second.endpoint);
        report = await waitForResponse(
          secondTarget,
          (await putEntries(secondTarget, [{ Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'itemsSalesReport' } }]))[0] as string,
        );
        await second.stop();
      } finally {
        const admin = await adminConnection();
        await dropReadModel(admin, `test_persist_${process.pid}`);
        await admin.end();
      }

      // Assess: the order was still there (an exact duplicate), and counted once.
      expect(second.output()).not.toContain('cleared');
      expect(response.detail).toMatchObject({ orderid: 'kept-1', commandStatus: 'orderCreated' });
      expect(report.detail.queryResult).toEqual([{ itemid: 'kept', totalordered: 5, lastorderdate: expect.any(String) }]);
    },
    budget({ runtimeStarts: 2, seconds: 10 }),
  );

  it(
    'stops cleanly on Ctrl-C',
    async () => {
      // Prepare: a runtime of its own, so the shared one keeps serving the other tests.
      const other = await startLocalRuntime();

      // Act
      const code = await other.stop();

      // Assess
      expect(code).toBe(0);
      expect(other.output()).toContain('local pipeline stopped');
      await expect(fetch(`${other.endpoint}/_local/status`)).rejects.toThrow();
    },
    budget({ runtimeStarts: 1 }),
  );

  it(
    'stops cleanly when its output goes away (the reader of its pipe exits), instead of failing every write in a loop',
    async () => {
      // Prepare: a runtime that prints what its functions log, so a command makes it write.
      const other = await startLocalRuntime({ args: ['--function-logs'] });
      const exited = new Promise<number | null>((resolve) => other.process.once('exit', (code) => resolve(code)));

      // Act: the reader goes (as `npm start | head` does once head has its lines), then the runtime has something to say.
      other.process.stdout?.destroy();
      other.process.stderr?.destroy();
      await putEntries({ kind: 'local', bus: other.busArn, endpoint: other.endpoint }, [
        {
          Source: 'orderPipeline',
          DetailType: 'orderCommand',
          Detail: { command: 'createOrder', orderId: 'unread-1', items: [{ itemid: 'unread', quantity: 1 }] },
        },
      ]);

      // Assess: it stopped by itself, cleanly, and its port is closed.
      expect(await exited).toBe(0);
      await expect(fetch(`${other.endpoint}/_local/status`)).rejects.toThrow();
      await other.stop();
    },
    budget({ runtimeStarts: 1, seconds: 10 }),
  );
});
