import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { changeKind, summarisePlan, type TerraformPlan } from '../../../scripts/plan-summary';

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/plans/${name}.json`, import.meta.url), 'utf8')) as TerraformPlan;

describe('summarisePlan', () => {
  it('counts a create-only plan and ignores data-source reads', () => {
    const summary = summarisePlan(fixture('create-only'), 'order-pipeline-dev-data');
    expect(summary.counts).toEqual({ create: 3, update: 0, replace: 0, delete: 0 });
    expect(summary.dangerous).toEqual([]);
    expect(summary.markdown.split('\n')[0]).toBe('<!-- plan-summary:order-pipeline-dev-data -->');
    expect(summary.markdown).toContain('| 3 | 0 | 0 | 0 |');
    expect(summary.markdown).toContain('<details><summary>create (3)</summary>');
    expect(summary.markdown).toContain('outputs changed (1)');
    expect(summary.markdown).not.toContain('data.aws_caller_identity');
  });

  it('counts an in-place update and skips no-ops', () => {
    const summary = summarisePlan(fixture('update'));
    expect(summary.counts).toEqual({ create: 0, update: 1, replace: 0, delete: 0 });
    expect(summary.markdown).toContain('~ aws_lambda_function.project-orders_function_1A2B3C4D');
    expect(summary.markdown).not.toContain('aws_sqs_queue.projection-failures');
  });

  it('calls out the replacement of the orders table first, with the attribute forcing it', () => {
    const summary = summarisePlan(fixture('replace-orders-table'));
    expect(summary.counts.replace).toBe(2);
    expect(summary.dangerous.map((change) => change.address)).toEqual(['aws_dynamodb_table.orders']);
    const warning = summary.markdown.indexOf('⚠️ Stateful resources replaced or deleted (1)');
    expect(warning).toBeGreaterThan(0);
    expect(warning).toBeLessThan(summary.markdown.indexOf('<details>'));
    expect(summary.markdown).toContain('- **replace** `aws_dynamodb_table.orders` (replace_because_cannot_update); forced by `hash_key`');
  });

  it('calls out the deletion of the database and its instance, not the subnet group', () => {
    const summary = summarisePlan(fixture('delete-database'));
    expect(summary.counts.delete).toBe(3);
    expect(summary.dangerous.map((change) => change.type).sort()).toEqual(['aws_rds_cluster', 'aws_rds_cluster_instance']);
  });

  it('lists IAM and security group changes', () => {
    const summary = summarisePlan(fixture('iam-changes'));
    expect(summary.security.map((change) => change.address)).toEqual([
      'aws_iam_role_policy.project-orders_policy_55ACC3A3',
      'aws_iam_role.reporting_role',
      'aws_vpc_security_group_ingress_rule.database-from-lambda',
    ]);
    expect(summary.markdown).toContain('🔐 IAM and network security changes (3)');
    expect(summary.markdown).toContain('- -/+ `aws_vpc_security_group_ingress_rule.database-from-lambda`');
  });

  it('says so when there is nothing to change', () => {
    const summary = summarisePlan(fixture('empty'));
    expect(summary.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(summary.markdown).toContain('**No changes.**');
    expect(summary.markdown).not.toContain('<details>');
  });

  it('stays readable for a large plan: every change inside collapsed sections', () => {
    const big: TerraformPlan = {
      format_version: '1.2',
      resource_changes: Array.from({ length: 500 }, (_, index) => ({
        address: `aws_sqs_queue.q${index}`,
        type: 'aws_sqs_queue',
        name: `q${index}`,
        change: { actions: ['create'] },
      })),
    };
    const { markdown } = summarisePlan(big);
    const outsideDetails = markdown.replace(/<details>[\s\S]*?<\/details>/g, '');
    expect(outsideDetails.split('\n').length).toBeLessThan(15);
    expect(markdown).toContain('<details><summary>create (500)</summary>');
  });

  it('refuses input that is not a Terraform JSON plan', () => {
    expect(() => summarisePlan({} as TerraformPlan)).toThrow('format_version is missing');
    expect(() => changeKind(['create', 'update'])).toThrow('unknown Terraform action list');
  });
});
