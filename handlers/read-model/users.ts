/**
 * The read model's database users, one per role, so a bug in a function can
 * do no more than its role needs:
 *
 * - **reader**: `SELECT` on the read model only: the query functions;
 * - **writer**: `SELECT`, `INSERT`, `UPDATE`, `DELETE`: the statements the
 *   projection runs (multi-row inserts with `ON DUPLICATE KEY UPDATE`, the
 *   read-back of which rows it wrote, and, when an order stops counting, the
 *   deletion of totals that reach zero); no DDL;
 * - the master user only where DDL is needed: init-schema and the rebuild.
 *
 * **Rotation never refuses work in flight: two users per role, alternating**
 * (AWS Secrets Manager's "alternating users" strategy,
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html).
 * Each rotation gives the role's *other* user a new random password and the
 * role's privileges, then the caller writes that user into the role's
 * secret. The user the secret named until then is left alone: its password,
 * its privileges and its sessions, so connections made with it, and new ones
 * made by functions that still cache the old secret, keep working until the
 * next rotation, when it becomes the one renewed. Nothing is dropped and no
 * privilege a role needs is ever revoked: privileges are reconciled (what is
 * missing granted, only what the role must not have revoked), never
 * revoked-then-granted, so there is no instant with a 1142.
 *
 * MySQL 8.0.14+ (Aurora MySQL 3) also has dual passwords (`ALTER USER …
 * RETAIN CURRENT PASSWORD`, then `DISCARD OLD PASSWORD`,
 * https://dev.mysql.com/doc/refman/8.0/en/password-management.html#dual-passwords),
 * but MariaDB 10.11 has no such clause (a syntax error, 1064), and the
 * project's SQL must run on both; alternating users do, with the same effect.
 * The cost: a function whose cached secret is two rotations old meets 1045
 * once and reads the secret again (`withRotatingCredentials`), so rotations
 * should be further apart than a Lambda environment lives with a connection
 * (hours; the servers close idle ones after `wait_timeout`).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Connection } from 'mysql2/promise';

/** The roles that get users of their own. */
export type DatabaseRole = 'reader' | 'writer';

/** What each role may do on the read-model database. */
const ROLE_PRIVILEGES: Readonly<Record<DatabaseRole, readonly string[]>> = {
  reader: ['SELECT'],
  writer: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
};

/** A privilege name as the server lists it (`SELECT`, `CREATE TEMPORARY TABLES`): written into a statement, so checked. */
const PRIVILEGE_NAME = /^[A-Z]+( [A-Z]+)*$/;

/**
 * The two users a role alternates between, unique per read-model database
 * (several databases on one server, such as test runs side by side, never
 * share a user), within MySQL 8.0's 32 characters.
 */
export function roleUserNames(role: DatabaseRole, database: string): readonly [string, string] {
  const base = `rm_${role}_${createHash('sha256').update(database).digest('hex').slice(0, 12)}`;
  return [`${base}_a`, `${base}_b`];
}

/**
 * Every user the roles of a read-model database may have: both alternates of
 * each role, and the single user of each role an older version made (the
 * first rotation moves to an alternate and leaves that one alone). For teardown.
 */
export function allRoleUserNames(database: string): string[] {
  return (['reader', 'writer'] as const).flatMap((role) => [...roleUserNames(role, database), roleUserNames(role, database)[0].slice(0, -2)]);
}

/** Credentials of one role, as its secret holds them. */
export interface RoleCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Rotates a role: the alternate of `current` (the user the role's secret names
 * now; the first alternate when there is none) is created if missing, gets a
 * new random password and exactly the role's privileges on `database`, and
 * `current` gets the role's privileges reconciled too, without a gap. Returns
 * the credentials to write into the role's secret. `current`'s password is
 * not touched.
 */
