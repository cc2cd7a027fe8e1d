/**
 * Tearing an environment down (`cdktf destroy`), checked offline on the
 * synthesized stacks: the order, what deletion protection blocks in prod and
 * how lifting it still keeps the final snapshot, the key's pending-deletion
 * window.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { ENVIRONMENTS } from '../../config/environments';
import { LOCAL_TYPES } from '../../local/services';
import { readSynthesizedStacks, TerraformModel } from '../../local/terraform';
import { snapshotIdentifierProblems } from '../../stacks/data-stack';
import { resource, resources, synthesize } from '../helpers/synth';
import { budget } from '../helpers/budget';

/** The final snapshot's name as Terraform renders it when the cluster is created at `time`. */
function finalSnapshotAt(outdir: string, time: string): string {
  const model = new TerraformModel(
    readSynthesizedStacks(outdir),
    {
      region: 'us-east-1',
      account: '123456789012',
      endpoint: 'http://127.0.0.1:4566',
      database: { host: '127.0.0.1', port: 3306, name: 'orders' },
      now: () => new Date(time),
    },
    LOCAL_TYPES,
  );
  return model.string(model.only('aws_rds_cluster'), 'final_snapshot_identifier');
}

describe('tearing an environment down', () => {
  it(
    'destroys in the reverse of the dependency order: monitoring, workflow, compute, data, network',
    () => {
      // Prepare
      const app = synthesize(ENVIRONMENTS.dev);

      // Act: the order the PR plan uses, reversed (cdktf destroy follows the same dependencies).
      const order = execFileSync('node_modules/.bin/tsx', ['scripts/plan-order.ts', app.outdir], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => line.split(' ')[0]);

      // Assess
      expect(order.reverse()).toEqual([
        'order-pipeline-dev-monitoring',
        'order-pipeline-dev-workflow',
        'order-pipeline-dev-compute',
        'order-pipeline-dev-data',
        'order-pipeline-dev-network',
      ]);
    },
    budget({ cliRuns: 1, seconds: 5 }),
  );

  it('blocks deleting production data until the protection is lifted in config, and keeps a final snapshot either way', () => {
    // Prepare
    const protectedProd = synthesize(ENVIRONMENTS.prod);
    const lifted = synthesize({ ...ENVIRONMENTS.prod, deletionProtection: false });

    // Act
    const cluster = (app: typeof lifted) => resource(app.json.data, 'aws_rds_cluster');
    const orders = (app: typeof lifted) => resource(app.json.data, 'aws_dynamodb_table', (table) => String(table.name).endsWith('-orders'));

    // Assess
    expect(cluster(protectedProd)).toMatchObject({
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: expect.stringMatching(/^order-pipeline-prod-read-model-final-/),
    });
    expect(orders(protectedProd).deletion_protection_enabled).toBe(true);
    expect(cluster(lifted)).toMatchObject({
      deletion_protection: false,
      skip_final_snapshot: false,
      final_snapshot_identifier: expect.stringMatching(/^order-pipeline-prod-read-model-final-/),
    });
    expect(orders(lifted).deletion_protection_enabled).toBe(false);
  });

  it(
    'names each final snapshot after the creation of its cluster: a re-created environment destroyed again does not collide with the first snapshot',
    () => {
      for (const environment of ['prod', 'staging'] as const) {
        // Prepare
        const app = synthesize({ ...ENVIRONMENTS[environment], alarms: { ...ENVIRONMENTS[environment].alarms, emails: ['oncall@example.com'] } });

        // Act: the name Terraform renders for a cluster created now, and for the one created again a day later.
        const first = finalSnapshotAt(app.outdir, '2026-12-07T15:04:05Z');
        const second = finalSnapshotAt(app.outdir, '2026-12-08T09:30:00Z');

        // Assess: distinct, valid as RDS requires, and fixed once the cluster exists (a plan does not re-render it).
        expect([first, second]).toEqual([
          `order-pipeline-${environment}-read-model-final-20261207150405`,
          `order-pipeline-${environment}-read-model-final-20261208093000`,
        ]);
        for (const name of [first, second]) expect(snapshotIdentifierProblems(name)).toEqual([]);
        expect((resource(app.json.data, 'aws_rds_cluster').lifecycle as { ignore_changes: string[] }).ignore_changes).toContain('final_snapshot_identifier');
      }
    },
    budget({ seconds: 10 }),
  );

  it('checks a snapshot name as RDS does: 1 to 255 letters, digits or hyphens, a letter first, no double or trailing hyphen', () => {
    expect(snapshotIdentifierProblems('order-pipeline-prod-read-model-final-20261207150405')).toEqual([]);
    expect(snapshotIdentifierProblems('a')).toEqual([]);
    expect(snapshotIdentifierProblems('')).toEqual(['must be 1 to 255 characters, has 0', 'must start with a letter']);
    expect(snapshotIdentifierProblems(`a${'b'.repeat(255)}`)).toEqual(['must be 1 to 255 characters, has 256']);
    expect(snapshotIdentifierProblems('1-final')).toEqual(['must start with a letter']);
    expect(snapshotIdentifierProblems('read-model--final')).toEqual(['must not hold two hyphens in a row']);
    expect(snapshotIdentifierProblems('read-model-final-')).toEqual(['must not end with a hyphen']);
    expect(snapshotIdentifierProblems('read_model.final')).toEqual(['may hold only letters, digits and hyphens']);
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
