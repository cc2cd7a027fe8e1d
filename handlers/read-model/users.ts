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
 * init-schema, which holds the master credentials, creates the users with
 * random passwords and writes them into each role's secret; Terraform only
 * creates the empty secrets, so no password is ever in Terraform state.
 * Running init-schema again rotates both passwords.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Connection } from 'mysql2/promise';

/** The roles that get a user of their own. */
export type DatabaseRole = 'reader' | 'writer';

/** What each role may do on the read-model database. */
const ROLE_PRIVILEGES: Readonly<Record<DatabaseRole, readonly string[]>> = {
  reader: ['SELECT'],
  writer: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
};

/**
 * A role's user name, unique per read-model database (several databases on
 * one server, such as test runs side by side, never share a user), within
 * MySQL 8.0's 32 characters.
 */
export function roleUserName(role: DatabaseRole, database: string): string {
  return `rm_${role}_${createHash('sha256').update(database).digest('hex').slice(0, 12)}`;
}

/** Credentials of one role, as its secret holds them. */
export interface RoleCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Creates the role's user if missing, gives it a new random password and
 * exactly its privileges on `database`; returns the credentials to store.
 */
export async function provisionRoleUser(connection: Connection, role: DatabaseRole, database: string): Promise<RoleCredentials> {
  const username = roleUserName(role, database);
  const password = randomBytes(24).toString('base64url');
  await connection.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [username, '%', password]);
  await connection.query('ALTER USER ?@? IDENTIFIED BY ?', [username, '%', password]);
  // Privileges are set, not added: a role never keeps what an earlier version granted.
  await connection.query('REVOKE ALL PRIVILEGES, GRANT OPTION FROM ?@?', [username, '%']);
  await connection.query(`GRANT ${ROLE_PRIVILEGES[role].join(', ')} ON ??.* TO ?@?`, [database, username, '%']);
  return { username, password };
}
