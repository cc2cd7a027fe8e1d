/**
 * Rotating a role's credentials never refuses work in flight (MariaDB, a
 * database of its own): the alternating users of `users.ts` mean that pools
 * and new connections made with the credentials of before keep working
 * through a rotation, without a single 1045 or 1142, and new connections work
 * with what the secret names after it. Between every statement a rotation
 * sends, live sessions of both users are probed, so a privilege taken away
 * even for one statement (a REVOKE then a GRANT) is caught, whatever the timing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConnection, createPool, type Connection, type Pool } from 'mysql2/promise';
import { allRoleUserNames, roleUserNames, rotateRoleUser, type DatabaseRole, type RoleCredentials } from '../../handlers/read-model/users';
import { budget } from '../helpers/budget';
import { adminConnection, createTestDatabase, serverUrl, type TestDatabase } from '../helpers/mysql';

const url = serverUrl();
let db: TestDatabase;
let admin: Connection;
const pools: Pool[] = [];

beforeAll(async () => {
  db = await createTestDatabase('rotation', { migrate: false });
  admin = await adminConnection({ database: db.name });
  await admin.query('CREATE TABLE work (id INT PRIMARY KEY, n INT NOT NULL)');
  await admin.query('CREATE DATABASE IF NOT EXISTS ??', [`${db.name}_other`]);
});

afterAll(async () => {
  for (const pool of pools) await pool.end().catch(() => undefined);
  for (const user of allRoleUserNames(db.name)) await admin.query('DROP USER IF EXISTS ?@?', [user, '%']);
  await admin.query('DROP DATABASE IF EXISTS ??', [`${db.name}_other`]);
  await admin.end();
  await db.drop();
});

const poolOf = (credentials: RoleCredentials, connectionLimit = 3): Pool => {
  const pool = createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: credentials.username,
    password: credentials.password,
    database: db.name,
    connectionLimit,
  });
  pools.push(pool);
  return pool;
};

/** Runs what a role's function runs; resolves with the server's error number, 0 when it ran. */
async function work(run: (sql: string, values?: unknown[]) => Promise<unknown>, role: DatabaseRole, key: number): Promise<number> {
  try {
    await run('SELECT COUNT(*) FROM work');
    if (role === 'writer') {
      await run('INSERT INTO work (id, n) VALUES (?, 1) ON DUPLICATE KEY UPDATE n = n + 1', [key]);
      await run('DELETE FROM work WHERE id = ? AND n > 1000', [key]);
    }
    return 0;
  } catch (error) {
    return (error as { errno?: number }).errno ?? -1;
  }
}

/** A fresh connection with `credentials` (a cold start holding that secret), its work, then closed. */
async function coldStart(credentials: RoleCredentials, role: DatabaseRole, key: number): Promise<number> {
  let connection: Connection;
  try {
    connection = await createConnection({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: credentials.username,
      password: credentials.password,
      database: db.name,
    });
  } catch (error) {
    return (error as { errno?: number }).errno ?? -1;
  }
  try {
    return await work((sql, values) => connection.query(sql, values), role, key);
  } finally {
    await connection.end();
  }
}

/** The admin connection, probing the live sessions after every statement it runs for the rotation. */
function probing(probe: () => Promise<void>): Connection {
  return new Proxy(admin, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
      return async (...args: Parameters<Connection['query']>) => {
        const result = await target.query(...args);
        await probe();
        return result;
      };
    },
  });
}

