/**
 * Subnets and Aurora instances are placed in Availability Zones only, never in
 * a Local Zone or a Wavelength Zone the account has opted in to. The provider
 * sorts the zones by name, and `us-east-1-atl-2a` sorts before `us-east-1a`, so
 * without the data source's filter the first subnet lands in a Local Zone.
 * The synthesized stacks are read as Terraform reads them, over a local region
 * that has an opted-in Local Zone and Wavelength Zone (local/terraform.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENVIRONMENT_NAMES, ENVIRONMENTS } from '../../config/environments';
import { LOCAL_TYPES } from '../../local/services';
import { readSynthesizedStacks, TerraformModel } from '../../local/terraform';
import { AVAILABILITY_ZONES_ONLY } from '../../stacks/network-stack';
import { budget } from '../helpers/budget';
import { synthesize } from '../helpers/synth';

const context = {
  region: 'us-east-1',
  account: '123456789012',
  endpoint: 'http://127.0.0.1:4566',
  database: { host: '127.0.0.1', port: 3306, name: 'orders' },
};
/** The local region's Availability Zones (its Local Zone is us-east-1-loc-1a, its Wavelength Zone us-east-1-wl1-loc-wlz-1). */
const AVAILABILITY_ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

function synthesized(environment: (typeof ENVIRONMENT_NAMES)[number]): string {
  const config = ENVIRONMENTS[environment];
  return synthesize({ ...config, alarms: { ...config.alarms, emails: ['oncall@example.com'] } }).outdir;
}

/** Where each subnet and each Aurora instance is placed, as Terraform resolves it. */
function placements(outdir: string): Record<string, string> {
  const model = new TerraformModel(readSynthesizedStacks(outdir), context, LOCAL_TYPES);
  return Object.fromEntries(
    [...model.resources('aws_subnet'), ...model.resources('aws_rds_cluster_instance')].map((resource) => [
      resource.address,
      model.string(resource, 'availability_zone'),
    ]),
  );
}

describe('availability zones', () => {
  it.each(ENVIRONMENT_NAMES)(
    'hold every subnet and every Aurora instance of %s: no Local Zone, no Wavelength Zone',
    (environment) => {
      // Act
      const placed = placements(synthesized(environment));

      // Assess
      expect(Object.keys(placed).length).toBeGreaterThanOrEqual(ENVIRONMENTS[environment].azCount + ENVIRONMENTS[environment].aurora.instances);
      for (const zone of Object.values(placed)) expect(AVAILABILITY_ZONES).toContain(zone);
      // Each private subnet in a zone of its own.
      const subnets = Object.entries(placed)
        .filter(([address]) => /aws_subnet\.private-/.test(address))
        .map(([, zone]) => zone);
      expect(new Set(subnets).size).toBe(ENVIRONMENTS[environment].azCount);
    },
    budget({ seconds: 15 }),
  );

  it('come from a data source filtered to opt-in-not-required: without the filter the first subnet lands in the Local Zone', () => {
    // Prepare: the prod synth, with the filter taken out of the network stack.
    const outdir = mkdtempSync(path.join(tmpdir(), 'unfiltered-zones-'));
    cpSync(synthesized('prod'), outdir, { recursive: true });
    const file = path.join(outdir, 'stacks', 'order-pipeline-prod-network', 'cdk.tf.json');
    const network = JSON.parse(readFileSync(file, 'utf8')) as { data: { aws_availability_zones: Record<string, { filter?: unknown }> } };
    const zones = Object.values(network.data.aws_availability_zones);
    expect(zones.map((zone) => zone.filter)).toEqual([[AVAILABILITY_ZONES_ONLY]]);
    for (const zone of zones) delete zone.filter;
    writeFileSync(file, JSON.stringify(network));

    // Act
    const placed = placements(outdir);

    // Assess
    expect(placed['order-pipeline-prod-network/aws_subnet.private-0']).toBe('us-east-1-loc-1a');
    expect(placed['order-pipeline-prod-network/aws_subnet.private-1']).toBe('us-east-1-wl1-loc-wlz-1');
  });
});
