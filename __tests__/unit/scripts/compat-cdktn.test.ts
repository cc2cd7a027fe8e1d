import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compareSynths, isVersionMetadata, rewriteImports } from '../../../scripts/compat-cdktn';

/** A synth folder with one stack. */
function synthFolder(stack: unknown): string {
  const out = mkdtempSync(path.join(tmpdir(), 'compat-'));
  mkdirSync(path.join(out, 'stacks', 'order-pipeline-dev-data'), { recursive: true });
  writeFileSync(path.join(out, 'stacks', 'order-pipeline-dev-data', 'cdk.tf.json'), JSON.stringify(stack));
  return out;
}

const stack = (overrides: { tool?: string; version?: string; source?: string; billing?: string } = {}) => ({
  '//': { metadata: { version: overrides.tool ?? '0.21.0', stackName: 'data' } },
  terraform: { required_providers: { aws: { source: overrides.source ?? 'aws', version: overrides.version ?? '6.25.0' } } },
  resource: { aws_dynamodb_table: { orders: { name: 'orders', billing_mode: overrides.billing ?? 'PAY_PER_REQUEST' } } },
});

describe('compat:cdktn', () => {
  it('rewrites the cdktf core and AWS provider imports, and nothing else', () => {
    const source = [
      "import { App, Fn } from 'cdktf';",
      'import type { TerraformStack } from "cdktf";',
      "import { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table';",
      "import { Resource } from '@cdktf/provider-null/lib/resource';",
      "const note = 'cdktf synth';",
    ].join('\n');

    expect(rewriteImports(source).split('\n')).toEqual([
      "import { App, Fn } from 'cdktn';",
      'import type { TerraformStack } from "cdktn";',
      "import { DynamodbTable } from '@cdktn/provider-aws/lib/dynamodb-table';",
      "import { Resource } from '@cdktf/provider-null/lib/resource';",
      "const note = 'cdktf synth';",
    ]);
  });

  it('tolerates tool and provider version metadata and the same provider address written short or long', () => {
    const differences = compareSynths(synthFolder(stack()), synthFolder(stack({ tool: '0.24.0', version: '6.66.0', source: 'hashicorp/aws' })));

    expect(differences.map((difference) => [difference.path, difference.metadata])).toEqual([
      ['//.metadata.version', true],
      ['terraform.required_providers.aws.source', true],
      ['terraform.required_providers.aws.version', true],
    ]);
  });

  it('fails on a resource that differs, and on another provider source', () => {
    const differences = compareSynths(synthFolder(stack()), synthFolder(stack({ billing: 'PROVISIONED', source: 'acme/aws' })));

    expect(differences.filter((difference) => !difference.metadata).map((difference) => difference.path)).toEqual([
      'resource.aws_dynamodb_table.orders.billing_mode',
      'terraform.required_providers.aws.source',
    ]);
    expect(isVersionMetadata('resource.aws_dynamodb_table.orders.version')).toBe(false);
  });
});
