/**
 * Tearing an environment down (`cdktf destroy`), checked offline on the
 * synthesized stacks: the order, what deletion protection blocks in prod and
 * how lifting it still keeps the final snapshot, the key's pending-deletion
 * window.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { ENVIRONMENTS } from '../../config/environments';
import { resource, resources, synthesize } from '../helpers/synth';
import { budget } from '../helpers/budget';

describe('tearing an environment down', () => {
  it('destroys in the reverse of the dependency order: monitoring, workflow, compute, data, network', () => {
    // Prepare
    const app = synthesize(ENVIRONMENTS.dev);

    // Act: the order the PR plan uses, reversed (cdktf destroy follows the same dependencies).
    const order = execFileSync('node_modules/.bin/tsx', ['scripts/plan-order.ts', app.outdir], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((line) => line.split(' ')[0]);

    // Assess
    expect(order.reverse()).toEqual(['order-pipeline-dev-monitoring', 'order-pipeline-dev-workflow', 'order-pipeline-dev-compute', 'order-pipeline-dev-data', 'order-pipeline-dev-network']);
  }, budget({ cliRuns: 1, seconds: 5 }));

  it('blocks deleting production data until the protection is lifted in config, and keeps a final snapshot either way', () => {
    // Prepare
    const protectedProd = synthesize(ENVIRONMENTS.prod);
    const lifted = synthesize({ ...ENVIRONMENTS.prod, deletionProtection: false });

    // Act
    const cluster = (app: typeof lifted) => resource(app.json.data, 'aws_rds_cluster');
    const orders = (app: typeof lifted) => resource(app.json.data, 'aws_dynamodb_table', (table) => String(table.name).endsWith('-orders'));

    // Assess
    expect(cluster(protectedProd)).toMatchObject({ deletion_protection: true, skip_final_snapshot: false, final_snapshot_identifier: 'order-pipeline-prod-read-model-final' });
    expect(orders(protectedProd).deletion_protection_enabled).toBe(true);
    expect(cluster(lifted)).toMatchObject({ deletion_protection: false, skip_final_snapshot: false, final_snapshot_identifier: 'order-pipeline-prod-read-model-final' });
    expect(orders(lifted).deletion_protection_enabled).toBe(false);
  });

  it('deletes dev outright: no protection, no final snapshot', () => {
    const dev = synthesize(ENVIRONMENTS.dev);
    expect(resource(dev.json.data, 'aws_rds_cluster')).toMatchObject({ deletion_protection: false, skip_final_snapshot: true });
  });

  it('schedules the key for deletion after 30 days, not at once: the snapshot and backups stay readable until then', () => {
    const prod = synthesize(ENVIRONMENTS.prod);
    expect(resources(prod.json.data, 'aws_kms_key').map((key) => key.deletion_window_in_days)).toEqual([30]);
  });
});
