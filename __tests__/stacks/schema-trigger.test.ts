/**
 * The schema trigger's command, as the synthesized `null_resource` renders it,
 * run by its own interpreter against every AWS CLI of this machine. The `aws`
 * on its PATH is a stub: a small script that hands the call to the real CLI
 * with `--endpoint-url` of a fake Lambda API, so the answer is the CLI's own,
 * in the output format the caller configured (text, table, json, a profile's
 * `output = text`). The fake API answers as Lambda does: a result, a function
 * error (`X-Amz-Function-Error`), refused credentials, a function the region
 * does not hold; an unreachable endpoint and a missing CLI complete the cases.
 * The command must exit 0 on success only, and say why otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ENVIRONMENTS } from '../../config/environments';
import { installedAwsClis } from '../helpers/aws-cli';
import { budget } from '../helpers/budget';
import { resource, synthesize, type TerraformJson } from '../helpers/synth';

/** What the fake Lambda API answers. */
type Answer = 'result' | 'function-error' | 'bad-credentials';

interface LocalExec {
  readonly command: string;
  readonly interpreter: string[];
  readonly environment: Record<string, string>;
}

/** The region the fake API holds the function in, when a case needs another one than the synth's. */
let functionRegion: string;
let answer: Answer = 'result';
const invocations: { path: string; region: string }[] = [];
let server: Server;
let endpoint: string;
let closedEndpoint: string;
let trigger: LocalExec;
let triggers: Record<string, string>;
let stacks: { compute: TerraformJson; data: TerraformJson };
let clis: Map<string, string>;
const work = mkdtempSync(path.join(tmpdir(), 'schema-trigger-'));

