/**
 * What a migration file may say, statement by statement. Each statement is a
 * step of its own (recorded when done, so a migration stopped between steps
 * resumes at its step), and every change to a table that may hold data must
 * be online on both servers the read model runs on (Aurora MySQL 3, i.e.
 * MySQL 8.0, and MariaDB 10.11 locally and in the tests):
 *
 * - `ALTER TABLE`, `CREATE INDEX`, `DROP INDEX` carry `ALGORITHM=INSTANT`
 *   (with no `LOCK` clause, or `LOCK=DEFAULT`: MySQL 8.0 refuses any other
 *   `LOCK` with `INSTANT`), or `ALGORITHM=INPLACE, LOCK=NONE`. Both servers
 *   refuse the statement, rather than copy the table, when the change cannot
 *   be made that way (MySQL 8.0 Reference Manual, "Online DDL Operations",
 *   https://dev.mysql.com/doc/refman/8.0/en/innodb-online-ddl-operations.html;
 *   MariaDB, "InnoDB Online DDL Overview",
 *   https://mariadb.com/kb/en/innodb-online-ddl-overview/). MariaDB's
 *   `ALGORITHM=NOCOPY` is not MySQL's, so it is refused.
 * - `CREATE TABLE` (a new table) and row statements (`INSERT`, `REPLACE`,
 *   `UPDATE`, `DELETE`) need no clause: they take no exclusive table lock.
 * - Anything else (`DROP TABLE`, `RENAME TABLE`, `TRUNCATE`, `SET`, ...) is
 *   refused.
 *
 * A change no server can make online (a column's type, say) goes through the
 * rebuild instead: the file starts with the line
 * `-- migration: through-rebuild` and holds only `ALTER TABLE` statements on
 * the read model's tables; the rebuild applies them to its fresh tables
 * before filling them, and the swap brings them in (see `rebuild.ts`).
 */
import { READ_MODEL_TABLES } from '../../config/read-model-tables';

/** The directive, on a line of its own before the first statement, that sends a migration through the rebuild. */
const THROUGH_REBUILD_DIRECTIVE = '-- migration: through-rebuild';

/** How a step runs: a row statement in a transaction with its record, a DDL statement on its own. */
export type StepKind = 'ddl' | 'rows';

/** Splits SQL into statements at `;`, leaving quotes intact and comments out. */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let index = 0;
  while (index < sql.length) {
    const char = sql[index] as string;
    const next = sql[index + 1];
    if (char === "'" || char === '"' || char === '`') {
      let end = index + 1;
      while (end < sql.length && sql[end] !== char) end += sql[end] === '\\' && char !== '`' ? 2 : 1;
      current += sql.slice(index, end + 1);
      index = end + 1;
    } else if ((char === '-' && next === '-' && /\s/.test(sql[index + 2] ?? ' ')) || char === '#') {
      while (index < sql.length && sql[index] !== '\n') index++;
      current += ' ';
    } else if (char === '/' && next === '*') {
      const end = sql.indexOf('*/', index + 2);
      index = end === -1 ? sql.length : end + 2;
      current += ' ';
    } else if (char === ';') {
      statements.push(current);
      current = '';
      index++;
    } else {
      current += char;
      index++;
    }
  }
  statements.push(current);
  return statements.map((statement) => statement.replace(/\s+/g, ' ').trim()).filter((statement) => statement.length > 0);
}

/** The statement with quoted strings blanked, upper case: what the checks read. */
function keywords(statement: string): string {
  return statement.replace(/'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"/g, "''").toUpperCase();
}

/** Whether a statement is a row statement or DDL. */
export function stepKind(statement: string): StepKind {
  return /^(INSERT|REPLACE|UPDATE|DELETE)\b/.test(keywords(statement)) ? 'rows' : 'ddl';
}

/** Why a statement of an ordinary migration is not online on both servers, or undefined when it is. */
export function onlineProblem(statement: string): string | undefined {
  const text = keywords(statement);
  if (/^CREATE (TEMPORARY )?TABLE\b/.test(text) || stepKind(statement) === 'rows') return undefined;
  if (!/^(ALTER TABLE|CREATE (UNIQUE |FULLTEXT |SPATIAL )?INDEX|DROP INDEX)\b/.test(text)) {
    return 'is not a statement migrations run online (CREATE TABLE, ALTER TABLE, CREATE INDEX, DROP INDEX, INSERT, REPLACE, UPDATE, DELETE)';
  }
  const algorithm = /\bALGORITHM\b\s*=?\s*(\w+)/.exec(text)?.[1];
  const lock = /\bLOCK\b\s*=?\s*(\w+)/.exec(text)?.[1];
  if (algorithm === 'INSTANT' && (lock === undefined || lock === 'DEFAULT')) return undefined;
  if (algorithm === 'INSTANT') return `has ALGORITHM=INSTANT with LOCK=${lock}, which MySQL 8.0 refuses: leave the LOCK clause out`;
  if (algorithm === 'INPLACE' && lock === 'NONE') return undefined;
  return `may lock or copy a table that holds data (ALGORITHM=${algorithm ?? 'none'}, LOCK=${lock ?? 'none'}): add ALGORITHM=INSTANT, or ALGORITHM=INPLACE, LOCK=NONE, which MySQL 8.0 and MariaDB 10.11 both accept and refuse to fall back from; or send the file through the rebuild (${THROUGH_REBUILD_DIRECTIVE})`;
}

const READ_MODEL_TABLE_NAMES: ReadonlySet<string> = new Set(Object.values(READ_MODEL_TABLES));
const ALTER_READ_MODEL_TABLE = /^ALTER TABLE (`?)([a-z_]+)\1(\s)/i;

/** Why a statement of a through-rebuild migration cannot go through the rebuild, or undefined. */
export function throughRebuildProblem(statement: string): string | undefined {
  const table = ALTER_READ_MODEL_TABLE.exec(statement)?.[2];
  if (table && READ_MODEL_TABLE_NAMES.has(table)) return undefined;
  return `is not an ALTER TABLE of one of the tables the rebuild copies (${[...READ_MODEL_TABLE_NAMES].join(', ')})`;
}

/** A through-rebuild statement aimed at the rebuild's copy of its table (`tables` maps live names to the copies). */
export function onRebuildTables(statement: string, tables: Readonly<Record<string, string>>): string {
  return statement.replace(ALTER_READ_MODEL_TABLE, (_, _quote: string, table: string, space: string) => {
    const copy = tables[table];
    if (!copy) throw new Error(`${table} has no rebuild copy`);
    return `ALTER TABLE \`${copy}\`${space}`;
  });
}

/** Whether a migration file declares that it goes through the rebuild. */
export function goesThroughRebuild(sql: string): boolean {
  const beforeFirstStatement = sql.split('\n').filter((line) => !/^\s*(--|#|$)/.test(line))[0];
  const head = beforeFirstStatement === undefined ? sql : sql.slice(0, sql.indexOf(beforeFirstStatement));
  return head.split('\n').some((line) => line.trim() === THROUGH_REBUILD_DIRECTIVE);
}
