/**
 * A rotated read-model password is picked up inside the execution
 * environment that cached the old one: MySQL refuses the old credentials
 * (1045), the handler clears middy's cache for that secret, reads it again
 * and succeeds in the same invocation. Real middy, real mysql2, real MariaDB.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { type Connection, type Pool } from 'mysql2/promise';
import { readModelPool, type DbSettings } from '../../handlers/shared/db';
import { logger } from '../../handlers/shared/logger';
import { dbSecret } from '../../handlers/shared/secrets';
import { adminConnection, serverUrl } from '../helpers/mysql';

const url = serverUrl();
const suffix = randomBytes(4).toString('hex');
const user = `rotating_${suffix}`;
const database = `test_rotation_${suffix}`;
const passwords = [`Old-${randomBytes(9).toString('hex')}`, `New-${randomBytes(9).toString('hex')}`];
let admin: Connection;

/** What Secrets Manager holds now: the test rotates it. */
const secretStore = { current: JSON.stringify({ username: user, password: passwords[0] }), reads: 0 };
class FakeSecretsManager {
  async send() {
    secretStore.reads++;
    return { SecretString: secretStore.current };
  }
}

const settings: DbSettings = { host: url.hostname, port: Number(url.port || 3306), database, tls: false, connectionLimit: 1 };
let lastPool: Pool | undefined;
const handler = middy(async (_event: unknown, context: Context) => {
  const pool = await readModelPool(settings, context);
  lastPool = pool;
  const [rows] = await pool.query('SELECT CURRENT_USER() AS user');
  return (rows as { user: string }[])[0]?.user;
}).use(dbSecret({ secretId: `rotation-${suffix}`, AwsClient: FakeSecretsManager }));
const invoke = () => handler({}, { getRemainingTimeInMillis: () => 30_000 } as Context);

beforeAll(async () => {
  admin = await adminConnection();
  await admin.query('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [database]);
  await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', passwords[0]]);
  await admin.query('GRANT SELECT ON ??.* TO ?@?', [database, user, '%']);
});

afterAll(async () => {
  await lastPool?.end();
  await admin.query('DROP DATABASE IF EXISTS ??', [database]);
  await admin.query('DROP USER IF EXISTS ?@?', [user, '%']);
  await admin.end();
});

describe('a rotated database password', () => {
  it('is read again inside the invocation that meets the refusal, and never logged', async () => {
    // Prepare: the environment has cached the old password and holds a connection made with it.
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const logged = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
    logger.setLogLevel('DEBUG');
    try {
      expect(await invoke()).toMatch(new RegExp(`^${user}@`));
      expect(secretStore.reads).toBe(1);

      // Act: rotate as Secrets Manager does (new password on the user, then in the secret),
      // and end the pooled connection, as wait_timeout or a failover would.
      await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', passwords[1]]);
      secretStore.current = JSON.stringify({ username: user, password: passwords[1] });
      const [sessions] = await admin.query('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
      for (const { ID } of sessions as { ID: number }[]) await admin.query('KILL ?', [ID]);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const answer = await invoke();
      const later = await invoke();

      // Assess: one invocation met the refusal and recovered; the next reused the new credentials.
      expect(answer).toMatch(new RegExp(`^${user}@`));
      expect(later).toBe(answer);
      expect(secretStore.reads).toBe(2);
    } finally {
      logger.setLogLevel('SILENT');
      for (const spy of logged) spy.mockRestore();
    }
    const output = lines.join('');
    expect(output).toContain('the read model refused the credentials');
    for (const password of passwords) expect(output).not.toContain(password);
  });

  it('fails the invocation, not the environment, when the secret still holds a refused password', async () => {
    // Prepare: the password changes, but the secret is not updated yet.
    const third = `Third-${randomBytes(9).toString('hex')}`;
    await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [user, '%', third]);
    const [sessions] = await admin.query('SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
    for (const { ID } of sessions as { ID: number }[]) await admin.query('KILL ?', [ID]);
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Act and assess: refused after one refresh; once the secret holds it, the next invocation succeeds.
    await expect(invoke()).rejects.toMatchObject({ errno: 1045 });
    secretStore.current = JSON.stringify({ username: user, password: third });
    expect(await invoke()).toMatch(new RegExp(`^${user}@`));
  });
});
