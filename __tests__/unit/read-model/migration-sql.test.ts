/**
 * What a migration file may say: statements split into steps, each change to
 * a table that may hold data online on MySQL 8.0 and MariaDB 10.11 alike, or
 * the file sent through the rebuild. (That MariaDB accepts and runs what the
 * check lets through is shown in online-migrations.mysql.test.ts.)
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  goesThroughRebuild,
  onlineProblem,
  onRebuildTables,
  splitStatements,
  stepKind,
  throughRebuildProblem,
} from '../../../handlers/read-model/migration-sql';
import { MIGRATIONS_DIR, loadMigrations } from '../../../handlers/read-model/migrations';

describe('splitStatements', () => {
  it('splits at semicolons outside quotes and comments, and drops the comments', () => {
    const sql = [
      '-- a comment; with a semicolon',
      "INSERT INTO t (a, b) VALUES ('x;y', \"it's; fine\");",
      '/* block; comment */ CREATE TABLE `odd;name` (id INT) ENGINE = InnoDB;',
      '# hash comment;',
      "UPDATE t SET a = 'back\\'slash;' WHERE b = 1",
      '',
    ].join('\n');
    expect(splitStatements(sql)).toEqual([
      "INSERT INTO t (a, b) VALUES ('x;y', \"it's; fine\")",
      'CREATE TABLE `odd;name` (id INT) ENGINE = InnoDB',
      "UPDATE t SET a = 'back\\'slash;' WHERE b = 1",
    ]);
  });

  it('tells row statements (one transaction with their record) from DDL', () => {
    expect(['INSERT IGNORE INTO t VALUES (1)', 'replace into t values (1)', 'UPDATE t SET a = 1', 'DELETE FROM t'].map(stepKind)).toEqual([
      'rows',
      'rows',
      'rows',
      'rows',
    ]);
    expect(['CREATE TABLE t (a INT)', "ALTER TABLE t ADD COLUMN note VARCHAR(9) DEFAULT 'UPDATE'"].map(stepKind)).toEqual(['ddl', 'ddl']);
  });
});

describe('onlineProblem', () => {
  it.each([
    'ALTER TABLE orders ADD COLUMN note VARCHAR(20) NULL, ALGORITHM=INSTANT',
    'ALTER TABLE orders ADD COLUMN note VARCHAR(20) NULL, ALGORITHM = INSTANT, LOCK = DEFAULT',
    'ALTER TABLE orders ADD INDEX orders_by_line_count (line_count), ALGORITHM = INPLACE, LOCK = NONE',
    'alter table orders drop index orders_by_line_count, algorithm=inplace, lock=none',
    'CREATE INDEX orders_by_line_count ON orders (line_count) ALGORITHM=INPLACE LOCK=NONE',
    'DROP INDEX orders_by_line_count ON orders ALGORITHM=INPLACE LOCK=NONE',
    'CREATE TABLE IF NOT EXISTS new_table (id INT PRIMARY KEY) ENGINE = InnoDB',
    "INSERT IGNORE INTO read_model_generation (id, generation) VALUES (1, 'x')",
  ])('lets through %s', (statement) => {
    expect(onlineProblem(statement)).toBeUndefined();
  });

  it.each([
    ['ALTER TABLE orders MODIFY line_count INT UNSIGNED NOT NULL', /may lock or copy a table that holds data \(ALGORITHM=none, LOCK=none\)/],
    ['ALTER TABLE orders ADD INDEX i (line_count), ALGORITHM=INPLACE', /ALGORITHM=INPLACE, LOCK=none/],
    ['ALTER TABLE orders ADD INDEX i (line_count), ALGORITHM=INPLACE, LOCK=SHARED', /LOCK=SHARED/],
    ['ALTER TABLE orders ADD COLUMN note INT, ALGORITHM=INSTANT, LOCK=NONE', /ALGORITHM=INSTANT with LOCK=NONE, which MySQL 8.0 refuses/],
    ['ALTER TABLE orders MODIFY line_count INT, ALGORITHM=COPY', /ALGORITHM=COPY/],
    ['ALTER TABLE orders ADD INDEX i (line_count), ALGORITHM=NOCOPY, LOCK=NONE', /ALGORITHM=NOCOPY/],
    ["ALTER TABLE orders ADD COLUMN lock_count INT DEFAULT 'ALGORITHM=INSTANT'", /ALGORITHM=none, LOCK=none/],
    ['CREATE INDEX i ON orders (line_count)', /may lock or copy/],
    ['DROP TABLE orders', /is not a statement migrations run online/],
    ['RENAME TABLE orders TO orders_old', /is not a statement migrations run online/],
    ['TRUNCATE TABLE orders', /is not a statement migrations run online/],
    ['SET SESSION lock_wait_timeout = 31536000', /is not a statement migrations run online/],
  ])('refuses %s', (statement, problem) => {
    expect(onlineProblem(statement)).toMatch(problem);
  });
});

