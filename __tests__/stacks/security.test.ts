/**
 * Least privilege, encryption and secrets, checked over every synthesized
 * policy and resource of every stack (dev and prod, both egress modes).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ENVIRONMENTS } from '../../config/environments';
import { QUERIES } from '../../handlers/queries/registry';
import { WILDCARD_RESOURCE_ALLOWLIST, policyDocument } from '../../stacks/constructs/iam';
import { resource, resources, synthesize, type SynthesizedApp, type TerraformJson } from '../helpers/synth';

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

let apps: SynthesizedApp[];

beforeAll(() => {
  apps = [synthesize(ENVIRONMENTS.dev), synthesize({ ...ENVIRONMENTS.prod, egress: 'nat-gateway' })];
});

const stacksOf = (app: SynthesizedApp): [string, TerraformJson][] => Object.entries(app.json);

/** Every policy document in a stack, with where it came from. */
function policies(stack: TerraformJson): { where: string; kind: 'identity' | 'resource' | 'trust'; statements: Statement[] }[] {
  const found: { where: string; kind: 'identity' | 'resource' | 'trust'; statements: Statement[] }[] = [];
  const add = (where: string, kind: 'identity' | 'resource' | 'trust', text: unknown) => {
    found.push({ where, kind, statements: (JSON.parse(text as string) as { Statement: Statement[] }).Statement });
  };
  for (const policy of resources(stack, 'aws_iam_role_policy')) add(`aws_iam_role_policy.${policy.__id}`, 'identity', policy.policy);
  for (const policy of resources(stack, 'aws_iam_policy')) add(`aws_iam_policy.${policy.__id}`, 'identity', policy.policy);
  for (const role of resources(stack, 'aws_iam_role')) add(`aws_iam_role.${role.__id}`, 'trust', role.assume_role_policy);
  for (const key of resources(stack, 'aws_kms_key')) add(`aws_kms_key.${key.__id}`, 'resource', key.policy);
  for (const queue of resources(stack, 'aws_sqs_queue_policy')) add(`aws_sqs_queue_policy.${queue.__id}`, 'resource', queue.policy);
  for (const logs of resources(stack, 'aws_cloudwatch_log_resource_policy'))
    add(`aws_cloudwatch_log_resource_policy.${logs.__id}`, 'resource', logs.policy_document);
  return found;
}

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

