/**
 * The local runtime's read-model server: DB_URL when it answers, a clear error
 * when an explicit DB_URL does not, and a private throwaway MariaDB/MySQL when
 * the default does not answer and a server binary is installed.
 */
import { describe, expect, it } from '@jest/globals';
import { createConnection } from 'mysql2/promise';
import { freePort as closedPort, openReadModelServer } from '../../local/mysql';
import { redactCredentials } from '../../local/redact';
import { serverUrl } from '../helpers/mysql';

describe('openReadModelServer', () => {
  it('starts a private instance when the default URL does not answer, and removes it on stop', async () => {
    // Prepare
    const messages: string[] = [];
    const unreachable = `mysql://root@127.0.0.1:${await closedPort()}/orders`;

    // Act
    const server = await openReadModelServer(undefined, (message) => messages.push(message), { defaultUrl: unreachable });

    // Assess
    try {
      expect(server.embedded).toBe(true);
      expect(messages[0]).toMatch(/^nothing answers at .*; starting a private (mariadbd|mysqld) for this run$/);
      const connection = await createConnection({ host: server.host, port: server.port, user: server.user, database: server.database });
      const [rows] = await connection.query('SELECT DATABASE() AS db');
      expect(rows).toEqual([{ db: 'orders' }]);
      await connection.end();
    } finally {
      await server.stop();
    }
    await expect(createConnection({ host: server.host, port: server.port, user: 'root', connectTimeout: 1_000 })).rejects.toThrow();
  }, 60_000);

  it('refuses an explicit DB_URL that does not answer, naming it', async () => {
    const port = await closedPort();
    await expect(openReadModelServer(`mysql://root@127.0.0.1:${port}/orders`, () => undefined)).rejects.toThrow(
      `the read-model server at mysql://root@127.0.0.1:${port}/orders is not usable`,
    );
  });

  it.each([
    [
      'a user the server does not know',
      (url: URL) => `mysql://nouser_${process.pid}@${url.hostname}:${url.port || 3306}/probe_refused`,
      'Access denied for user',
    ],
    ['a wrong password', (url: URL) => `mysql://nouser_${process.pid}:wr0ng%40pw@${url.hostname}:${url.port || 3306}/probe_refused`, 'Access denied for user'],
  ])("keeps the server's refusal readable for %s, through the runtime's redaction, and never shows a password", async (_case, dbUrl, refusal) => {
    // Act: the message as `npm start` prints it (every line through redactCredentials).
    const url = serverUrl();
    const message = await openReadModelServer(dbUrl(url), () => undefined).then(
      () => '',
      (error: Error) => redactCredentials(error.message),
    );

    // Assess
    expect(message).toContain(`the read-model server at mysql://nouser_${process.pid}@${url.hostname}:${url.port || 3306}/probe_refused is not usable:`);
    expect(message).toContain(refusal);
    expect(message).toContain(`'nouser_${process.pid}'@'`);
    expect(message).not.toMatch(/wr0ng|\*\*\*/);
  });

  it('says where a malformed percent-escape is, never quoting the password', async () => {
    const act = openReadModelServer('mysql://adv:s3cr%zzet@127.0.0.1:3306/orders', () => undefined);
    await expect(act).rejects.toThrow('DB_URL password has a malformed percent-escape at character 5 of the password: write % as %25');
    await expect(openReadModelServer('mysql://adv:s3cr%zzet@127.0.0.1:3306/orders', () => undefined)).rejects.not.toThrow(/s3cr|zzet/);
    await expect(openReadModelServer('mysql://a%ZZ:pw@127.0.0.1:3306/orders', () => undefined)).rejects.toThrow(
      'DB_URL user has a malformed percent-escape at character 2 of the user',
    );
  });

  it('refuses a DB_URL that is not a mysql:// URL', async () => {
    await expect(openReadModelServer('postgres://localhost/orders', () => undefined)).rejects.toThrow('DB_URL must start with mysql://');
    await expect(openReadModelServer('mysql://root@127.0.0.1/bad-name!', () => undefined)).rejects.toThrow('DB_URL database name must be');
  });
});
