/**
 * How `npm start` ends when a person or the system ends it: the terminal
 * closing (SIGHUP) stops it as Ctrl-C does, and a second Ctrl-C ends a stop
 * that cannot finish (its read-model server stopped answering) instead of
 * leaving kill -9 as the only way out. A Ctrl-C in the middle of a burst
 * loses nothing: the next start on the same data projects what was stored.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { localIdle, putEntries } from '../../clients/pipeline-client';
import { localClientOptions } from '../../clients/local-client';
import { DetailType, EVENT_SOURCE, resourceNames } from '../../config/pipeline';
import { ORDERS_TABLE_KEY } from '../../config/contract';
import { databaseUrl, readModelPool, startLocalRuntime } from '../helpers/local-runtime';
import { serverUrl, dropReadModelDatabase } from '../helpers/mysql';
import { budget } from '../helpers/budget';

/** Resolves with the exit code (null: killed by a signal) once `child` exits, or 'running' after `ms`. */
function exitWithin(child: { once(event: 'exit', listener: (code: number | null) => void): unknown }, ms: number): Promise<number | null | 'running'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('running'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** A TCP relay to the MySQL server that can stop answering (as a paused container or a lost network does) while keeping its connections open. */
async function freezableRelay(): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  const url = serverUrl();
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(url.port || 3306), url.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => frozen || upstream.write(chunk));
    upstream.on('data', (chunk: Buffer) => frozen || client.write(chunk));
    client.on('end', () => frozen || upstream.end());
    upstream.on('end', () => frozen || client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze: () => void (frozen = true),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Commands of the Ctrl-C burst: far more work than its stop waits for (STOP_DRAIN_MS). */
const BURST = 1_500;
/** How long that runtime's stop waits for work under way (`--stop-drain-ms`; 10 s by default). */
const STOP_DRAIN_MS = 1_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe('the local runtime and the signals that end it', () => {
  it(
    'stops cleanly when its terminal closes (SIGHUP), as on Ctrl-C: stopped, port closed, endpoint file removed',
    async () => {
      // Prepare
      const other = await startLocalRuntime();
      cleanups.push(() => other.stop());
      expect(existsSync(other.endpointFile)).toBe(true);

      // Act
      other.process.kill('SIGHUP');
      const code = await exitWithin(other.process, 20_000);

      // Assess
      expect(code).toBe(0);
      expect(other.output()).toContain('SIGHUP: stopping');
      expect(other.output()).toContain('local pipeline stopped');
      expect(existsSync(other.endpointFile)).toBe(false);
      await expect(fetch(`${other.endpoint}/_local/status`)).rejects.toThrow();
    },
    budget({ runtimeStarts: 1, seconds: 5 }),
  );

  it(
    'stops cleanly on a Ctrl-C sent the moment it says it is ready, even when the process is descheduled right after saying so',
    async () => {
      // Prepare: a runtime that blocks for 1.5 s just after its readiness line (fixtures/slow-ready.ts).
      const slow = await startLocalRuntime({ env: { NODE_OPTIONS: '--import ./__tests__/fixtures/slow-ready.ts' } });
      cleanups.push(() => slow.stop());

      // Act: Ctrl-C at once, inside that gap.
      slow.process.kill('SIGINT');
      const code = await exitWithin(slow.process, 20_000);

      // Assess: a clean stop, not the signal's default action (exit code null: killed by SIGINT).
      expect(code).toBe(0);
      expect(slow.output()).toContain('local pipeline stopped');
      expect(existsSync(slow.endpointFile)).toBe(false);
    },
    budget({ runtimeStarts: 1, seconds: 5 }),
  );

  it(
    'ends at a second Ctrl-C when its stop cannot finish (the read-model server stopped answering), and the next start on the database works',
    async () => {
      // Prepare: a runtime that reaches its read model through a relay, which then stops answering.
      const relay = await freezableRelay();
      cleanups.push(() => relay.close());
      const database = `test_local_${randomBytes(4).toString('hex')}`;
      cleanups.push(() => dropReadModelDatabase(database));
      const url = serverUrl();
      const relayed = `mysql://${url.username || 'root'}${url.password ? `:${url.password}` : ''}@127.0.0.1:${relay.port}/${database}`;
      const frozen = await startLocalRuntime({ dbUrl: relayed });
      cleanups.push(async () => frozen.process.exitCode === null && frozen.process.kill('SIGKILL'));
      relay.freeze();

      // Act: Ctrl-C, and Ctrl-C again once the stop is under way.
      frozen.process.kill('SIGINT');
      const first = await exitWithin(frozen.process, 15_000);
      frozen.process.kill('SIGINT');
      const second = first === 'running' ? await exitWithin(frozen.process, 5_000) : first;

      // Assess: the first Ctrl-C waits on the server; the second ends the process and says so.
      expect(first).toBe('running');
      expect(second).toBe(130);
      expect(frozen.output()).toContain('SIGINT again: exiting without waiting for the stop to finish');

      // Assess: once the server sees the connection end, the lock is free and a new runtime owns the database.
      await relay.close();
      const next = await startLocalRuntime({ dbUrl: databaseUrl(database) });
      cleanups.push(() => next.stop());
      expect(await (await fetch(`${next.endpoint}/_local/status`)).json()).toMatchObject({ readModel: { lock: expect.stringMatching(/^held by pid/) } });
    },
    budget({ runtimeStarts: 2, seconds: 25 }),
  );

  it(
    'loses nothing to a Ctrl-C with a backlog longer than the stop waits: no accepted command is refused, and after a restart on the same data every one is stored and projected once, nothing dead-lettered',
    async () => {
      // Prepare: a runtime with a data folder whose stop waits 1 s for work under way, and a burst sent 10 entries
      // a call by 8 senders (as the bench does): 1,500 commands, some 7 s of work on a quiet machine.
      const data = mkdtempSync(path.join(tmpdir(), 'signals-burst-'));
      cleanups.push(() => rm(data, { recursive: true, force: true }));
      const database = `test_local_${randomBytes(4).toString('hex')}`;
      cleanups.push(() => dropReadModelDatabase(database));
      const args = ['--data', data, '--stop-drain-ms', String(STOP_DRAIN_MS)];
      const first = await startLocalRuntime({ dbUrl: databaseUrl(database), args, retryDelayMs: null });
      cleanups.push(async () => first.process.exitCode === null && first.process.kill('SIGKILL'));
      const target = { kind: 'local' as const, bus: first.busArn, endpoint: first.endpoint };
      const accepted: string[] = [];
      let sent = 0;
      const senders = Array.from({ length: 8 }, async () => {
        while (sent < BURST) {
          const from = sent;
          sent += 10;
          const orderIds = Array.from({ length: 10 }, (_, index) => `stop-${from + index}`);
          const entries = orderIds.map((orderId) => ({
            Source: EVENT_SOURCE,
            DetailType: DetailType.command,
            Detail: { command: 'createOrder', orderId, items: [{ itemid: 'stop-item', quantity: 1 }] },
          }));
          // Refused once the stop begins: the senders end there.
          const put = await putEntries(target, entries).then(
            () => true,
            () => false,
          );
          if (!put) return;
          accepted.push(...orderIds);
        }
      });
      const pool = readModelPool(first);
      cleanups.push(() => pool.end());
      const projected = async () => Number(((await pool.query("SELECT COUNT(*) AS n FROM orders WHERE order_id LIKE 'stop-%'"))[0] as { n: number }[])[0]?.n);
      while (sent < BURST || (await projected()) < 50) await new Promise((resolve) => setTimeout(resolve, 20));

      // Act: Ctrl-C with commands, executions and projection batches under way; then the next start on the same data.
      first.process.kill('SIGINT');
      expect(await exitWithin(first.process, 60_000)).toBe(0);
      await Promise.all(senders);
      const next = await startLocalRuntime({ dbUrl: databaseUrl(database), args, retryDelayMs: null });
      cleanups.push(() => next.stop());
      await localIdle(next.endpoint);

      // Assess: the stop abandoned executions still running, refused no accepted command, and the restart ran them.
      // (Before the stop, a machine busy enough may refuse some as ServiceUnavailable, once throttles outlast the
      // workflow's retries: an answer the contract allows, which says sending again is safe. Those are set aside.)
      const [beforeStop = '', afterStop = ''] = first.output().split('SIGINT: stopping');
      expect(beforeStop).toContain('orderCreated');
      expect(afterStop).toMatch(/stop: \d+ executions still running were abandoned, unanswered; the next start on this --data runs their commands again/);
      expect(afterStop).not.toContain('orderRejected');
      expect(next.output()).not.toContain('orderRejected');
      const refusedUnderLoad = new Set(
        [...beforeStop.matchAll(/orderCommandResponse "(stop-\d+)" "orderRejected" \("ServiceUnavailable"\)/g)].map((match) => match[1]),
      );
      // Assess: every accepted command is stored, and every stored order is in the read model once.
      const dynamodb = new DynamoDBClient(localClientOptions(next.endpoint));
      const stored = new Set<string>();
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamodb.send(new ScanCommand({ TableName: resourceNames('local').ordersTable, ...(start ? { ExclusiveStartKey: start } : {}) }));
        for (const item of page.Items ?? []) stored.add(String(item[ORDERS_TABLE_KEY]?.S));
        start = page.LastEvaluatedKey;
      } while (start);
      dynamodb.destroy();
      expect(accepted.length).toBeGreaterThanOrEqual(BURST);
      expect(accepted.filter((orderId) => !stored.has(orderId) && !refusedUnderLoad.has(orderId))).toEqual([]);
      const nextPool = readModelPool(next);
      cleanups.push(() => nextPool.end());
      const [rows] = await nextPool.query("SELECT order_id FROM orders WHERE order_id LIKE 'stop-%'");
      const inReadModel = (rows as { order_id: string }[]).map((row) => row.order_id).sort();
      expect(inReadModel).toEqual([...stored].sort());
      // Assess: nothing went to a dead-letter queue.
      const failures = (await (await fetch(`${next.endpoint}/_local/failures`)).json()) as Record<string, unknown[]>;
      expect(Object.fromEntries(Object.entries(failures).map(([queue, messages]) => [queue, messages.length]))).toEqual(
        Object.fromEntries(Object.keys(failures).map((queue) => [queue, 0])),
      );
    },
    budget({ runtimeStarts: 2, seconds: 90 }),
  );
});
