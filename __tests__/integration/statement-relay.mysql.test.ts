/**
 * The relay the functions reach the read model through (local/statement-relay.ts),
 * against MariaDB: what goes through comes back unchanged, each database
 * user's statements are counted apart (transactions too), and a server that
 * refuses connections fails the client at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { freePort } from '../../local/mysql';
import { StatementRelay } from '../../local/statement-relay';
import { serverUrl } from '../helpers/mysql';

const url = serverUrl();
const server = { host: url.hostname, port: Number(url.port || 3306) };
const root = { user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
const other = { user: `relay_${randomBytes(4).toString('hex')}`, password: randomBytes(12).toString('hex') };
let relay: StatementRelay;
let admin: Connection;

beforeAll(async () => {
  relay = await StatementRelay.start(server);
  admin = await createConnection({ ...server, ...root });
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [other.user, '%', other.password]);
});

afterAll(async () => {
  await admin?.query('DROP USER IF EXISTS ?@?', [other.user, '%']);
  await admin?.end();
  await relay?.close();
});

const through = (login: { user: string; password: string }) => createConnection({ host: relay.host, port: relay.port, ...login });

describe('the statement relay', () => {
  it('passes statements and results through unchanged, a statement larger than many TCP segments included', async () => {
    // Prepare
    const connection = await through(root);
    const text = randomBytes(600_000).toString('base64'); // 800 KB each way

    // Act
    const [rows] = await connection.query('SELECT ? AS echoed, LENGTH(?) AS length', [text, text]);
    await connection.end();

    // Assess
    expect(rows).toEqual([{ echoed: text, length: text.length }]);
  });

  it("counts each user's statements apart: in and out of transactions, prepared executions, not pings", async () => {
    // Prepare
    const before = { root: relay.tally(root.user), other: relay.tally(other.user) };
    const connection = await through(root);
    const second = await through(other);

    // Act
    await connection.query('START TRANSACTION');
    await connection.query('SELECT 1');
    await connection.query('SAVEPOINT s');
    await connection.query('ROLLBACK TO SAVEPOINT s'); // still in the transaction
    await connection.query('COMMIT');
    await connection.execute('SELECT ? AS n', [1]); // COM_STMT_PREPARE (not a statement) and COM_STMT_EXECUTE
    await connection.ping();
    await connection.query('BEGIN');
    await connection.query('ROLLBACK');
    await second.query('SELECT 2');
    await second.query('SELECT 3');
    await connection.end();
    await second.end();

    // Assess
    const after = { root: relay.tally(root.user), other: relay.tally(other.user) };
    expect({
      statements: after.root.statements - before.root.statements,
      inTransaction: after.root.inTransaction - before.root.inTransaction,
      transactions: after.root.transactions - before.root.transactions,
      connections: after.root.connections - before.root.connections,
    }).toEqual({ statements: 8, inTransaction: 7, transactions: 2, connections: 1 });
    expect({
      statements: after.other.statements - before.other.statements,
      inTransaction: after.other.inTransaction - before.other.inTransaction,
      connections: after.other.connections - before.other.connections,
    }).toEqual({
      statements: 2,
      inTransaction: 0,
      connections: 1,
    });
    expect(relay.tally('nobody')).toEqual({ statements: 0, inTransaction: 0, transactions: 0, connections: 0 });
  });

  it('fails the client at once when the server refuses the connection', async () => {
    // Prepare: a relay to a port nothing listens on.
    const nowhere = await StatementRelay.start({ host: '127.0.0.1', port: await freePort() });
    const started = Date.now();

    // Act
    const outcome = await createConnection({ host: nowhere.host, port: nowhere.port, ...root, connectTimeout: 10_000 }).then(
      async (connection) => {
        await connection.end();
        return 'connected';
      },
      (error: NodeJS.ErrnoException) => error.code,
    );
    await nowhere.close();

    // Assess
    expect(outcome).toBe('ECONNRESET');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