beforeAll(async () => {
  const synthesized = synthesize(ENVIRONMENTS.dev).json;
  stacks = { compute: synthesized.compute, data: synthesized.data };
  const init = resource(synthesized.compute, 'null_resource');
  triggers = init.triggers as Record<string, string>;
  trigger = (init.provisioner as { 'local-exec': LocalExec }[])[0]?.['local-exec'] as LocalExec;
  functionRegion = trigger.environment.AWS_REGION as string;
  clis = await installedAwsClis();

  server = createServer((request, response) => {
    // SigV4: Credential=<key>/<date>/<region>/lambda/aws4_request
    const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? '';
    invocations.push({ path: request.url ?? '', region });
    request.resume();
    request.on('end', () => {
      const name = decodeURIComponent(/functions\/([^/]+)\/invocations/.exec(request.url ?? '')?.[1] ?? '');
      if (answer === 'bad-credentials') {
        response.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'UnrecognizedClientException' });
        response.end(JSON.stringify({ message: 'The security token included in the request is invalid.' }));
      } else if (region !== functionRegion) {
        response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        response.end(JSON.stringify({ Type: 'User', Message: `Function not found: arn:aws:lambda:${region}:123456789012:function:${name}` }));
      } else if (answer === 'function-error') {
        response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
        response.end(JSON.stringify({ errorType: 'MigrationFailedError', errorMessage: 'migration 0004-x failed' }));
      } else {
        response.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        response.end(JSON.stringify({ database: 'orders', applied: [], alreadyApplied: ['0001-read-model'], users: ['reader', 'writer'] }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedEndpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A PATH folder whose `aws` is the real CLI `cli` talking to `url`. */
function stubCli(cli: string, url: string): string {
  const bin = mkdtempSync(path.join(work, 'bin-'));
  writeFileSync(path.join(bin, 'aws'), `#!/bin/sh\nexec ${JSON.stringify(cli)} --endpoint-url ${JSON.stringify(url)} "$@"\n`);
  chmodSync(path.join(bin, 'aws'), 0o755);
  return bin;
}

/** How the person running terraform configured the CLI. */
interface CallerSetup {
  /** `AWS_DEFAULT_OUTPUT`, or a profile's `output`. */
  readonly output?: { readonly via: 'environment' | 'profile'; readonly format: 'text' | 'table' | 'json' };
  /** No credentials anywhere. */
  readonly noCredentials?: boolean;
}

/** Runs the synthesized command with its interpreter and environment (Terraform's references resolved). */
async function runTrigger(bin: string | null, setup: CallerSetup = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = mkdtempSync(path.join(work, 'home-'));
  mkdirSync(path.join(home, '.aws'));
  const profile = setup.output?.via === 'profile' ? `[profile deployer]\nregion = ${functionRegion}\noutput = ${setup.output.format}\n` : '';
  writeFileSync(path.join(home, '.aws', 'config'), profile);
  writeFileSync(path.join(home, '.aws', 'credentials'), '');
  const resolved = Object.fromEntries(
    Object.entries(trigger.environment).map(([name, value]) => [name, value.includes('${') ? 'order-pipeline-dev-init-schema' : value]),
  );
  const env: NodeJS.ProcessEnv = {
    // An empty folder stands for a machine without the CLI: the command's first check answers before any other tool runs.
    PATH: bin === null ? mkdtempSync(path.join(work, 'empty-')) : `${bin}:/usr/bin:/bin`,
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, '.aws', 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    ...(setup.noCredentials ? {} : { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }),
    ...(setup.output?.via === 'environment' ? { AWS_DEFAULT_OUTPUT: setup.output.format } : {}),
    ...(setup.output?.via === 'profile' ? { AWS_PROFILE: 'deployer' } : {}),
    ...resolved,
  };
  const [interpreter, ...args] = trigger.interpreter;
  return new Promise((resolve) => {
    execFile(interpreter as string, [...args, trigger.command], { env, cwd: work }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The formats a caller may configure; text first, the one the old grep for `FunctionError` passed. */
const FORMATS: CallerSetup['output'][] = [
  { via: 'environment', format: 'text' },
  { via: 'profile', format: 'text' },
  { via: 'environment', format: 'table' },
  { via: 'environment', format: 'json' },
];
/** CLI runs per installed CLI in the tests below, for at most two CLIs (v1 and v2). */
const RUNS = { results: FORMATS.length, errors: FORMATS.length, refusals: 4 };
const MAX_CLIS = 2;

describe('the schema trigger command (rendered from the synth, run by the real AWS CLIs)', () => {
  it('is free of Terraform template sequences, so Terraform runs it as written', () => {
    expect(trigger.command).not.toMatch(/\$\{|%\{/);
    expect(clis.size).toBeGreaterThan(0);
  });

  it(
    'exits 0 when the function returns, whatever output format the caller configured',
    async () => {
      for (const [major, cli] of clis) {
        for (const output of FORMATS) {
          answer = 'result';
          const run = await runTrigger(stubCli(cli, endpoint), { output });
          expect({ cli: major, output, code: run.code, stderr: run.stderr }).toEqual({ cli: major, output, code: 0, stderr: '' });
          expect(run.stdout).toContain('"database":"orders"');
        }
      }
    },
    budget({ awsCliRuns: MAX_CLIS * RUNS.results }),
  );

  it(
    'exits non-zero on a function error in every output format (text used to print "$LATEST\tUnhandled\t200" and pass)',
    async () => {
      for (const [major, cli] of clis) {
        for (const output of FORMATS) {
          answer = 'function-error';
          const before = invocations.length;
          const run = await runTrigger(stubCli(cli, endpoint), { output });
          expect({ cli: major, output, code: run.code }).toEqual({ cli: major, output, code: 1 });
          expect(run.stderr).toContain('init-schema reported an error (status|error: "200|Unhandled")');
          expect(run.stderr).toContain('/aws/lambda/order-pipeline-dev-init-schema');
          // The payload (the error's message) is shown, and the function ran once.
          expect(run.stdout).toContain('migration 0004-x failed');
          expect(invocations.length - before).toBe(1);
        }
      }
    },
    budget({ awsCliRuns: MAX_CLIS * RUNS.errors }),
  );

  it(
    'exits non-zero naming the cause: refused or missing credentials, a region without the function, an unreachable endpoint',
    async () => {
      for (const [major, cli] of clis) {
        answer = 'bad-credentials';
        const refused = await runTrigger(stubCli(cli, endpoint));
        expect({ cli: major, code: refused.code }).toEqual({ cli: major, code: 1 });
        expect(refused.stderr).toContain('the AWS credentials are missing, wrong or expired: ');
        expect(refused.stderr).toContain('UnrecognizedClientException');

        answer = 'result';
        const missing = await runTrigger(stubCli(cli, endpoint), { noCredentials: true });
        expect({ cli: major, code: missing.code }).toEqual({ cli: major, code: 1 });
        expect(missing.stderr).toContain('the AWS credentials are missing, wrong or expired: ');

        // The function lives in another region than the one the synth names.
        const synthRegion = functionRegion;
        functionRegion = 'eu-central-1';
        const elsewhere = await runTrigger(stubCli(cli, endpoint));
        functionRegion = synthRegion;
        expect({ cli: major, code: elsewhere.code }).toEqual({ cli: major, code: 1 });
        expect(elsewhere.stderr).toContain(
          `no function order-pipeline-dev-init-schema in region ${synthRegion} for these credentials: wrong region or account`,
        );

        const before = invocations.length;
        const unreachable = await runTrigger(stubCli(cli, closedEndpoint));
        expect({ cli: major, code: unreachable.code }).toEqual({ cli: major, code: 1 });
        expect(unreachable.stderr).toContain(`Lambda in region ${synthRegion} cannot be reached`);
        expect(invocations.length).toBe(before);
      }
    },
    budget({ awsCliRuns: MAX_CLIS * RUNS.refusals }),
  );

  it('exits non-zero, naming the AWS CLI, when there is none', async () => {
    const run = await runTrigger(null);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('schema initialisation failed: no AWS CLI (aws) on the PATH');
  });
});

/**
 * A value as Terraform evaluates it in the compute stack: each
 * `${type.name.attribute}` read from `state`, cross-stack references followed
 * through the data stack's outputs to the attribute they export.
 */
function evaluate(value: string, state: (address: string) => string, stack: TerraformJson = stacks.compute): string {
  return value.replace(/\$\{([^}]+)\}/g, (_, expression: string) => {
    const remote = /^data\.terraform_remote_state\.[^.]+\.outputs\.(.+)$/.exec(expression);
    if (remote) {
      const output = stacks.data.output?.[remote[1] as string];
      if (!output) throw new Error(`the data stack has no output ${remote[1]}`);
      return evaluate(String(output.value), state, stacks.data);
    }
    const [type, name, attribute, ...rest] = expression.split('.');
    if (!type?.startsWith('aws_') || !attribute || rest.length > 0) throw new Error(`cannot evaluate \${${expression}}`);
    if (stack.resource[type]?.[name as string] === undefined) throw new Error(`\${${expression}} names no resource of its stack`);
    return state(expression);
  });
}

const evaluateTriggers = (state: (address: string) => string) =>
  Object.fromEntries(Object.entries(triggers).map(([key, value]) => [key, evaluate(value, state)]));

describe('the schema trigger map', () => {
  // Every attribute keeps its value across a restore or a replacement, but the cluster's resource id.
  const cluster = (resourceId: string) => (address: string) =>
    /^aws_rds_cluster\.[^.]+\.cluster_resource_id$/.test(address) ? resourceId : `value of ${address}`;

  it('changes when the cluster is restored or replaced (a new cluster_resource_id under the same name), and only then', () => {
    const before = evaluateTriggers(cluster('cluster-ABCDEFGHIJKLMNOPQRSTUVWXY1'));
    const restored = evaluateTriggers(cluster('cluster-ZYXWVUTSRQPONMLKJIHGFEDCB2'));
    expect(restored).not.toEqual(before);
    expect(Object.keys(before).filter((key) => before[key] !== restored[key])).toEqual(['database']);
    expect(evaluateTriggers(cluster('cluster-ABCDEFGHIJKLMNOPQRSTUVWXY1'))).toEqual(before);
  });

  it('follows the cluster init-schema connects to', () => {
    const address = (value: string) => evaluate(value, (attribute) => attribute);
    const initSchema = resource(stacks.compute, 'aws_lambda_function', (fn) => String(fn.function_name).includes('init-schema'));
    const host = address((initSchema.environment as { variables: Record<string, string> }).variables.DB_HOST as string);
    const database = address(triggers.database as string);
    expect(database).toMatch(/^aws_rds_cluster\.[^.]+\.cluster_resource_id$/);
    expect(database.split('.').slice(0, 2)).toEqual(host.split('.').slice(0, 2));
  });
});
