import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LOCAL_TYPES, SERVED_TYPES } from '../../../local/services';
import { UnsupportedTerraformError } from '../../../local/errors';
import { readSynthesizedStacks, TerraformModel } from '../../../local/terraform';

const context = {
  region: 'us-east-1',
  account: '000000000000',
  endpoint: 'http://127.0.0.1:4566',
  database: { host: '127.0.0.1', port: 3307, name: 'orders_test' },
};

/** Writes stacks as cdktf does: `<outdir>/stacks/<name>/cdk.tf.json`. */
function synthesized(stacks: Record<string, unknown>): string {
  const outdir = mkdtempSync(path.join(tmpdir(), 'tf-reader-'));
  for (const [name, json] of Object.entries(stacks)) {
    mkdirSync(path.join(outdir, 'stacks', name), { recursive: true });
    writeFileSync(path.join(outdir, 'stacks', name, 'cdk.tf.json'), JSON.stringify(json));
  }
  return outdir;
}

const data = {
  resource: {
    aws_dynamodb_table: {
      orders: {
        name: 'orders-table',
        hash_key: 'orderid',
        stream_enabled: true,
        stream_view_type: 'NEW_IMAGE',
        server_side_encryption: { enabled: true, kms_key_arn: '${aws_kms_key.key.arn}' },
      },
    },
    aws_kms_key: { key: {} },
    aws_rds_cluster: { db: { cluster_identifier: 'read-model', manage_master_user_password: true } },
  },
  output: {
    'cross-stack-output-aws_dynamodb_tableordersstream_arn': { value: '${aws_dynamodb_table.orders.stream_arn}' },
    'cross-stack-output-aws_rds_clusterdbmaster_user_secret0secret_arn': { value: '${aws_rds_cluster.db.master_user_secret[0].secret_arn}' },
  },
};