describe('through the rebuild', () => {
  it('is declared by a line before the first statement, and only there', () => {
    expect(goesThroughRebuild('-- Wider quantities.\n-- migration: through-rebuild\nALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL;')).toBe(
      true,
    );
    expect(goesThroughRebuild('ALTER TABLE order_lines ADD COLUMN x INT, ALGORITHM=INSTANT;\n-- migration: through-rebuild\n')).toBe(false);
    expect(goesThroughRebuild('-- migration: online\nCREATE TABLE t (id INT);')).toBe(false);
  });

  it('takes only ALTER TABLE of the tables the rebuild copies, aimed at their copies', () => {
    expect(throughRebuildProblem('ALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL')).toBeUndefined();
    expect(throughRebuildProblem('ALTER TABLE `item_totals` ADD COLUMN x INT')).toBeUndefined();
    expect(throughRebuildProblem('ALTER TABLE schema_migrations ADD COLUMN x INT')).toMatch(
      /is not an ALTER TABLE of one of the tables the rebuild copies \(orders, order_lines, item_totals, item_monthly_totals, item_daily_totals\)/,
    );
    expect(throughRebuildProblem('DROP TABLE orders')).toMatch(/is not an ALTER TABLE/);
    expect(onRebuildTables('ALTER TABLE `order_lines` MODIFY quantity BIGINT', { order_lines: 'order_lines_rebuild' })).toBe(
      'ALTER TABLE `order_lines_rebuild` MODIFY quantity BIGINT',
    );
    expect(onRebuildTables('alter table orders ADD COLUMN x INT', { orders: 'orders_rebuild' })).toBe('ALTER TABLE `orders_rebuild` ADD COLUMN x INT');
  });
});

describe('loadMigrations', () => {
  const withExtra = async (name: string, sql: string) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    for (const file of await readdir(MIGRATIONS_DIR)) await writeFile(path.join(dir, file), await readFile(path.join(MIGRATIONS_DIR, file), 'utf8'));
    await writeFile(path.join(dir, name), sql);
    return dir;
  };

  it('splits the project migrations into steps, every one online', async () => {
    const migrations = await loadMigrations();
    expect(migrations.map((migration) => [migration.version, migration.steps.length, migration.throughRebuild])).toEqual([
      [1, 4, false],
      [2, 2, false],
      [3, 1, false],
      [4, 2, false],
    ]);
  });

  it('refuses a file with a statement that is not online, naming the file, the step and the fix', async () => {
    const dir = await withExtra(
      '0900-retype.sql',
      'ALTER TABLE orders ADD COLUMN note INT NULL, ALGORITHM=INSTANT;\nALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL;\n',
    );
    await expect(loadMigrations(dir)).rejects.toThrow(
      /migration file 0900-retype.sql, step 2 \(ALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL\) may lock or copy a table that holds data .*ALGORITHM=INSTANT, or ALGORITHM=INPLACE, LOCK=NONE.*through-rebuild/,
    );
  });

  it('takes the same change declared through the rebuild, and refuses other statements there', async () => {
    const good = await withExtra('0900-retype.sql', '-- migration: through-rebuild\nALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL;\n');
    expect((await loadMigrations(good)).at(-1)).toMatchObject({
      version: 900,
      throughRebuild: true,
      steps: ['ALTER TABLE order_lines MODIFY quantity BIGINT UNSIGNED NOT NULL'],
    });
    const bad = await withExtra('0900-retype.sql', '-- migration: through-rebuild\nCREATE TABLE x (id INT);\n');
    await expect(loadMigrations(bad)).rejects.toThrow(
      /0900-retype.sql, step 1 \(CREATE TABLE x \(id INT\)\) is not an ALTER TABLE of one of the tables the rebuild copies/,
    );
  });

  it('refuses a file with no statement', async () => {
    await expect(loadMigrations(await withExtra('0900-empty.sql', '-- nothing yet\n'))).rejects.toThrow('migration file 0900-empty.sql has no statement');
  });
});