describe('rotating a role', () => {
  it.each(['writer', 'reader'] as const)(
    "keeps the %s's pools and cold starts with the old secret working throughout, and a new connection works with the new secret",
    async (role) => {
      // Prepare: the role in service with its first user; a pool busy under it.
      const before = await rotateRoleUser(admin, role, db.name);
      const pool = poolOf(before);
      const errors: number[] = [];
      let running = true;
      let key = role === 'writer' ? 1 : 100;
      const load = (async () => {
        while (running) {
          const results = await Promise.all([
            work((sql, values) => pool.query(sql, values), role, key),
            work((sql, values) => pool.query(sql, values), role, key + 1),
            coldStart(before, role, key + 2),
          ]);
          errors.push(...results.filter((errno) => errno !== 0));
          key = (key % 50) + 1;
        }
      })();

      // Act: a rotation while the load runs, every statement of it followed by a probe of the live sessions.
      const after = await rotateRoleUser(
        probing(async () => {
          errors.push(
            ...(await Promise.all([work((sql, values) => pool.query(sql, values), role, 77), coldStart(before, role, 78)])).filter((errno) => errno !== 0),
          );
        }),
        role,
        db.name,
        before.username,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      running = false;
      await load;

      // Assess
      expect(errors).toEqual([]);
      expect(after.username).not.toBe(before.username);
      expect(roleUserNames(role, db.name)).toEqual([before.username, after.username]);
      expect(await coldStart(after, role, 90)).toBe(0);
      const fresh = await createConnection({
        host: url.hostname,
        port: Number(url.port || 3306),
        user: after.username,
        password: after.password,
        database: db.name,
      });
      try {
        // Exactly the role's privileges: no DDL, and the reader no writes.
        await expect(fresh.query('CREATE TABLE evil (id INT)')).rejects.toMatchObject({ errno: 1142 });
        if (role === 'reader') await expect(fresh.query('INSERT INTO work (id, n) VALUES (999, 1)')).rejects.toMatchObject({ errno: 1142 });
      } finally {
        await fresh.end();
      }
    },
    budget({ seconds: 10 }),
  );

  it(
    "never takes a privilege from the user in service, for its sessions open or new, nor from the other user's open sessions, over many rotations back and forth",
    async () => {
      // Prepare: both writer users with warm sessions (functions that read the secret at different times).
      const first = await rotateRoleUser(admin, 'writer', db.name);
      let inService = await rotateRoleUser(admin, 'writer', db.name, first.username);
      const pools = [poolOf(first, 2), poolOf(inService, 2)];
      for (const pool of pools) expect(await work((sql, values) => pool.query(sql, values), 'writer', 200)).toBe(0);
      const errors: string[] = [];
      const probe = async () => {
        for (const [index, pool] of pools.entries()) {
          const errno = await work((sql, values) => pool.query(sql, values), 'writer', 300 + index);
          if (errno !== 0) errors.push(`open session of user ${index + 1}: ${errno}`);
        }
        // A cold start that read the secret just before the rotation began: its user is the one in service, untouched.
        const errno = await coldStart(inService, 'writer', 310);
        if (errno !== 0) errors.push(`new connection as ${inService.username}: ${errno}`);
      };

      // Act: eight rotations; each renews the user the secret does not name (its sessions stay open, its password changes).
      for (let rotation = 0; rotation < 8; rotation++) inService = await rotateRoleUser(probing(probe), 'writer', db.name, inService.username);

      // Assess: not one refused statement.
      expect(errors).toEqual([]);
      expect(inService.username).not.toBe(first.username);
    },
    budget({ seconds: 15 }),
  );

  it(
    'sets the privileges exactly: what an earlier version granted too much is taken away, without a gap in what the role needs',
    async () => {
      // Prepare: the reader in service; both its users hold more than SELECT (another schema, INSERT, a global privilege, the grant option).
      const inService = await rotateRoleUser(admin, 'reader', db.name);
      const [other] = roleUserNames('reader', db.name).filter((name) => name !== inService.username) as [string];
      await admin.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [other, '%', 'stale-password-1']);
      for (const user of [inService.username, other]) {
        await admin.query('GRANT INSERT ON ??.* TO ?@? WITH GRANT OPTION', [db.name, user, '%']);
        await admin.query('GRANT SELECT ON ??.* TO ?@?', [`${db.name}_other`, user, '%']);
        await admin.query('GRANT PROCESS ON *.* TO ?@?', [user, '%']);
      }
      const pool = poolOf(inService, 2);
      const errors: number[] = [];

      // Act
      const after = await rotateRoleUser(
        probing(async () => {
          for (const errno of [await work((sql, values) => pool.query(sql, values), 'reader', 400), await coldStart(inService, 'reader', 401)])
            if (errno !== 0) errors.push(errno);
        }),
        'reader',
        db.name,
        inService.username,
      );

      // Assess: SELECT never failed; both users now hold exactly SELECT on the read model.
      expect(errors).toEqual([]);
      expect(after.username).toBe(other);
      for (const user of [inService.username, other]) {
        const [grants] = await admin.query(`SHOW GRANTS FOR '${user}'@'%'`);
        const lines = (grants as Record<string, string>[]).map((row) => Object.values(row)[0] as string).sort();
        expect(lines).toEqual(
          [`GRANT SELECT ON \`${db.name}\`.* TO \`${user}\`@\`%\``, expect.stringMatching(new RegExp(`^GRANT USAGE ON \\*\\.\\* TO \`${user}\`@\`%\``))].sort(),
        );
      }
    },
    budget({ seconds: 10 }),
  );

  it("starts from the first user when the secret names none of the role's users (a first deploy, or a user of an older version)", async () => {
    const [first] = roleUserNames('writer', db.name);
    expect((await rotateRoleUser(admin, 'writer', db.name, undefined)).username).toBe(first);
    expect((await rotateRoleUser(admin, 'writer', db.name, `rm_writer_legacy`)).username).toBe(first);
  });
});
