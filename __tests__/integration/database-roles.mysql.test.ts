/**
 * A database user per role, locally as on AWS: init-schema (master
 * credentials) creates a reader and a writer with random passwords and writes
 * them into their secrets; the query functions connect as the reader, the
 * projection as the writer. What each may do is checked against the server.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createConnection, type Connection } from 'mysql2/promise';
import { localIdle, putEntries, waitForResponse, type Target } from '../../clients/pipeline-client';
import { roleUserNames, type DatabaseRole } from '../../handlers/read-model/users';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { adminConnection, serverUrl } from '../helpers/mysql';
import { budget } from '../helpers/budget';

const url = serverUrl();
let runtime: RunningLocalRuntime;
let target: Target;
let secrets: SecretsManagerClient;

beforeAll(
  async () => {
    runtime = await startLocalRuntime();
    target = { kind: 'local', bus: runtime.busArn, endpoint: runtime.endpoint };
    secrets = new SecretsManagerClient({ endpoint: runtime.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  secrets?.destroy();
  await runtime?.stop();
});

async function roleCredentials(role: DatabaseRole): Promise<{ username: string; password: string }> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: `order-pipeline-local-read-model-${role}` }));
  return JSON.parse(SecretString ?? '{}') as { username: string; password: string };
}

async function connectAs(role: DatabaseRole): Promise<Connection> {
  const { username, password } = await roleCredentials(role);
  return createConnection({ host: url.hostname, port: Number(url.port || 3306), user: username, password, database: runtime.database });
}

/** The server's error number for a statement, or 0 when it ran. */
const errnoOf = (connection: Connection, sql: string) =>
  connection.query(sql).then(
    () => 0,
    (error: { errno?: number }) => error.errno ?? -1,
  );

