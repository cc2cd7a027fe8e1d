/**
 * A test to copy: a real middy-wrapped handler, with its real middlewares,
 * against a database of its own on the MariaDB/MySQL at DB_URL.
 *
 * The handler is the `itemsSalesReport` query function exactly as it is
 * bundled (`createQueryHandler(query)`: the Powertools logger middleware and
 * the Secrets Manager middleware, which fetches the database credentials from
 * a local Secrets Manager endpoint here). Run it with
 * `npm test -- __tests__/integration/example-handler.mysql.test.ts`, or
 * `npx jest __tests__/integration/example-handler.mysql.test.ts`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Context } from 'aws-lambda';
import { startSecretsEndpoint } from '../../bench/support';
import { createQueryHandler } from '../../handlers/queries/query-handler';
import { query as itemsSalesReport } from '../../handlers/queries/items-sales-report';
import { projectOrders } from '../../handlers/read-model/read-model-writer';
import { readDbSettings, readModelPool } from '../../handlers/shared/db';
import { buildOrder, lambdaContext } from '../helpers/factories';
import { createTestDatabase, type TestDatabase } from '../helpers/mysql';

let db: TestDatabase;
let secrets: Awaited<ReturnType<typeof startSecretsEndpoint>>;
let handler: ReturnType<typeof createQueryHandler>;
/** The context of an invocation: the secrets middleware leaves the credentials on it. */
const context = lambdaContext() as unknown as Context;
/** The function's environment variables as they were before this file set them. */
const FUNCTION_ENV = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_TLS', 'DB_SECRET_ID', 'AWS_ENDPOINT_URL'];
const savedEnv = Object.fromEntries(FUNCTION_ENV.map((name) => [name, process.env[name]]));

beforeAll(async () => {
  // Prepare: a database with the read-model schema, its credentials in a secret, the function's environment.
  db = await createTestDatabase('example');
  secrets = await startSecretsEndpoint('example-db', { ...db.credentials, host: db.settings.host, port: db.settings.port });
  Object.assign(process.env, {
    DB_HOST: db.settings.host,
    DB_PORT: String(db.settings.port),
    DB_NAME: db.name,
    DB_TLS: 'off',
    DB_SECRET_ID: secrets.secretArn,
    AWS_ENDPOINT_URL: secrets.url,
  });
  handler = createQueryHandler(itemsSalesReport);
});

afterAll(async () => {
  // The function's pool lives as long as its execution environment: end it, as the environment's end would.
  await (await readModelPool(readDbSettings(), context)).end();
  for (const name of FUNCTION_ENV) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
  await secrets?.close();
  await db?.drop();
});

describe('the itemsSalesReport function', () => {
  it('answers 200 with each item total, as JSON numbers, sorted by item id', async () => {
    // Prepare: two orders projected into the read model.
    await projectOrders(db.pool, [
      buildOrder({
        orderId: 'ex-1',
        orderedAt: '2022-10-13T19:00:00.000Z',
        items: [
          { itemid: 'z3333', quantity: 6 },
          { itemid: 'z4444', quantity: 3 },
        ],
      }),
      buildOrder({ orderId: 'ex-2', orderedAt: '2022-10-14T08:00:00.000Z', items: [{ itemid: 'z3333', quantity: 1 }] }),
    ]);

    // Act: invoke it as the workflow does, with the query event.
    const result = await handler({ id: 'query-1', detail: { query: 'itemsSalesReport' } }, context);

    // Assess
    expect(result).toEqual({
      statusCode: 200,
      body: {
        query: 'itemsSalesReport',
        queryMessageId: 'query-1',
        queryStatus: 200,
        queryResult: [
          { itemid: 'z3333', totalordered: 7, lastorderdate: '2022-10-14' },
          { itemid: 'z4444', totalordered: 3, lastorderdate: '2022-10-13' },
        ],
      },
    });
  });

  it('refuses a query that is not its own with 400 and a reason', async () => {
    const result = await handler({ id: 'query-2', detail: { query: 'monthlySalesByItem', itemid: 'z3333' } }, context);
    expect(result).toMatchObject({
      statusCode: 400,
      body: { queryStatus: 400, error: { code: expect.any(String), message: expect.stringContaining('monthlySalesByItem') } },
    });
  });
});