export async function rotateRoleUser(connection: Connection, role: DatabaseRole, database: string, current?: string): Promise<RoleCredentials> {
  const [first, second] = roleUserNames(role, database);
  const username = current === first ? second : first;
  const password = randomBytes(24).toString('base64url');
  await connection.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [username, '%', password]);
  await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [username, '%', password]);
  await reconcilePrivileges(connection, username, role, database);
  // The user in service keeps its password; its privileges follow the role too (an upgrade that changed them).
  if (current !== undefined && current !== username && (await userExists(connection, current))) await reconcilePrivileges(connection, current, role, database);
  return { username, password };
}

async function userExists(connection: Connection, username: string): Promise<boolean> {
  const [rows] = await connection.query('SELECT 1 FROM mysql.user WHERE User = ? AND Host = ?', [username, '%']);
  return (rows as unknown[]).length > 0;
}

/** One privilege a user holds, at the level the server lists it. */
interface HeldPrivilege {
  readonly privilege: string;
  /** `*.*`, a schema, or a schema's table. */
  readonly on: { readonly schema?: string; readonly table?: string };
  readonly grantable: boolean;
}

/** What the user holds: global, schema and table privileges (`USAGE`, which is no privilege, left out). */
async function heldPrivileges(connection: Connection, username: string): Promise<HeldPrivilege[]> {
  const grantee = `'${username}'@'%'`;
  const [global] = await connection.query(
    'SELECT PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ?',
    [grantee],
  );
  const [schema] = await connection.query(
    'SELECT TABLE_SCHEMA AS `schema`, PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ?',
    [grantee],
  );
  const [table] = await connection.query(
    'SELECT TABLE_SCHEMA AS `schema`, TABLE_NAME AS `table`, PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?',
    [grantee],
  );
  type Row = { privilege: string; grantable: string; schema?: string; table?: string };
  const held = (rows: unknown, level: (row: Row) => HeldPrivilege['on']) =>
    (rows as Row[]).filter((row) => row.privilege !== 'USAGE').map((row) => ({ privilege: row.privilege, on: level(row), grantable: row.grantable === 'YES' }));
  return [...held(global, () => ({})), ...held(schema, (row) => ({ schema: row.schema })), ...held(table, (row) => ({ schema: row.schema, table: row.table }))];
}

/**
 * Gives the user exactly the role's privileges on the database: grants what
 * is missing first, then revokes only what the role must not have (another
 * schema, a global or table privilege, a privilege the role lacks, the grant
 * option). A privilege the role needs is never revoked, even for an instant.
 */
async function reconcilePrivileges(connection: Connection, username: string, role: DatabaseRole, database: string): Promise<void> {
  const wanted = ROLE_PRIVILEGES[role];
  const held = await heldPrivileges(connection, username);
  const onDatabase = held.filter((entry) => entry.on.schema === database && entry.on.table === undefined);
  const missing = wanted.filter((privilege) => !onDatabase.some((entry) => entry.privilege === privilege));
  if (missing.length > 0) await connection.query(`GRANT ${missing.join(', ')} ON ??.* TO ?@?`, [database, username, '%']);
  const grantOptions = new Map<string, { target: string; names: string[] }>();
  for (const entry of held) {
    if (!PRIVILEGE_NAME.test(entry.privilege))
      throw new Error(`user ${username} holds a privilege the rotation cannot name: ${JSON.stringify(entry.privilege)}`);
    const needed = entry.on.schema === database && entry.on.table === undefined && wanted.includes(entry.privilege);
    const target = entry.on.schema === undefined ? '*.*' : entry.on.table === undefined ? '??.*' : '??.??';
    const names = [entry.on.schema, entry.on.table].filter((name): name is string => name !== undefined);
    if (!needed) await connection.query(`REVOKE ${entry.privilege} ON ${target} FROM ?@?`, [...names, username, '%']);
    if (entry.grantable) grantOptions.set(JSON.stringify(names), { target, names });
  }
  for (const { target, names } of grantOptions.values()) await connection.query(`REVOKE GRANT OPTION ON ${target} FROM ?@?`, [...names, username, '%']);
}
