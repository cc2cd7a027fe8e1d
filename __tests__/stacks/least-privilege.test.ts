/**
 * Every role's actions and resources in every environment: no wildcard
 * action, no `*` resource outside the AWS-required cases (each listed with
 * its reason), Sids unique within each policy (IAM refuses duplicates), and
 * docs/least-privilege.md, the list reviewers read, current.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { ENVIRONMENT_NAMES } from '../../config/environments';
import { iamInventory, inventoryMarkdown } from '../../analysis/iam-inventory';
import { synthesizeInventoryRows } from '../../analysis/iam-inventory-synth';
import { FunctionName } from '../../stacks/catalogue';

const inventory = synthesizeInventoryRows();

describe('the least-privilege inventory', () => {
  it('covers every environment, each function, the workflow, the rule target and both client policies', () => {
    expect(Object.keys(inventory)).toEqual([...ENVIRONMENT_NAMES]);
    for (const [environment, rows] of Object.entries(inventory)) {
      const identities = new Set(rows.map((row) => row.identity.replace(`order-pipeline-${environment}-`, '')));
      expect(identities).toEqual(
        new Set([
          'commands-and-queries-target',
          'consumer (managed, for client teams)',
          'producer (managed, for client teams)',
          'workflow-role',
          ...Object.values(FunctionName).map((fn) => `${fn}-role`),
        ]),
      );
    }
  });

  it('has no wildcard action and no * resource that AWS does not require', () => {
    const problems = Object.entries(inventory).flatMap(([environment, rows]) =>
      rows.flatMap((row) => row.problems.map((problem) => `${environment} ${row.identity} ${row.sid}: ${problem}`)),
    );
    expect(problems).toEqual([]);
    const wildcards = Object.values(inventory)
      .flat()
      .filter((row) => row.resources.includes('*'));
    expect(wildcards.length).toBeGreaterThan(0);
    for (const row of wildcards) expect(row.wildcardReason).toEqual(expect.any(String));
  });

  it('flags a wildcard action and an unexplained * resource', () => {
    const policy = (statement: object) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
    const rows = iamInventory({
      compute: {
        resource: {
          aws_iam_role: { fn: { name: 'fn-role' } },
          aws_iam_role_policy: {
            a: { role: '${aws_iam_role.fn.name}', policy: policy({ Sid: 'Everything', Action: 'dynamodb:*', Resource: '${aws_dynamodb_table.t.arn}' }) },
            b: { role: '${aws_iam_role.fn.name}', policy: policy({ Sid: 'AnyTable', Action: ['dynamodb:GetItem'], Resource: '*' }) },
          },
        },
      },
    });
    expect(rows.map((row) => [row.sid, row.problems])).toEqual([
      ['AnyTable', ['* resource for dynamodb:GetItem, which AWS does not require']],
      ['Everything', ['wildcard action dynamodb:*']],
    ]);
  });

  it('has unique statement ids within each policy', () => {
    for (const [environment, rows] of Object.entries(inventory)) {
      const seen = rows.map((row) => `${environment} ${row.identity} ${row.sid}`);
      expect(seen.filter((key, index) => seen.indexOf(key) !== index)).toEqual([]);
    }
  });

  it('is what docs/least-privilege.md lists (npm run iam-inventory rewrites it)', () => {
    expect(readFileSync('docs/least-privilege.md', 'utf8')).toBe(inventoryMarkdown(inventory));
  });
});
