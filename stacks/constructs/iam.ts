/**
 * IAM policy documents for the stacks. Every statement names its actions and
 * resources; a `*` resource is allowed only for the actions in
 * {@link WILDCARD_RESOURCE_ALLOWLIST}, each with the reason AWS requires it.
 */
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key';

/** One IAM policy statement. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect?: 'Allow' | 'Deny';
  readonly Principal?: Record<string, string | string[]> | '*';
  readonly Action: readonly string[];
  readonly Resource: readonly string[];
  readonly Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

/** Actions that AWS only authorises on `*`, and why. */
export const WILDCARD_RESOURCE_ALLOWLIST: Readonly<Record<string, string>> = {
  'ec2:CreateNetworkInterface': 'Lambda in a VPC manages its ENIs; these EC2 actions have no resource-level permissions',
  'ec2:DescribeNetworkInterfaces': 'Lambda in a VPC manages its ENIs; these EC2 actions have no resource-level permissions',
  'ec2:DescribeSubnets': 'Lambda in a VPC manages its ENIs; these EC2 actions have no resource-level permissions',
  'ec2:DeleteNetworkInterface': 'Lambda in a VPC manages its ENIs; these EC2 actions have no resource-level permissions',
  'ec2:AssignPrivateIpAddresses': 'Lambda in a VPC manages its ENIs; these EC2 actions have no resource-level permissions',
  'ec2:UnassignPrivateIpAddresses': 'Lambda in a VPC manages its ENIs; these EC2 actions have no resource-level permissions',
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions',
  'logs:CreateLogDelivery': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:GetLogDelivery': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:UpdateLogDelivery': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:DeleteLogDelivery': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:ListLogDeliveries': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:PutResourcePolicy': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:DescribeResourcePolicies': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'logs:DescribeLogGroups': 'Step Functions logging: CloudWatch Logs vended-delivery actions only accept *',
  'dynamodb:ListStreams': 'the stream event source mapping lists streams; ListStreams has no resource-level permissions',
};

/** Builds a policy document, refusing a wildcard action or an unlisted `*` resource. */
export function policyDocument(statements: readonly PolicyStatement[]): string {
  for (const statement of statements) {
    for (const action of statement.Action) {
      if (action === '*' || action.endsWith(':*')) throw new Error(`policy action ${action} is a wildcard; name the actions`);
    }
    if (statement.Resource.includes('*') && !statement.Principal) {
      const unlisted = statement.Action.filter((action) => !(action in WILDCARD_RESOURCE_ALLOWLIST));
      if (unlisted.length > 0) throw new Error(`actions ${unlisted.join(', ')} need a named resource, not *`);
    }
  }
  return JSON.stringify({ Version: '2012-10-17', Statement: statements.map((statement) => ({ Effect: 'Allow', ...statement })) });
}

/** The trust policy letting an AWS service assume a role. */
export function assumeRolePolicy(service: string, conditions?: PolicyStatement['Condition']): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', ...(conditions ? { Condition: conditions } : {}) }],
  });
}

/**
 * One ARN token per key: each `key.arn` access makes a new token, and grants of
 * one key under one condition must compare equal to merge (see `ServiceRole.grant`),
 * or two statements would share a Sid, which IAM refuses.
 */
const keyArns = new WeakMap<KmsKey, string>();
export function keyArnOf(key: KmsKey): string {
  let arn = keyArns.get(key);
  if (arn === undefined) {
    arn = key.arn;
    keyArns.set(key, arn);
  }
  return arn;
}
