import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { LAMBDA_NODE_MAJOR } from '../../../config/pipeline';

const root = new URL('../../../', import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
const workflows = readdirSync(new URL('.github/workflows/', root)).filter((file) => file.endsWith('.yml'));

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; permissions?: Record<string, string>; environment?: string; needs?: string | string[] }>;
}

const load = (file: string) => parse(readFileSync(new URL(`.github/workflows/${file}`, root), 'utf8')) as Workflow;

describe('GitHub workflows', () => {
  it('are valid YAML with jobs and steps', () => {
    expect(workflows.sort()).toEqual(['compat-cdktn.yml', 'deploy.yml', 'pr.yml']);
    for (const file of workflows) {
      const workflow = load(file);
      expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0);
      for (const job of Object.values(workflow.jobs)) expect(job.steps.length).toBeGreaterThan(0);
    }
  });

  it('only call npm scripts that exist in package.json', () => {
    const called = new Set<string>();
    for (const file of workflows) {
      for (const job of Object.values(load(file).jobs)) {
        for (const step of job.steps) {
          for (const match of (step.run ?? '').matchAll(/npm run (?:--silent )?([\w:-]+)/g)) called.add(match[1] as string);
          if (/\bnpm test\b/.test(step.run ?? '')) called.add('test');
        }
      }
    }
    expect([...called].sort()).toEqual(['compat:cdktn', 'preflight', 'synth', 'test']);
    for (const script of called) expect(packageJson.scripts[script]).toEqual(expect.any(String));
  });

  it('reach AWS only through GitHub OIDC, with the role from a repository variable', () => {
    for (const file of workflows) {
      const text = readFileSync(new URL(`.github/workflows/${file}`, root), 'utf8');
      expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
      for (const job of Object.values(load(file).jobs)) {
        const aws = job.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials'));
        if (!aws) continue;
        expect(job.permissions?.['id-token']).toBe('write');
        expect(String(aws.with?.['role-to-assume'])).toMatch(/^\$\{\{ vars\.AWS_(PLAN|DEPLOY)_ROLE_ARN \}\}$/);
      }
    }
  });

  it("run Node at the Lambda runtime's major, and the CDK Terrain comparison weekly and on dependency changes", () => {
    for (const file of workflows) {
      for (const job of Object.values(load(file).jobs)) {
        for (const step of job.steps.filter((candidate) => candidate.uses?.startsWith('actions/setup-node'))) {
          expect({ file, node: step.with?.['node-version'] }).toEqual({ file, node: LAMBDA_NODE_MAJOR });
        }
      }
    }
    const compat = load('compat-cdktn.yml');
    expect(compat.on.schedule).toEqual([{ cron: expect.stringMatching(/^\S+ \S+ \* \* \d$/) }]);
    expect((compat.on.pull_request as { paths: string[] }).paths).toEqual(['package.json', 'package-lock.json']);
    expect(Object.values(compat.jobs).flatMap((job) => job.steps.map((step) => step.run))).toContain('npm run compat:cdktn');
  });

  it('runs the preflight before the deploy, and passes the alarm subscribers', () => {
    const deploy = load('deploy.yml');
    const steps = Object.values(deploy.jobs).flatMap((job) => job.steps.map((step) => step.run ?? step.uses ?? ''));
    const preflight = steps.findIndex((step) => step.includes('npm run preflight'));
    const apply = steps.findIndex((step) => step.includes('cdktf deploy'));
    expect(preflight).toBeGreaterThan(-1);
    expect(preflight).toBeLessThan(apply);
    expect(readFileSync(new URL('.github/workflows/deploy.yml', root), 'utf8')).toContain('ALARM_EMAILS: ${{ vars.ALARM_EMAILS }}');
  });

  it('plans every stack on pull requests and comments through the upsert script', () => {
    const pr = load('pr.yml');
    expect(Object.keys(pr.on)).toEqual(['pull_request']);
    const steps = pr.jobs.plan?.steps ?? [];
    expect(steps.some((step) => step.run === 'bash .github/scripts/plan-stacks.sh')).toBe(true);
    expect(steps.some((step) => step.uses?.startsWith('actions/upload-artifact'))).toBe(true);
    expect(JSON.stringify(steps)).toContain('upsert-plan-comments.cjs');
  });

  it('deploys from main only after the tests, behind a protected environment', () => {
    const deploy = load('deploy.yml');
    expect(deploy.on).toHaveProperty('push', { branches: ['main'] });
    expect(deploy.jobs.deploy?.needs).toBe('test');
    expect(deploy.jobs.deploy?.environment).toEqual(expect.any(String));
    expect(deploy.jobs.deploy?.steps.some((step) => step.run?.includes('cdktf deploy'))).toBe(true);
  });
});