async function invoke(name: string, payload: unknown = {}): Promise<{ ok: boolean; body: unknown }> {
  const response = await fetch(`${runtime.endpoint}/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: JSON.stringify(payload) });
  return { ok: response.status === 200 && !response.headers.get('x-amz-function-error'), body: await response.json() };
}

describe('database users per role', () => {
  it('are named per read-model database and hold credentials in their own secrets', async () => {
    expect(roleUserNames('reader', runtime.database)).toContain((await roleCredentials('reader')).username);
    expect(roleUserNames('writer', runtime.database)).toContain((await roleCredentials('writer')).username);
    expect(roleUserNames('reader', 'other')).not.toEqual(roleUserNames('reader', runtime.database));
  });

  it('the reader may SELECT, and cannot INSERT, DELETE or DROP', async () => {
    const reader = await connectAs('reader');
    try {
      expect(await errnoOf(reader, 'SELECT COUNT(*) FROM item_totals')).toBe(0);
      expect(await errnoOf(reader, "INSERT INTO item_totals (item_id, total_ordered, last_order_date) VALUES ('x', 1, '2022-10-13')")).toBe(1142);
      expect(await errnoOf(reader, 'DELETE FROM item_totals')).toBe(1142);
      expect(await errnoOf(reader, 'DROP TABLE item_totals')).toBe(1142);
      expect(await errnoOf(reader, 'CREATE TABLE evil (id INT)')).toBe(1142);
    } finally {
      await reader.end();
    }
  });

  it('the writer may run what the projection runs, and cannot DROP or ALTER', async () => {
    const writer = await connectAs('writer');
    try {
      expect(await errnoOf(writer, 'SELECT COUNT(*) FROM orders')).toBe(0);
      expect(await errnoOf(writer, 'DROP TABLE item_totals')).toBe(1142);
      // DELETE of rows: totals reaching zero when an order is cancelled are deleted.
      expect(await errnoOf(writer, "DELETE FROM item_totals WHERE item_id = 'no-such-item'")).toBe(0);
      expect(await errnoOf(writer, 'ALTER TABLE item_totals ADD COLUMN evil INT')).toBe(1142);
      expect(await errnoOf(writer, `DROP DATABASE \`${runtime.database}\``)).toBe(1044);
    } finally {
      await writer.end();
    }
  });

  it('the projection writes and the queries read as their roles; init-schema run again moves each role to its other user and leaves the one in service working, and the next run renews that one', async () => {
    // Prepare: an order projected, a query answered.
    const [command] = await putEntries(target, [
      {
        Source: 'orderPipeline',
        DetailType: 'orderCommand',
        Detail: { command: 'createOrder', orderId: 'roles-1', items: [{ itemid: 'roles-item', quantity: 4 }] },
      },
    ]);
    expect((await waitForResponse(target, command as string)).detail).toMatchObject({ commandStatus: 'orderCreated' });
    await localIdle(runtime.endpoint);
    const admin = await adminConnection();
    const sessions = async () => {
      const [rows] = await admin.query('SELECT DISTINCT USER AS user FROM information_schema.PROCESSLIST WHERE DB = ?', [runtime.database]);
      return (rows as { user: string }[]).map((row) => row.user).sort();
    };
    const ask = async () => {
      const [id] = await putEntries(target, [{ Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'itemsSalesReport' } }]);
      return (await waitForResponse(target, id as string)).detail;
    };
    expect(await ask()).toMatchObject({ queryStatus: 200, queryResult: [{ itemid: 'roles-item', totalordered: 4 }] });
    const before = { reader: await roleCredentials('reader'), writer: await roleCredentials('writer') };
    try {
      expect(await sessions()).toEqual(expect.arrayContaining([before.reader.username, before.writer.username]));

      const connects = (credentials: { username: string; password: string }) =>
        createConnection({
          host: url.hostname,
          port: Number(url.port || 3306),
          user: credentials.username,
          password: credentials.password,
          database: runtime.database,
        }).then(
          async (connection) => {
            const [rows] = await connection.query('SELECT COUNT(*) AS n FROM item_totals');
            await connection.end();
            return (rows as unknown[]).length === 1 ? 0 : -1;
          },
          (error: { errno?: number }) => error.errno,
        );

      // Act: the schema trigger again (a deploy): each role moves to its other user.
      const init = await invoke('order-pipeline-local-init-schema');
      const after = { reader: await roleCredentials('reader'), writer: await roleCredentials('writer') };

      // Assess: the secrets name the other users, with new passwords; the users they named before still work as they were.
      expect(init.ok).toBe(true);
      expect(after.reader.username).not.toBe(before.reader.username);
      expect(after.writer.username).not.toBe(before.writer.username);
      expect(roleUserNames('reader', runtime.database)).toEqual(expect.arrayContaining([before.reader.username, after.reader.username]));
      expect(await connects(after.reader)).toBe(0);
      expect(await connects(before.reader)).toBe(0);
      expect(await connects(before.writer)).toBe(0);

      // Act: the next run renews the users of before, then their pooled connections end (wait_timeout, failover).
      expect((await invoke('order-pipeline-local-init-schema')).ok).toBe(true);
      const [ids] = await admin.query('SELECT ID FROM information_schema.PROCESSLIST WHERE USER IN (?, ?)', [before.reader.username, before.writer.username]);
      for (const { ID } of ids as { ID: number }[]) await admin.query('KILL ?', [ID]).catch(() => undefined);

      // Assess: the credentials of two rotations ago are refused; the secrets name the first users again; the pipeline still answers and projects.
      expect(await connects(before.reader)).toBe(1045);
      expect((await roleCredentials('reader')).username).toBe(before.reader.username);
      const [second] = await putEntries(target, [
        {
          Source: 'orderPipeline',
          DetailType: 'orderCommand',
          Detail: { command: 'createOrder', orderId: 'roles-2', items: [{ itemid: 'roles-item', quantity: 1 }] },
        },
      ]);
      expect((await waitForResponse(target, second as string)).detail).toMatchObject({ commandStatus: 'orderCreated' });
      await localIdle(runtime.endpoint);
      expect(await ask()).toMatchObject({ queryStatus: 200, queryResult: [{ itemid: 'roles-item', totalordered: 5 }] });
    } finally {
      await admin.end();
    }
  }, 60_000);

  it('the rebuild (master user) still rebuilds the read model', async () => {
    let progress: { stage?: string } = {};
    for (let step = 0; step < 20 && progress.stage !== 'done'; step++) {
      const result = await invoke('order-pipeline-local-rebuild-read-model', { restart: step === 0 });
      expect(result.ok).toBe(true);
      progress = result.body as { stage?: string };
    }
    expect(progress.stage).toBe('done');
    const reader = await connectAs('reader');
    try {
      const [rows] = await reader.query('SELECT item_id, total_ordered FROM item_totals WHERE item_id = ?', ['roles-item']);
      expect(rows).toEqual([{ item_id: 'roles-item', total_ordered: 5 }]);
    } finally {
      await reader.end();
    }
  }, 60_000);
});