describe('TerraformModel', () => {
  it('resolves references, cross-stack remote-state outputs and data sources to local values', () => {
    // Prepare
    const outdir = synthesized({
      data,
      compute: {
        data: {
          terraform_remote_state: { 'cross-stack-reference-input-data': { backend: 'local' } },
          aws_caller_identity: { me: {} },
          aws_partition: { p: {} },
        },
        resource: {
          aws_lambda_function: {
            fn: {
              function_name: 'project',
              environment: {
                variables: {
                  STREAM: '${data.terraform_remote_state.cross-stack-reference-input-data.outputs.cross-stack-output-aws_dynamodb_tableordersstream_arn}',
                  SECRET:
                    '${data.terraform_remote_state.cross-stack-reference-input-data.outputs.cross-stack-output-aws_rds_clusterdbmaster_user_secret0secret_arn}',
                  ROLE: 'arn:${data.aws_partition.p.partition}:iam::${data.aws_caller_identity.me.account_id}:role/x',
                },
              },
            },
          },
        },
      },
    });

    // Act
    const model = new TerraformModel(readSynthesizedStacks(outdir), context, LOCAL_TYPES);
    const fn = model.only('aws_lambda_function');

    // Assess
    expect(model.field(fn, 'environment', 'variables')).toEqual({
      STREAM: 'arn:aws:dynamodb:us-east-1:000000000000:table/orders-table/stream/1970-01-01T00:00:00.000',
      SECRET: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:rds!cluster-/),
      ROLE: 'arn:aws:iam::000000000000:role/x',
    });
    const table = model.only('aws_dynamodb_table');
    expect(model.field(table, 'server_side_encryption', 'kms_key_arn')).toEqual(model.attributes(model.only('aws_kms_key')).arn);
    expect(model.attributes(model.only('aws_rds_cluster'))).toEqual(
      expect.objectContaining({ endpoint: '127.0.0.1', port: 3307, database_name: 'orders_test' }),
    );
  });

  it('stops at a resource type that has no local behaviour and is not declared, naming its address', () => {
    const outdir = synthesized({ data: { resource: { ...data.resource, aws_s3_bucket: { archive: { bucket: 'b' } } } } });
    expect(() => new TerraformModel(readSynthesizedStacks(outdir), context, LOCAL_TYPES)).toThrow(UnsupportedTerraformError);
    expect(() => new TerraformModel(readSynthesizedStacks(outdir), context, LOCAL_TYPES)).toThrow(
      'data/aws_s3_bucket.archive: resource type aws_s3_bucket has no local behaviour',
    );
  });

  it('stops at an expression it does not understand, naming where it is', () => {
    // Prepare
    const outdir = synthesized({
      data: {
        resource: { ...data.resource, aws_sqs_queue: { q: { name: '${upper(aws_kms_key.key.id)}' }, r: { name: '${aws_kms_key.key.id == "x" ? "a" : "b"}' } } },
      },
    });
    const model = new TerraformModel(readSynthesizedStacks(outdir), context, LOCAL_TYPES);

    // Act and assess
    expect(() => model.attributes(model.resource('data', 'aws_sqs_queue', 'q'))).toThrow(
      'data/aws_sqs_queue.q.name: function upper() is not understood by the local runtime',
    );
    expect(() => model.attributes(model.resource('data', 'aws_sqs_queue', 'r'))).toThrow(UnsupportedTerraformError);
    expect(() => model.resolve('data', '${aws_kms_key.nope.arn}', 'somewhere')).toThrow('data/aws_kms_key.nope: is referenced but not defined');
  });

  it('answers aws_availability_zones as the provider reads it: state and filters applied, sorted by name, an unknown filter refused', () => {
    // Prepare: the local region has opted-in Local and Wavelength Zones, which sort before its Availability Zones.
    const zones = (args: Record<string, unknown>) => ({
      data: {
        resource: {},
        data: { aws_availability_zones: { zones: args } },
        output: { names: { value: '${data.aws_availability_zones.zones.names}' }, first: { value: '${element(data.aws_availability_zones.zones.names, 3)}' } },
      },
    });
    const model = (args: Record<string, unknown>) => new TerraformModel(readSynthesizedStacks(synthesized(zones(args))), context, SERVED_TYPES);

    // Act
    const all = model({ state: 'available' }).outputs('data');
    const filtered = model({ state: 'available', filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] }).outputs('data');
    const byType = model({ filter: [{ name: 'zone-type', values: ['local-zone', 'wavelength-zone'] }], exclude_names: ['us-east-1-wl1-loc-wlz-1'] }).outputs(
      'data',
    );

    // Assess
    expect(all).toEqual({ names: ['us-east-1-loc-1a', 'us-east-1-wl1-loc-wlz-1', 'us-east-1a', 'us-east-1b', 'us-east-1c'], first: 'us-east-1b' });
    expect(filtered).toEqual({ names: ['us-east-1a', 'us-east-1b', 'us-east-1c'], first: 'us-east-1a' });
    expect(byType.names).toEqual(['us-east-1-loc-1a']);
    expect(() => model({ filter: [{ name: 'network-border-group', values: ['x'] }] }).outputs('data')).toThrow(
      'availability-zone filter {"name":"network-border-group","values":["x"]} is not understood by the local runtime',
    );
  });

  it('reads the real local stacks: every resource is served or declared, every field of the served ones resolves', async () => {
    // Prepare
    const { synthesizeLocal } = await import('../../../local/synth');
    const model = new TerraformModel(readSynthesizedStacks(await synthesizeLocal()), context, LOCAL_TYPES);

    // Act
    const served = model.resources().filter((resource) => resource.type in SERVED_TYPES);
    const resolved = served.map((resource) => model.resolve(resource.stack, resource.body, resource.address));

    // Assess
    expect(served.length).toBeGreaterThan(30);
    expect(JSON.stringify(resolved)).not.toContain('${');
  });
});