describe('IAM', () => {
  it("has no inline-less role and no managed-policy attachment; the only managed policies are the clients' two", () => {
    for (const app of apps) {
      for (const [, stack] of stacksOf(app)) {
        expect(resources(stack, 'aws_iam_role_policy_attachment')).toEqual([]);
      }
      expect(
        Object.values(app.json).flatMap((stack) =>
          resources(stack, 'aws_iam_policy').map((policy) => String(policy.name).replace(/^order-pipeline-[a-z]+-/, '')),
        ),
      ).toEqual(['consumer', 'producer']);
    }
  });

  it('names every action: no * and no service:*', () => {
    for (const app of apps) {
      for (const [, stack] of stacksOf(app)) {
        for (const { where, kind, statements } of policies(stack)) {
          if (kind === 'trust') continue;
          for (const statement of statements) {
            for (const action of list(statement.Action)) {
              expect({ where, action, wildcard: action === '*' || action.endsWith(':*') || action.includes('*') }).toEqual({ where, action, wildcard: false });
            }
          }
        }
      }
    }
  });

  it('uses a * resource only for the allowlisted actions (identity policies) or as "this resource" (resource policies with a principal)', () => {
    let checked = 0;
    for (const app of apps) {
      for (const [, stack] of stacksOf(app)) {
        for (const { where, kind, statements } of policies(stack)) {
          if (kind === 'trust') continue;
          for (const statement of statements) {
            checked++;
            if (!list(statement.Resource).includes('*')) continue;
            if (kind === 'resource') {
              expect({ where, principal: statement.Principal !== undefined }).toEqual({ where, principal: true });
            } else {
              const unlisted = list(statement.Action).filter((action) => !(action in WILDCARD_RESOURCE_ALLOWLIST));
              expect({ where, sid: statement.Sid, unlisted }).toEqual({ where, sid: statement.Sid, unlisted: [] });
            }
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('gives each function, the state machine and the rule target a role of their own', () => {
    const [dev] = apps as [SynthesizedApp];
    const roles = [...resources(dev.json.compute, 'aws_iam_role'), ...resources(dev.json.workflow, 'aws_iam_role')].map((role) => role.name).sort();
    expect(roles).toEqual(
      [
        'order-pipeline-dev-commands-and-queries-target',
        'order-pipeline-dev-init-schema-role',
        ...QUERIES.map((query) => `order-pipeline-dev-${query.functionName}-role`),
        'order-pipeline-dev-project-orders-role',
        'order-pipeline-dev-rebuild-read-model-role',
        'order-pipeline-dev-validate-request-role',
        'order-pipeline-dev-workflow-role',
      ].sort(),
    );
    const trusted = (role: { assume_role_policy: unknown }) =>
      (JSON.parse(role.assume_role_policy as string) as { Statement: { Principal: { Service: string } }[] }).Statement.map((s) => s.Principal.Service);
    for (const role of resources(dev.json.compute, 'aws_iam_role')) expect(trusted(role as never)).toEqual(['lambda.amazonaws.com']);
  });

  it('lets the query functions read the secret but not the tables, and the validation function nothing', () => {
    const [dev] = apps as [SynthesizedApp];
    const actionsOf = (name: string) => {
      const role = resources(dev.json.compute, 'aws_iam_role').find((candidate) => candidate.name === name);
      const policy = resources(dev.json.compute, 'aws_iam_role_policy').find((candidate) => candidate.role === `\${aws_iam_role.${role?.__id}.id}`);
      return (JSON.parse(policy?.policy as string) as { Statement: Statement[] }).Statement.flatMap((statement) => list(statement.Action)).sort();
    };
    expect(actionsOf('order-pipeline-dev-items-sales-report-role')).toEqual(
      [
        'ec2:AssignPrivateIpAddresses',
        'ec2:CreateNetworkInterface',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:UnassignPrivateIpAddresses',
        'kms:Decrypt',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    expect(actionsOf('order-pipeline-dev-validate-request-role')).toEqual(
      ['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort(),
    );
  });

  it('refuses to build a policy with a wildcard action or an unlisted * resource', () => {
    expect(() => policyDocument([{ Action: ['dynamodb:*'], Resource: ['arn:aws:dynamodb:us-east-1:1:table/t'] }])).toThrow('wildcard');
    expect(() => policyDocument([{ Action: ['dynamodb:GetItem'], Resource: ['*'] }])).toThrow('need a named resource');
  });
});

describe('encryption at rest', () => {
  it('encrypts every table, queue, log group and the database', () => {
    for (const app of apps) {
      for (const [name, stack] of stacksOf(app)) {
        for (const table of resources(stack, 'aws_dynamodb_table')) {
          expect({ name, table: table.name, sse: table.server_side_encryption }).toEqual({
            name,
            table: table.name,
            sse: { enabled: true, kms_key_arn: expect.any(String) },
          });
        }
        for (const queue of resources(stack, 'aws_sqs_queue')) {
          expect({ queue: queue.name, encrypted: queue.sqs_managed_sse_enabled === true || typeof queue.kms_master_key_id === 'string' }).toEqual({
            queue: queue.name,
            encrypted: true,
          });
        }
        for (const group of resources(stack, 'aws_cloudwatch_log_group')) {
          expect({ group: group.name, kms: typeof group.kms_key_id }).toEqual({ group: group.name, kms: 'string' });
        }
        for (const cluster of resources(stack, 'aws_rds_cluster')) expect(cluster).toMatchObject({ storage_encrypted: true, kms_key_id: expect.any(String) });
        for (const fn of resources(stack, 'aws_lambda_function')) expect(fn.kms_key_arn).toEqual(expect.any(String));
      }
    }
  });

  it('rotates the customer managed key', () => {
    for (const app of apps) expect(resources(app.json.data, 'aws_kms_key')).toEqual([expect.objectContaining({ enable_key_rotation: true })]);
  });
});

describe('the database', () => {
  it('is private, TLS-only, reachable only from the Lambda security group', () => {
    for (const app of apps) {
      for (const instance of resources(app.json.data, 'aws_rds_cluster_instance')) expect(instance.publicly_accessible).toBe(false);
      const parameters = resources(app.json.data, 'aws_rds_cluster_parameter_group')[0];
      expect(parameters?.parameter).toEqual(expect.arrayContaining([{ name: 'require_secure_transport', value: 'ON' }]));
      const ingress = resources(app.json.network, 'aws_vpc_security_group_ingress_rule').filter((rule) => rule.from_port === 3306);
      expect(ingress).toEqual([expect.objectContaining({ referenced_security_group_id: expect.stringContaining('lambda-sg') })]);
      for (const fn of resources(app.json.compute, 'aws_lambda_function')) {
        const variables = (fn.environment as { variables: Record<string, string> }).variables;
        if ('DB_HOST' in variables) expect(variables.DB_TLS).toBe('required');
      }
    }
  });
});

describe('secrets', () => {
  it('never puts a secret in outputs or function environments', () => {
    for (const app of apps) {
      for (const [, stack] of stacksOf(app)) {
        for (const [name, output] of Object.entries(stack.output ?? {})) {
          if (name.startsWith('cross-stack-output-')) {
            expect({ name, secretValue: /password|secret_string/i.test(String(output.value)) }).toEqual({ name, secretValue: false });
          } else {
            expect({ name, value: String(output.value) }).not.toEqual({ name, value: expect.stringMatching(/secret|password/i) });
          }
        }
        for (const fn of resources(stack, 'aws_lambda_function')) {
          const variables = (fn.environment as { variables: Record<string, string> }).variables;
          for (const [key, value] of Object.entries(variables)) {
            expect({ key, looksSecret: /password|token|private_key/i.test(key) }).toEqual({ key, looksSecret: false });
            // Each function reads its role's secret: the master only where DDL is needed.
            if (key === 'DB_SECRET_ID') {
              const role = /-(init-schema|rebuild-read-model)$/.test(String(fn.function_name))
                ? 'master_user_secret0secret_arn'
                : /-project-orders$/.test(String(fn.function_name))
                  ? 'aws_secretsmanager_secretwriter-secretarn'
                  : 'aws_secretsmanager_secretreader-secretarn';
              expect({ fn: fn.function_name, secret: value }).toEqual({ fn: fn.function_name, secret: expect.stringContaining(role) });
            }
          }
        }
        expect(JSON.stringify(stack)).not.toMatch(/"master_password"|"password":/);
        // The role secrets are created empty: their values never pass through Terraform (or its state).
        expect(resources(stack, 'aws_secretsmanager_secret_version')).toEqual([]);
        for (const secret of resources(stack, 'aws_secretsmanager_secret')) expect(secret.kms_key_id).toEqual(expect.stringContaining('aws_kms_key'));
      }
    }
  });
});

describe('licences', () => {
  it('keeps the AGPL IAM evaluator out of every Lambda zip, and out of the production dependencies', async () => {
    // Prepare
    const { readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const { readZip } = await import('../../local/unzip');
    const app = apps[0] as SynthesizedApp;
    const functions = resources(app.json.compute, 'aws_lambda_function');
    const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

    // Act
    const offenders = functions.flatMap((fn) =>
      readZip(readFileSync(path.join(app.outdir, 'stacks', app.stacks.compute.node.id, fn.filename as string)))
        .filter((entry) => /cloud-copilot|iam-simulate|AGPL/i.test(entry.data.toString('latin1')))
        .map((entry) => `${String(fn.function_name)}: ${entry.name}`),
    );

    // Assess
    expect(functions.length).toBeGreaterThan(0);
    expect(offenders).toEqual([]);
    expect(Object.keys(packageJson.dependencies).filter((name) => name.startsWith('@cloud-copilot/'))).toEqual([]);
    expect(packageJson.devDependencies['@cloud-copilot/iam-simulate']).toBeDefined();
  });
});

describe('the bus contract on AWS', () => {
  it('lets a producer put only commands and queries, and the workflow only responses: nobody can forge an answer', async () => {
    // Prepare: the synthesized documents, with the bus ARN made concrete.
    const { IamGate } = await import('../../local/iam');
    const app = apps[0] as SynthesizedApp;
    const bus = 'arn:aws:events:us-east-1:111122223333:event-bus/order-pipeline-dev-bus';
    const concrete = (text: string) => JSON.parse(text.replace(/\$\{aws_cloudwatch_event_bus\.bus\.arn\}/g, bus)) as { Statement: unknown[] };
    const producer = concrete(resources(app.json.workflow, 'aws_iam_policy').find((policy) => String(policy.name).endsWith('-producer'))?.policy as string);
    const workflow = concrete(resources(app.json.workflow, 'aws_iam_role_policy').find((policy) => policy.__id === 'workflow-policy')?.policy as string);
    const role = (name: string) => `arn:aws:iam::111122223333:role/${name}`;
    const gate = new IamGate({
      account: '111122223333',
      mode: 'enforce',
      policies: {
        identity: new Map([
          [role('producer'), [{ name: 'producer', document: producer }]],
          [
            role('workflow'),
            [
              {
                name: 'workflow',
                document: {
                  Version: '2012-10-17',
                  Statement: workflow.Statement.filter((statement) => (statement as { Sid?: string }).Sid === 'PublishResponses'),
                },
              },
            ],
          ],
        ]),
        trust: new Map(),
        resource: new Map(),
        prefixed: [],
      },
    });
    // One PutEvents call is authorized once, with the values of all its entries (multivalued keys).
    const put = (who: string, detailTypes: string[], sources = detailTypes.map(() => 'orderPipeline')) =>
      gate.allows({
        principal: { kind: 'role', arn: role(who) },
        action: 'events:PutEvents',
        resource: bus,
        context: { 'events:source': [...new Set(sources)], 'events:detail-type': [...new Set(detailTypes)] },
      });
    const batches: [string[], boolean][] = [
      [['orderCommand'], true],
      [['orderQuery'], true],
      [['orderCommand', 'orderQuery'], true],
      [['orderCommandResponse'], false],
      [['orderQueryResponse'], false],
      [['orderCommand', 'orderCommandResponse'], false],
      [['orderQuery', 'orderQueryResponse'], false],
      [['orderCommand', 'orderQueryResponse'], false],
    ];

    // Act and assess: the producer may put commands and queries, alone or together, and nothing else in the same call.
    for (const [types, allowed] of batches) expect({ producer: types, allowed: await put('producer', types) }).toEqual({ producer: types, allowed });
    expect(await put('producer', ['orderCommand'], ['somebodyElse'])).toBe(false);
    expect(await put('producer', ['orderCommand', 'orderCommand'], ['orderPipeline', 'somebodyElse'])).toBe(false);
    expect(await gate.allows({ principal: { kind: 'role', arn: role('producer') }, action: 'events:PutEvents', resource: bus })).toBe(false);
    // The workflow the other way round: responses only, never a command or a query beside them.
    for (const [types, allowed] of batches) {
      const responsesOnly = types.every((type) => type.endsWith('Response'));
      expect({ workflow: types, allowed: await put('workflow', types) }).toEqual({ workflow: types, allowed: responsesOnly && !allowed });
    }
    const outputs = Object.keys(app.json.workflow.output ?? {});
    expect(outputs).toEqual(expect.arrayContaining(['ProducerPolicyArn', 'ConsumerPolicyArn']));
  });
});

describe('confused deputy', () => {
  it('lets Step Functions and EventBridge assume their roles only for this account and this state machine or rule', async () => {
    // Prepare
    const { IamGate } = await import('../../local/iam');
    const app = apps[0] as SynthesizedApp;
    const account = '111122223333';
    const concrete = (text: string) =>
      JSON.parse(
        text
          .replace(/\$\{data\.aws_caller_identity\.account\.account_id\}/g, account)
          .replace(/\$\{data\.aws_partition\.partition\.partition\}/g, 'aws')
          .replace(
            /\$\{aws_cloudwatch_event_rule\.workflow-rule\.arn\}/g,
            `arn:aws:events:us-east-1:${account}:rule/order-pipeline-dev-bus/order-pipeline-dev-commands-and-queries`,
          ),
      ) as { Statement: unknown[] };
    const trust = (id: string) => concrete(resource(app.json.workflow, 'aws_iam_role', (role) => role.__id === id).assume_role_policy as string);
    const workflowRole = `arn:aws:iam::${account}:role/workflow`;
    const targetRole = `arn:aws:iam::${account}:role/target`;
    const gate = new IamGate({
      account,
      mode: 'enforce',
      policies: {
        identity: new Map(),
        trust: new Map([
          [workflowRole, trust('workflow-role')],
          [targetRole, trust('workflow-target-role')],
        ]),
        resource: new Map(),
        prefixed: [],
      },
    });
    const assume = (service: string, role: string, sourceAccount: string, sourceArn: string) =>
      gate.allows({
        principal: { kind: 'service', service },
        action: 'sts:AssumeRole',
        resource: role,
        context: { 'aws:SourceAccount': sourceAccount, 'aws:SourceArn': sourceArn },
      });
    const machine = `arn:aws:states:us-east-1:${account}:stateMachine:order-pipeline-dev-workflow`;
    const rule = `arn:aws:events:us-east-1:${account}:rule/order-pipeline-dev-bus/order-pipeline-dev-commands-and-queries`;

    // Act and assess
    expect(await assume('states.amazonaws.com', workflowRole, account, machine)).toBe(true);
    expect(await assume('states.amazonaws.com', workflowRole, '999988887777', machine.replace(account, '999988887777'))).toBe(false);
    expect(await assume('states.amazonaws.com', workflowRole, account, `${machine}-other`)).toBe(false);
    expect(await assume('events.amazonaws.com', targetRole, account, rule)).toBe(true);
    expect(await assume('events.amazonaws.com', targetRole, account, `${rule}-other`)).toBe(false);
  });
});
