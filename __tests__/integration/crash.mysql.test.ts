/**
 * The projection process killed (SIGKILL) at each point of its work — before
 * the SQL transaction, after the commit but before the idempotency records
 * complete, after it returned — then the batch replayed: totals stay exact.
 * Real processes, the MariaDB/MySQL at DB_URL, dynalite for idempotency.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { buildOrder, insertRecord, streamEvent } from '../helpers/factories';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite';
import { createTestDatabase, snapshotReadModel, type TestDatabase } from '../helpers/mysql';

const run = promisify(execFile);
let db: TestDatabase;
let dynamo: LocalDynamo;

beforeAll(async () => {
  [db, dynamo] = await Promise.all([createTestDatabase('crash'), startDynalite('idempotency')]);
});

afterAll(async () => {
  await Promise.all([db.drop(), dynamo.close()]);
});

/** Runs the fixture; resolves with how the process ended. */
async function projectIn(point: string, event: ReturnType<typeof streamEvent>): Promise<{ signal: string | null; stdout: string }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'crash-')), 'config.json');
  writeFileSync(
    file,
    JSON.stringify({
      mysql: { host: db.settings.host, port: db.settings.port, user: db.credentials.username, password: db.credentials.password, database: db.name },
      dynamoEndpoint: dynamo.endpoint,
      table: 'idempotency',
      event,
      inProgressMs: 300,
    }),
  );
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '__tests__/fixtures/crash-projection.ts', point, file], {
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return { signal: null, stdout };
  } catch (error) {
    const failure = error as { signal: string | null; stdout: string; stderr: string; code: number };
    if (failure.signal === null) throw new Error(`the projection failed without crashing: ${failure.stderr}`, { cause: error });
    return { signal: failure.signal, stdout: failure.stdout };
  }
}

/** The handler's response: the fixture's last line (the function's metrics, in embedded format, come before it). */
const lastLine = (stdout: string): unknown => JSON.parse(stdout.trim().split('\n').pop() as string);

const total = async (itemId: string) => (await itemsSalesReport(db.pool)).find((row) => row.itemid === itemId)?.totalordered;

describe.each(['before-transaction', 'after-commit', 'after-return'])('a crash %s', (point) => {
  it('then a replay of the batch gives exact totals', async () => {
    // Prepare
    const item = `crash-${point}`;
    const event = streamEvent([
      insertRecord(buildOrder({ items: [{ itemid: item, quantity: 4 }] })),
      insertRecord(
        buildOrder({
          items: [
            { itemid: item, quantity: 5 },
            { itemid: `${item}-other`, quantity: 1 },
          ],
        }),
      ),
    ]);

    // Act
    const crashed = await projectIn(point, event);
    const afterCrash = await total(item);
    await new Promise((resolve) => setTimeout(resolve, 400)); // the in-progress records expire
    const replay = await projectIn('none', event);
    const snapshot = await snapshotReadModel(db.pool);
    const again = await projectIn('none', event);

    // Assess
    expect(crashed.signal).toBe('SIGKILL');
    expect(afterCrash).toBe(point === 'before-transaction' ? undefined : 9);
    expect(lastLine(replay.stdout)).toEqual({ batchItemFailures: [] });
    expect(await total(item)).toBe(9);
    expect(await total(`${item}-other`)).toBe(1);
    expect(lastLine(again.stdout)).toEqual({ batchItemFailures: [] });
    expect(await snapshotReadModel(db.pool)).toEqual(snapshot);
  }, 30_000);
});
