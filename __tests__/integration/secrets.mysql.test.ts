/**
 * The read-model password travels only through Secrets Manager into the
 * handlers' middy context: it never appears in logs (DEBUG level), local
 * status pages, or events — not even when the database fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { localEvents, localIdle, putEntries, waitForResponse, type Target } from '../../clients/pipeline-client';
import { startLocalRuntime, type RunningLocalRuntime } from '../helpers/local-runtime';
import { adminConnection, serverUrl, dropReadModel } from '../helpers/mysql';
import { budget } from '../helpers/budget';

const url = serverUrl();
const admin = () => adminConnection();
const suffix = randomBytes(4).toString('hex');
const user = `pipeline_${suffix}`;
const password = `Pw-${randomBytes(12).toString('hex')}`;
const database = `test_secret_${suffix}`;
let runtime: RunningLocalRuntime;

beforeAll(
  async () => {
    const connection = await admin();
    await connection.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    // init-schema creates the role users: the master needs CREATE USER and the grant option, as Aurora's has.
    await connection.query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO ?@? WITH GRANT OPTION`, [user, '%']);
    await connection.query('GRANT CREATE USER ON *.* TO ?@?', [user, '%']);
    await connection.end();
    runtime = await startLocalRuntime({ dbUrl: `mysql://${user}:${password}@${url.hostname}:${url.port || 3306}/${database}`, args: ['--log-level', 'DEBUG'] });
  },
  budget({ runtimeStarts: 1 }),
);

afterAll(async () => {
  await runtime?.stop();
  const connection = await admin();
  await dropReadModel(connection, database);
  await connection.query('DROP USER IF EXISTS ?@?', [user, '%']);
  await connection.end();
});

describe('the database password', () => {
  it('never shows in logs, status pages or events, even when the database fails', async () => {
    // Prepare
    const target: Target = { kind: 'local', bus: runtime.busName, endpoint: runtime.endpoint };
    const command = {
      Source: 'orderPipeline',
      DetailType: 'orderCommand',
      Detail: { command: 'createOrder', orderId: 's-1', items: [{ itemid: 'secret-item', quantity: 1 }] },
    };

    // Act: normal traffic, a refused query, then a broken read model.
    for (const id of await putEntries(target, [command, { Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'itemsSalesReport' } }])) {
      await waitForResponse(target, id);
    }
    await waitForResponse(target, (await putEntries(target, [{ Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'nope' } }]))[0] as string);
    const connection = await admin();
    await connection.query(`RENAME TABLE \`${database}\`.item_totals TO \`${database}\`.item_totals_gone`);
    const failing = await putEntries(target, [
      { ...command, Detail: { ...command.Detail, orderId: 's-2' } },
      { Source: 'orderPipeline', DetailType: 'orderQuery', Detail: { query: 'itemsSalesReport' } },
    ]);
    await waitForResponse(target, failing[1] as string, 30_000);
    await localIdle(runtime.endpoint);
    await connection.query(`RENAME TABLE \`${database}\`.item_totals_gone TO \`${database}\`.item_totals`);
    await connection.end();
    const pages = await Promise.all(
      ['/_local/status', '/_local/failures', '/_local/executions'].map(async (page) => (await fetch(`${runtime.endpoint}${page}`)).text()),
    );

    // Assess: the logs are there (DEBUG, errors included) but hold no password.
    const output = runtime.output();
    expect(output).toContain('"message":"read-model pool created"');
    expect(output).toContain('"level":"ERROR"');
    expect(output).toContain('item_totals');
    expect(output).not.toContain(password);
    for (const page of pages) expect(page).not.toContain(password);
    expect(JSON.stringify(await localEvents(runtime.endpoint))).not.toContain(password);
  }, 60_000);
});
