/**
 * Client teams try their code locally against the exported policies: a call
 * signed with the access key id `producer` acts under the synthesized producer
 * policy, `consumer` under the consumer policy. A `PutEvents` call is
 * authorized once with the values of all its entries, so a forged response
 * beside a command refuses the whole call, and nothing of it is delivered.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { localEvents, localIdle } from '../../clients/pipeline-client';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { budget } from '../helpers/budget';

let runtime: RunningLocalRuntime;
const signedAs = (accessKeyId: string) => ({ endpoint: runtime.endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'local' } });
const entry = (detailType: string, detail: Record<string, unknown>): PutEventsRequestEntry => ({
  EventBusName: runtime.busArn,
  Source: 'orderPipeline',
  DetailType: detailType,
  Detail: JSON.stringify(detail),
});
const command = (orderId: string) => entry('orderCommand', { command: 'createOrder', orderId, items: [{ itemid: `item-${orderId}`, quantity: 1 }] });
const forged = (orderId: string) => entry('orderCommandResponse', { orderid: orderId, commandStatus: 'orderCreated', commandMessageId: 'forged' });

beforeAll(
  async () => {
    // The refused calls are denials on purpose.
    runtime = await startLocalRuntime({ allowDenials: true });
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await runtime?.stop();
});

/** Everything that mentions `orderId`: on the bus, in executions, in the responses log group. */
async function traces(orderId: string): Promise<{ bus: number; executions: number; logs: number }> {
  await localIdle(runtime.endpoint);
  const bus = (await localEvents(runtime.endpoint)).filter((event) => JSON.stringify(event.detail).includes(orderId)).length;
  const executions = ((await (await fetch(`${runtime.endpoint}/_local/executions`)).json()) as { input: string }[]).filter((execution) =>
    execution.input.includes(orderId),
  ).length;
  const groups = (await (await fetch(`${runtime.endpoint}/_local/logs`)).json()) as Record<string, string[]>;
  const logs = Object.entries(groups)
    .filter(([name]) => name.endsWith('-responses'))
    .flatMap(([, lines]) => lines)
    .filter((line) => line.includes(orderId)).length;
  return { bus, executions, logs };
}

describe('client identities under the exported policies', () => {
  it('lets the producer put a command, and the consumer read its answer from the responses log group', async () => {
    // Prepare
    const producer = new EventBridgeClient(signedAs('producer'));
    const consumer = new CloudWatchLogsClient(signedAs('consumer'));

    // Act
    const put = await producer.send(new PutEventsCommand({ Entries: [command('client-1'), entry('orderQuery', { query: 'itemsSalesReport' })] }));
    await localIdle(runtime.endpoint);
    const group = Object.keys((await (await fetch(`${runtime.endpoint}/_local/logs`)).json()) as object).find((name) => name.endsWith('-responses'));
    const { events } = await consumer.send(new FilterLogEventsCommand({ logGroupName: group }));

    // Assess
    expect(put.FailedEntryCount).toBe(0);
    const answers = (events ?? []).map((event) => JSON.parse(event.message ?? '{}') as { detail: Record<string, unknown> });
    expect(answers.find((answer) => answer.detail.commandMessageId === put.Entries?.[0]?.EventId)?.detail).toMatchObject({
      orderid: 'client-1',
      commandStatus: 'orderCreated',
    });
    expect(answers.some((answer) => answer.detail.queryMessageId === put.Entries?.[1]?.EventId)).toBe(true);
    producer.destroy();
    consumer.destroy();
  });

  it.each([
    ['a command beside a forged response', (id: string) => [command(id), forged(id)]],
    [
      'a query beside a forged query response',
      (id: string) => [
        command(id),
        entry('orderQuery', { query: 'itemsSalesReport' }),
        entry('orderQueryResponse', { query: 'itemsSalesReport', queryStatus: 200, queryResult: [{ itemid: id }] }),
      ],
    ],
    ['a forged response alone', (id: string) => [forged(id)]],
    ['a command from another source', (id: string) => [{ ...command(id), Source: 'somebodyElse' }]],
  ])('refuses %s with AccessDeniedException, and delivers no entry of the call', async (_case, entries) => {
    const producer = new EventBridgeClient(signedAs('producer'));
    const orderId = `forged-${Math.random().toString(36).slice(2, 8)}`;

    const refused = await producer.send(new PutEventsCommand({ Entries: entries(orderId) })).then(
      () => undefined,
      (error: Error) => error,
    );

    expect(refused?.name).toBe('AccessDeniedException');
    expect(refused?.message).toContain('events:PutEvents');
    expect(await traces(orderId)).toEqual({ bus: 0, executions: 0, logs: 0 });
    producer.destroy();
  });

  it('refuses the consumer a PutEvents, and the producer a read of the responses', async () => {
    const consumer = new EventBridgeClient(signedAs('consumer'));
    const producerLogs = new CloudWatchLogsClient(signedAs('producer'));
    const group = Object.keys((await (await fetch(`${runtime.endpoint}/_local/logs`)).json()) as object).find((name) => name.endsWith('-responses'));

    const put = await consumer.send(new PutEventsCommand({ Entries: [command('consumer-1')] })).then(
      () => undefined,
      (error: Error) => error,
    );
    const read = await producerLogs.send(new FilterLogEventsCommand({ logGroupName: group })).then(
      () => undefined,
      (error: Error) => error,
    );

    expect(put?.name).toBe('AccessDeniedException');
    expect(read?.name).toBe('AccessDeniedException');
    expect(await traces('consumer-1')).toEqual({ bus: 0, executions: 0, logs: 0 });
    consumer.destroy();
    producerLogs.destroy();
  });
});
