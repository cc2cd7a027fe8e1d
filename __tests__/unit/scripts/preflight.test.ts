/**
 * `npm run preflight` against a stub `aws` CLI on PATH that answers as a
 * small new account would (or a roomy one): the needs come from the
 * synthesized stacks, each shortfall comes with its fix, and the exit code
 * says whether the deploy can go ahead.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENVIRONMENTS } from '../../../config/environments';
import { loadAwsFacts } from '../../../stacks/aws-facts';
import { deployNeeds, preflightChecks } from '../../../stacks/preflight';
import { synthesizeStacks } from '../../../stacks/synth-offline';

/** A PATH folder whose `aws` answers from canned JSON, keyed by "service operation". */
function stubAws(answers: Record<string, unknown>): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'stub-aws-'));
  writeFileSync(path.join(bin, 'answers.json'), JSON.stringify(answers));
  writeFileSync(
    path.join(bin, 'aws'),
    `#!/usr/bin/env node
const answers = require(${JSON.stringify(path.join(bin, 'answers.json'))});
const key = process.argv.slice(2, 4).join(' ');
if (!(key in answers)) { process.stderr.write('An error occurred (AccessDenied) when calling ' + key + '\\n'); process.exit(254); }
process.stdout.write(JSON.stringify(answers[key]));
`,
  );
  chmodSync(path.join(bin, 'aws'), 0o755);
  return bin;
}

const account = (concurrency: number) => ({
  'lambda get-account-settings': { AccountLimit: { ConcurrentExecutions: concurrency, UnreservedConcurrentExecutions: concurrency } },
  'ec2 describe-vpcs': { Vpcs: [{ VpcId: 'vpc-default' }] },
  'rds describe-account-attributes': { AccountQuotas: [{ AccountQuotaName: 'DBClusters', Used: 0, Max: 40 }, { AccountQuotaName: 'DBInstances', Used: 1, Max: 40 }] },
});

async function preflight(env: string, answers: Record<string, unknown>, extra: NodeJS.ProcessEnv = {}): Promise<{ code: number; output: string }> {
  const bin = stubAws(answers);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/preflight.ts', '--env', env], { env: { ...process.env, ...extra, PATH: `${bin}:${process.env.PATH}`, NODE_OPTIONS: '' } });
    return { code: 0, output: stdout };
  } catch (error) {
    return { code: (error as { code: number }).code, output: String((error as { stdout: string }).stdout) };
  }
}

describe('npm run preflight', () => {
  it('fails a new account with 50 concurrent executions, with the quota request and the small-account choice as fixes', async () => {
    const { code, output } = await preflight('dev', account(50));
    const needs = deployNeeds(synthesizeStacks(ENVIRONMENTS.dev));

    expect(code).toBe(1);
    expect(output).toContain(`FAIL  Lambda concurrency: needs ${needs.reservedConcurrency + 100} (reserved ${needs.reservedConcurrency}: `);
    expect(output).toContain('project-orders 4');
    expect(output).toContain('the account allows 50');
    expect(output).toContain('L-B99A9384');
    expect(output).toContain('lower projection.expectedShards (now 4)');
    expect(output).toContain('ok    Aurora DB clusters: needs 1; the account allows 40 free of 40');
  }, 60_000);

  it('passes an account with room for everything', async () => {
    const { code, output } = await preflight('dev', account(1000));
    expect(output).toContain('the account can take this deploy');
    expect(code).toBe(0);
  }, 60_000);

  it('checks Elastic IPs when the environment uses NAT gateways, says what it could not read, and reports config problems', async () => {
    // prod without an alarm subscriber, and an account that will not answer for RDS.
    const answers = { ...account(1000), 'ec2 describe-account-attributes': { AccountAttributes: [{ AttributeValues: [{ AttributeValue: '5' }] }] }, 'ec2 describe-addresses': { Addresses: [{}, {}, {}] } } as Record<string, unknown>;
    delete answers['rds describe-account-attributes'];
    const stacks = synthesizeStacks({ ...ENVIRONMENTS.prod, egress: 'nat-gateway' });
    const checks = preflightChecks(ENVIRONMENTS.prod, deployNeeds(stacks), { lambdaConcurrency: 1000, lambdaUnreserved: 1000, elasticIps: { limit: 5, used: 3 }, vpcs: { used: 1 }, unreadable: [] }, loadAwsFacts());
    expect(checks.find((check) => check.what.startsWith('Elastic IPs'))).toMatchObject({ needs: '3', ok: false, fix: expect.stringContaining("egress: 'vpc-endpoints'") });

    const { code, output } = await preflight('prod', answers);
    expect(code).toBe(1);
    expect(output).toContain('FAIL  configuration');
    expect(output).toContain('ALARM_EMAILS');
    expect(output).toContain('(not read: aws rds describe-account-attributes: An error occurred (AccessDenied)');
    const subscribed = await preflight('prod', { ...account(1000) }, { ALARM_EMAILS: 'ops@example.com' });
    expect(subscribed.output).not.toContain('FAIL  configuration');
  }, 90_000);
});