describe('plan-stacks.sh', () => {
  /**
   * Runs the plan script in a folder holding a synthesized app's manifest, with
   * a stub `terraform` that fails `plan` for the stacks named in FAIL_PLAN with
   * the message in FAIL_MESSAGE, and `npm` served by the real scripts.
   */
  async function planStacks(failPlan: string, failMessage: string): Promise<{ code: number; plans: Record<string, string> }> {
    const { mkdtempSync, mkdirSync, writeFileSync, readdirSync: list, readFileSync: read, chmodSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const repo = fileURLToPath(root);
    const work = mkdtempSync(path.join(tmpdir(), 'plan-stacks-'));
    const stacks = { network: [], data: ['network'], compute: ['data', 'network'], workflow: ['data', 'compute'] };
    const name = (stack: string) => `order-pipeline-dev-${stack}`;
    mkdirSync(path.join(work, 'cdktf.out', 'stacks'), { recursive: true });
    writeFileSync(
      path.join(work, 'cdktf.out', 'manifest.json'),
      JSON.stringify({
        stacks: Object.fromEntries(Object.entries(stacks).map(([stack, dependencies]) => [name(stack), { dependencies: dependencies.map(name) }])),
      }),
    );
    for (const stack of Object.keys(stacks)) mkdirSync(path.join(work, 'cdktf.out', 'stacks', name(stack)));
    const bin = path.join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'terraform'),
      [
        '#!/usr/bin/env bash',
        'dir="${1#-chdir=}"; command="$2"',
        'case "$command" in',
        '  init) exit 0 ;;',
        '  plan) for stack in $FAIL_PLAN; do case "$dir" in *"$stack") echo "$FAIL_MESSAGE" >&2; exit 1 ;; esac; done; touch "$dir/plan.tfplan" ;;',
        '  show) echo \'{"format_version":"1.2","resource_changes":[]}\' ;;',
        'esac',
      ].join('\n'),
    );
    writeFileSync(
      path.join(bin, 'npm'),
      [
        '#!/usr/bin/env bash',
        'shift 2  # run --silent',
        `script="$1"; shift; [ "\${1:-}" = "--" ] && shift`,
        `exec "${repo}node_modules/.bin/tsx" "${repo}scripts/$script.ts" "$@"`,
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'terraform'), 0o755);
    chmodSync(path.join(bin, 'npm'), 0o755);
    const run = spawnSync('bash', [path.join(repo, '.github/scripts/plan-stacks.sh')], {
      cwd: work,
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        FAIL_PLAN: failPlan,
        FAIL_MESSAGE: failMessage,
        NODE_OPTIONS: '',
        NODE_PATH: path.join(repo, 'node_modules'),
      },
      encoding: 'utf8',
    });
    const plans = Object.fromEntries(
      list(path.join(work, 'plans'))
        .filter((file) => file.endsWith('.md'))
        .map((file) => [file.replace(/\.md$/, ''), read(path.join(work, 'plans', file), 'utf8')]),
    );
    return { code: run.status ?? -1, plans };
  }

  it('plans in dependency order, and skips a stack whose upstream has no state yet (and what depends on it) without failing', async () => {
    const { code, plans } = await planStacks('compute', 'Error: Unable to find remote state');
    expect(code).toBe(0);
    expect(Object.keys(plans).sort()).toEqual([
      'order-pipeline-dev-compute',
      'order-pipeline-dev-data',
      'order-pipeline-dev-network',
      'order-pipeline-dev-workflow',
    ]);
    expect(plans['order-pipeline-dev-network']).not.toContain('skipped');
    expect(plans['order-pipeline-dev-compute']).toContain('skipped: apply order-pipeline-dev-data order-pipeline-dev-network first');
    expect(plans['order-pipeline-dev-workflow']).toContain('skipped: apply order-pipeline-dev-compute first');
  }, 60_000);

  it('fails the job on any other plan error, after planning every other stack', async () => {
    const { code, plans } = await planStacks('data', 'Error: Invalid provider configuration');
    expect(code).toBe(1);
    expect(plans['order-pipeline-dev-network']).toBeDefined();
    expect(plans['order-pipeline-dev-workflow']).toBeDefined();
  }, 60_000);
});

describe('upsert-plan-comments', () => {
  it('updates the bot comment that carries a stack marker and creates the others', async () => {
    // Prepare
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { createRequire } = await import('node:module');
    const upsert = createRequire(import.meta.url)('../../../.github/scripts/upsert-plan-comments.cjs') as (options: unknown) => Promise<void>;
    const directory = mkdtempSync(path.join(tmpdir(), 'plans-'));
    writeFileSync(path.join(directory, 'a.md'), '<!-- plan-summary:stack-a -->\nnew a\n');
    writeFileSync(path.join(directory, 'b.md'), '<!-- plan-summary:stack-b -->\nnew b\n');
    const calls: string[] = [];
    const github = {
      paginate: async () => [
        { id: 1, user: { type: 'Bot' }, body: '<!-- plan-summary:stack-a -->\nold a' },
        { id: 2, user: { type: 'User' }, body: '<!-- plan-summary:stack-b -->\nquoted by a human' },
      ],
      rest: {
        issues: {
          listComments: () => undefined,
          updateComment: async ({ comment_id }: { comment_id: number }) => void calls.push(`update ${comment_id}`),
          createComment: async ({ body }: { body: string }) => void calls.push(`create ${body.split('\n')[1]}`),
        },
      },
    };

    // Act
    await upsert({ github, context: { repo: { owner: 'o', repo: 'r' }, issue: { number: 7 } }, directory });

    // Assess
    expect(calls).toEqual(['update 1', 'create new b']);
  });
});
