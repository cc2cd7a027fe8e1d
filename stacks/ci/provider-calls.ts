/**
 * THE table of what Terraform calls for each resource and data source type
 * the pipeline's stacks synthesize: the AWS provider's read (refresh) calls,
 * the calls it makes while planning, and its create, update and delete calls,
 * as IAM actions, with the provider source each row was read from.
 *
 * The CI roles of the bootstrap stack are derived from this table and from
 * the types the stacks synthesize (`ci-policies.ts`); nothing else lists
 * permissions for Terraform. A synth test fails when a stack uses a type this
 * table lacks, and the IAM evaluator proves that every synthesized resource's
 * refresh calls are allowed to the plan role and its writes to the deploy role
 * (`__tests__/stacks/ci-roles.test.ts`).
 *
 * Sources: hashicorp/terraform-provider-aws, `internal/service/...` at the
 * commit named in each row (the provider this project pins is 6.25.0 through
 * `@cdktf/provider-aws` 21.22.1; a row read at an older commit says so). Each
 * resource's Read is what `terraform plan` refreshes. Where a Read sets no
 * tags itself, the provider's transparent tagging interceptor lists them
 * (`internal/provider/sdkv2/tags_interceptor.go` @2c53338: "If the R handler
 * didn't set tags, try and read them from the service API"), and on update a
 * change of `tags_all` (the default tags) tags and untags; those calls are in
 * the rows. `implied` calls are not the provider's: AWS makes them under the
 * caller's identity (a role passed to a service, a key a service uses for the
 * caller), cited from the service's documentation.
 *
 * ARN templates: `{partition}`, `{region}` and `{account}` are the
 * deployment's; `{id}` is an identifier AWS generates; any other `{attr}` is
 * the resource's attribute of that name (a reference to another resource
 * stands for that resource's name). In the roles' policies the attributes in
 * `named` become `order-pipeline-*` (the project's prefix, or the pattern
 * `patterns` gives), every other placeholder `*`.
 */
import { APP_NAME } from '../../config/contract';

/** A call authorized on a given ARN template (or `*`), optionally only when an attribute is set. */
export interface TargetedCall {
  readonly action: string;
  /** ARN templates the call is authorized on (all of them, for actions that name several resource types), or `*`. */
  readonly on: string | readonly string[];
  /** Made only when the resource sets this attribute. */
  readonly when?: string;
  /** A KMS call a service makes for the caller: allowed only through that service (`kms:ViaService`). */
  readonly viaService?: string;
  /** Why a call that is not the provider's own is made (AWS makes it under the caller's identity), with the page that says so. */
  readonly implied?: string;
}

/** An IAM action on the row's own ARN, or a {@link TargetedCall}. */
export type Call = string | TargetedCall;

/** What Terraform calls for one resource or data source type. */
export interface ProviderCalls {
  /** Where the calls were read: provider file @commit, functions, and which API each one calls. */
  readonly source: string;
  /** The attribute naming the resource (what a reference to it stands for). */
  readonly name?: string;
  /** ARN template the row's plain calls are authorized on, or `*`. */
  readonly arn: string;
  /** Placeholders that hold project names (default: {@link name}); each becomes the project prefix in policies. */
  readonly named?: readonly string[];
  /** A policy pattern for a named placeholder other than `order-pipeline-*`. */
  readonly patterns?: Readonly<Record<string, string>>;
  /** Refresh: what `terraform plan` calls for a resource that exists. */
  readonly read: readonly Call[];
  /** Calls made while planning a change (CustomizeDiff). */
  readonly plan?: readonly Call[];
  readonly create: readonly Call[];
  readonly update: readonly Call[];
  readonly delete: readonly Call[];
}

/** The project's name prefix in policies. */
export const PROJECT_PATTERN = `${APP_NAME}-*`;

const regional = (service: string, resource: string) => `arn:{partition}:${service}:{region}:{account}:${resource}`;
const iam = (resource: string) => `arn:{partition}:iam::{account}:${resource}`;
const on = (action: string, arns: string | readonly string[], when?: string): TargetedCall => ({ action, on: arns, ...(when ? { when } : {}) });
/**
 * Lambda returns a function's environment variables, encrypted with a customer
 * managed key, only to a caller that may decrypt with that key (else the
 * refresh sees no variables and every plan shows them changed):
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html
 */
const lambdaEnvironmentKey: TargetedCall = {
  action: 'kms:Decrypt',
  on: regional('kms', 'key/{id}'),
  when: 'kms_key_arn',
  viaService: 'lambda',
  implied: 'https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html',
};
const anywhere = (action: string): TargetedCall => on(action, '*');

const ec2 = (resource: string) => regional('ec2', resource);
/** A KMS key the caller's request makes a service use (customer managed: grants and describe). */
const KEY = regional('kms', 'key/{id}');
const passRole = (attribute: string) => on('iam:PassRole', iam(`role/{${attribute}}`), attribute);
/** Lambda checks the caller may describe the VPC it attaches a function to (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html, "Required IAM permissions"). */
const lambdaVpcChecks = ['ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'].map(anywhere);
/** Deleting a security group or subnet first removes Lambda's lingering ENIs (vpc_security_group.go deleteLingeringENIs). */
const lingeringEnis = [
  anywhere('ec2:DescribeNetworkInterfaces'),
  on('ec2:DetachNetworkInterface', [ec2('network-interface/{id}'), ec2('instance/{id}')]),
  on('ec2:DeleteNetworkInterface', ec2('network-interface/{id}')),
];
const ec2Tags = (arn: string) => [on('ec2:CreateTags', arn), on('ec2:DeleteTags', arn)];

/**
 * DescribeStateMachine returns the definition of a state machine encrypted
 * with a customer managed key only to a caller that may decrypt with it
 * ("callers must have kms:Decrypt permission to decrypt the definition"), and
 * the provider's refresh reads the definition.
 */
const DESCRIBE_ENCRYPTED_DEFINITION = 'https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeStateMachine.html (includedData)';
/** Creating or updating a state machine under a customer managed key: Step Functions checks the key and encrypts the definition with it for the caller. */
const ENCRYPTED_STATE_MACHINE = 'https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html';
const stateMachineKey = (action: string, implied: string): TargetedCall => ({
  action,
  on: KEY,
  when: 'encryption_configuration',
  viaService: 'states',
  implied,
});
const STATE_MACHINE_KEY_WRITES = [
  { action: 'kms:DescribeKey', on: KEY, when: 'encryption_configuration', implied: ENCRYPTED_STATE_MACHINE },
  stateMachineKey('kms:GenerateDataKey', ENCRYPTED_STATE_MACHINE),
  stateMachineKey('kms:Decrypt', ENCRYPTED_STATE_MACHINE),
] as const satisfies readonly TargetedCall[];

/** Resource types (`aws_...`) and data sources (`data.aws_...`) → their calls. */
export const PROVIDER_CALLS: Readonly<Record<string, ProviderCalls>> = {
  aws_cloudwatch_dashboard: {
    source:
      'cloudwatch/dashboard.go @0620f2a: resourceDashboardRead → findDashboardByName (GetDashboard); resourceDashboardPut (PutDashboard); resourceDashboardDelete (DeleteDashboards); no tags',
    name: 'dashboard_name',
    arn: 'arn:{partition}:cloudwatch::{account}:dashboard/{dashboard_name}',
    read: ['cloudwatch:GetDashboard'],
    create: ['cloudwatch:PutDashboard'],
    update: ['cloudwatch:PutDashboard'],
    delete: ['cloudwatch:DeleteDashboards'],
  },
  aws_cloudwatch_event_archive: {
    source: 'events/archive.go @0015017 (SDK v1 version): resourceArchiveRead (DescribeArchive); CreateArchive / UpdateArchive / DeleteArchive; no tags',
    name: 'name',
    arn: regional('events', 'archive/{name}'),
    named: ['name', 'event_source_arn'],
    read: ['events:DescribeArchive'],
    create: [on('events:CreateArchive', [regional('events', 'archive/{name}'), regional('events', 'event-bus/{event_source_arn}')])],
    update: ['events:UpdateArchive'],
    delete: ['events:DeleteArchive'],
  },
  aws_cloudwatch_event_bus: {
    source:
      'events/bus.go @0160692: resourceBusRead → findEventBusByName (DescribeEventBus), no setTagsOut → interceptor ListTagsForResource; CreateEventBus (tags on create, createTags fallback); UpdateEventBus; DeleteEventBus',
    name: 'name',
    arn: regional('events', 'event-bus/{name}'),
    read: ['events:DescribeEventBus', 'events:ListTagsForResource'],
    create: ['events:CreateEventBus', 'events:TagResource'],
    update: ['events:UpdateEventBus', 'events:TagResource', 'events:UntagResource'],
    delete: ['events:DeleteEventBus'],
  },
  aws_cloudwatch_event_rule: {
    source:
      'events/rule.go @0cdab4a: resourceRuleRead → findRuleByTwoPartKey (DescribeRule), no setTagsOut → ListTagsForResource; PutRule (create and update, tags in the request), createTags fallback; DeleteRule',
    name: 'name',
    arn: regional('events', 'rule/{event_bus_name}/{name}'),
    named: ['name', 'event_bus_name'],
    read: ['events:DescribeRule', 'events:ListTagsForResource'],
    create: ['events:PutRule', 'events:TagResource'],
    update: ['events:PutRule', 'events:TagResource', 'events:UntagResource'],
    delete: ['events:DeleteRule'],
  },
  aws_cloudwatch_event_target: {
    source:
      'events/target.go @0762c41: resourceTargetRead → findTargetByThreePartKey (ListTargetsByRule on the rule); PutTargets (create, update); RemoveTargets; no tags. implied: iam:PassRole of role_arn to EventBridge',
    arn: regional('events', 'rule/{event_bus_name}/{rule}'),
    named: ['event_bus_name', 'rule', 'role_arn'],
    read: ['events:ListTargetsByRule'],
    create: ['events:PutTargets', passRole('role_arn')],
    update: ['events:PutTargets', passRole('role_arn')],
    delete: ['events:RemoveTargets'],
  },
  aws_cloudwatch_log_group: {
    source:
      'logs/group.go @0073593: resourceGroupRead → findLogGroupByName (DescribeLogGroups by prefix), no setTagsOut → ListTagsForResource; CreateLogGroup (tags) + PutRetentionPolicy; Put/DeleteRetentionPolicy, Associate/DisassociateKmsKey; DeleteLogGroup',
    name: 'name',
    arn: regional('logs', 'log-group:{name}'),
    patterns: { name: `*${PROJECT_PATTERN}` },
    read: [anywhere('logs:DescribeLogGroups'), 'logs:ListTagsForResource'],
    create: ['logs:CreateLogGroup', 'logs:TagResource', 'logs:PutRetentionPolicy'],
    update: [
      'logs:PutRetentionPolicy',
      'logs:DeleteRetentionPolicy',
      'logs:AssociateKmsKey',
      'logs:DisassociateKmsKey',
      'logs:TagResource',
      'logs:UntagResource',
    ],
    delete: ['logs:DeleteLogGroup'],
  },
  aws_cloudwatch_log_resource_policy: {
    source:
      'logs/resource_policy.go @00a3530: resourceResourcePolicyRead → findResourcePolicyByName (DescribeResourcePolicies); resourceResourcePolicyPut (PutResourcePolicy); DeleteResourcePolicy',
    arn: '*',
    read: ['logs:DescribeResourcePolicies'],
    create: ['logs:PutResourcePolicy'],
    update: ['logs:PutResourcePolicy'],
    delete: ['logs:DeleteResourcePolicy'],
  },
  aws_cloudwatch_metric_alarm: {
    source:
      'cloudwatch/metric_alarm.go @055611a: resourceMetricAlarmRead → findMetricAlarmByName (DescribeAlarms), no setTagsOut → ListTagsForResource; PutMetricAlarm (create and update, tags in the request); DeleteAlarms',
    name: 'alarm_name',
    arn: regional('cloudwatch', 'alarm:{alarm_name}'),
    read: ['cloudwatch:DescribeAlarms', 'cloudwatch:ListTagsForResource'],
    create: ['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource'],
    update: ['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource', 'cloudwatch:UntagResource'],
    delete: ['cloudwatch:DeleteAlarms'],
  },
  aws_db_subnet_group: {
    source:
      'rds/subnet_group.go @01c0800: resourceSubnetGroupRead → FindDBSubnetGroupByName (DescribeDBSubnetGroups), ListTags (ListTagsForResource); CreateDBSubnetGroup; ModifyDBSubnetGroup, UpdateTags; DeleteDBSubnetGroup',
    name: 'name',
    arn: regional('rds', 'subgrp:{name}'),
    read: ['rds:DescribeDBSubnetGroups', 'rds:ListTagsForResource'],
    create: ['rds:CreateDBSubnetGroup', 'rds:AddTagsToResource'],
    update: ['rds:ModifyDBSubnetGroup', 'rds:AddTagsToResource', 'rds:RemoveTagsFromResource'],
    delete: ['rds:DeleteDBSubnetGroup'],
  },
  aws_dynamodb_table: {
    source:
      'dynamodb/table.go @f583d81 (SDK v1 version): resourceTableRead (DescribeTable, DescribeContinuousBackups, DescribeTimeToLive, ListTags → ListTagsOfResource); UpdateTable, UpdateTimeToLive, UpdateContinuousBackups, UpdateTags; DeleteTable. implied: a customer managed key needs kms:DescribeKey and kms:CreateGrant (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.usagenotes.html)',
    name: 'name',
    arn: regional('dynamodb', 'table/{name}'),
    read: ['dynamodb:DescribeTable', 'dynamodb:DescribeContinuousBackups', 'dynamodb:DescribeTimeToLive', 'dynamodb:ListTagsOfResource'],
    create: [
      'dynamodb:CreateTable',
      'dynamodb:TagResource',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:UpdateContinuousBackups',
      on('kms:DescribeKey', KEY),
      on('kms:CreateGrant', KEY),
    ],
    update: [
      'dynamodb:UpdateTable',
      'dynamodb:UpdateTimeToLive',
      'dynamodb:UpdateContinuousBackups',
      'dynamodb:TagResource',
      'dynamodb:UntagResource',
      on('kms:DescribeKey', KEY),
      on('kms:CreateGrant', KEY),
    ],
    delete: ['dynamodb:DeleteTable'],
  },
  aws_iam_policy: {
    source:
      'iam/policy.go @01ccd9a: resourcePolicyRead → findPolicyByARN (GetPolicy), findPolicyVersion (GetPolicyVersion), setTagsOut(policy.Tags); CreatePolicy (tags); update: ListPolicyVersions, DeletePolicyVersion, CreatePolicyVersion, SetDefaultPolicyVersion; delete: ListPolicyVersions, DeletePolicyVersion, DeletePolicy',
    name: 'name',
    arn: iam('policy/{name}'),
    read: ['iam:GetPolicy', 'iam:GetPolicyVersion'],
    create: ['iam:CreatePolicy', 'iam:TagPolicy'],
    update: ['iam:ListPolicyVersions', 'iam:DeletePolicyVersion', 'iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:TagPolicy', 'iam:UntagPolicy'],
    delete: ['iam:ListPolicyVersions', 'iam:DeletePolicyVersion', 'iam:DeletePolicy'],
  },
  aws_iam_role: {
    source:
      'iam/role.go @0040ea6 (SDK v1 version): resourceRoleRead (GetRole, tags from the role), readRoleInlinePolicies (ListRolePolicies, GetRolePolicy), readRolePolicyAttachments (ListAttachedRolePolicies); CreateRole (tags); UpdateAssumeRolePolicy, UpdateRoleDescription, UpdateRole, roleUpdateTags; DeleteRole after ListInstanceProfilesForRole',
    name: 'name',
    arn: iam('role/{name}'),
    read: ['iam:GetRole', 'iam:ListRolePolicies', 'iam:GetRolePolicy', 'iam:ListAttachedRolePolicies'],
    create: ['iam:CreateRole', 'iam:TagRole'],
    update: ['iam:UpdateAssumeRolePolicy', 'iam:UpdateRoleDescription', 'iam:UpdateRole', 'iam:TagRole', 'iam:UntagRole'],
    delete: ['iam:ListInstanceProfilesForRole', 'iam:DeleteRole'],
  },
  aws_iam_role_policy: {
    source:
      'iam/role_policy.go @02f97af: resourceRolePolicyRead → FindRolePolicyByTwoPartKey (GetRolePolicy on the role); PutRolePolicy (create, update); DeleteRolePolicy',
    arn: iam('role/{role}'),
    named: ['role'],
    read: ['iam:GetRolePolicy'],
    create: ['iam:PutRolePolicy'],
    update: ['iam:PutRolePolicy'],
    delete: ['iam:DeleteRolePolicy'],
  },
  aws_kms_alias: {
    source:
      'kms/alias.go @01c0800 (SDK v1 version): resourceAliasRead → FindAliasByName (ListAliases); CreateAlias, UpdateAlias, DeleteAlias (on the alias and its key)',
    name: 'name',
    arn: regional('kms', '{name}'),
    patterns: { name: `alias/${PROJECT_PATTERN}` },
    read: [anywhere('kms:ListAliases')],
    create: [on('kms:CreateAlias', [regional('kms', '{name}'), regional('kms', 'key/{target_key_id}')])],
    update: [on('kms:UpdateAlias', [regional('kms', '{name}'), regional('kms', 'key/{target_key_id}')])],
    delete: [on('kms:DeleteAlias', [regional('kms', '{name}'), regional('kms', 'key/{target_key_id}')])],
  },
  aws_kms_key: {
    source:
      'kms/key.go @00a3530: resourceKeyRead → findKeyInfo (DescribeKey, GetKeyPolicy, GetKeyRotationStatus, listTags → ListResourceTags); CreateKey (tags), EnableKeyRotation; Enable/DisableKey, Enable/DisableKeyRotation, UpdateKeyDescription, PutKeyPolicy; ScheduleKeyDeletion',
    arn: KEY,
    read: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:ListResourceTags'],
    create: [anywhere('kms:CreateKey'), 'kms:TagResource', 'kms:EnableKeyRotation'],
    update: [
      'kms:EnableKey',
      'kms:DisableKey',
      'kms:EnableKeyRotation',
      'kms:DisableKeyRotation',
      'kms:UpdateKeyDescription',
      'kms:PutKeyPolicy',
      'kms:TagResource',
      'kms:UntagResource',
    ],
    delete: ['kms:ScheduleKeyDeletion'],
  },
  aws_lambda_event_source_mapping: {
    source:
      'lambda/event_source_mapping.go @0603f3b: resourceEventSourceMappingRead → findEventSourceMappingByID (GetEventSourceMapping), listTags (ListTags on the mapping ARN); CreateEventSourceMapping; UpdateEventSourceMapping; DeleteEventSourceMapping',
    arn: regional('lambda', 'event-source-mapping:{id}'),
    read: ['lambda:GetEventSourceMapping', 'lambda:ListTags'],
    create: [anywhere('lambda:CreateEventSourceMapping'), 'lambda:TagResource'],
    update: ['lambda:UpdateEventSourceMapping', 'lambda:TagResource', 'lambda:UntagResource'],
    delete: ['lambda:DeleteEventSourceMapping'],
  },
  aws_lambda_function: {
    source:
      'lambda/function.go @0156d84: resourceFunctionRead → findFunction (GetFunction, tags from it), findLatestFunctionVersionByName (ListVersionsByFunction), GetFunctionCodeSigningConfig (aws partition, zip); CreateFunction, PutFunctionConcurrency; UpdateFunctionConfiguration, UpdateFunctionCode, Put/DeleteFunctionConcurrency, PublishVersion; DeleteFunction. implied: iam:PassRole of the execution role, the VPC checks, kms:Decrypt through Lambda to read environment variables under a customer managed key',
    name: 'function_name',
    arn: regional('lambda', 'function:{function_name}'),
    named: ['function_name', 'role'],
    read: ['lambda:GetFunction', 'lambda:ListVersionsByFunction', 'lambda:GetFunctionCodeSigningConfig', lambdaEnvironmentKey],
    create: ['lambda:CreateFunction', 'lambda:TagResource', 'lambda:PutFunctionConcurrency', passRole('role'), ...lambdaVpcChecks],
    update: [
      'lambda:UpdateFunctionConfiguration',
      'lambda:UpdateFunctionCode',
      'lambda:PutFunctionConcurrency',
      'lambda:DeleteFunctionConcurrency',
      'lambda:PublishVersion',
      'lambda:TagResource',
      'lambda:UntagResource',
      passRole('role'),
      ...lambdaVpcChecks,
    ],
    delete: ['lambda:DeleteFunction'],
  },
  aws_rds_cluster: {
    source:
      'rds/cluster.go @0168cf6: resourceClusterRead → findDBClusterByID (DescribeDBClusters), findGlobalClusterByDBClusterARN (DescribeGlobalClusters; always for engine mode provisioned, which Serverless v2 is), setTagsOut(TagList); CreateDBCluster (+ModifyDBCluster); ModifyDBCluster; DeleteDBCluster. implied: the managed master secret and the storage key (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html, "Required permissions")',
    name: 'cluster_identifier',
    arn: regional('rds', 'cluster:{cluster_identifier}'),
    named: ['cluster_identifier', 'db_cluster_parameter_group_name', 'db_subnet_group_name', 'final_snapshot_identifier'],
    read: ['rds:DescribeDBClusters', anywhere('rds:DescribeGlobalClusters')],
    create: [
      on('rds:CreateDBCluster', [
        regional('rds', 'cluster:{cluster_identifier}'),
        regional('rds', 'cluster-pg:{db_cluster_parameter_group_name}'),
        regional('rds', 'subgrp:{db_subnet_group_name}'),
        regional('rds', 'og:{id}'),
      ]),
      'rds:ModifyDBCluster',
      'rds:AddTagsToResource',
      ...['secretsmanager:CreateSecret', 'secretsmanager:TagResource', 'secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'].map((action) =>
        on(action, regional('secretsmanager', 'secret:rds!cluster-{id}'), 'manage_master_user_password'),
      ),
      on('kms:DescribeKey', KEY),
      on('kms:CreateGrant', KEY),
      on('kms:GenerateDataKey', KEY),
      on('kms:Decrypt', KEY),
    ],
    update: [
      on('rds:ModifyDBCluster', [regional('rds', 'cluster:{cluster_identifier}'), regional('rds', 'cluster-pg:{db_cluster_parameter_group_name}')]),
      'rds:AddTagsToResource',
      'rds:RemoveTagsFromResource',
    ],
    delete: [
      'rds:DeleteDBCluster',
      on(
        'rds:DeleteDBCluster',
        [regional('rds', 'cluster:{cluster_identifier}'), regional('rds', 'cluster-snapshot:{final_snapshot_identifier}')],
        'final_snapshot_identifier',
      ),
      on('secretsmanager:DeleteSecret', regional('secretsmanager', 'secret:rds!cluster-{id}'), 'manage_master_user_password'),
    ],
  },
  aws_rds_cluster_instance: {
    source:
      'rds/cluster_instance.go @0160692: resourceClusterInstanceRead → findDBInstanceByID (DescribeDBInstances), findDBClusterByID of its cluster (DescribeDBClusters), setTagsOut(TagList); CreateDBInstance, then ModifyDBInstance + RebootDBInstance when ca_cert_identifier differs; ModifyDBInstance; DeleteDBInstance',
    name: 'identifier',
    arn: regional('rds', 'db:{identifier}'),
    named: ['identifier', 'cluster_identifier', 'db_subnet_group_name'],
    read: ['rds:DescribeDBInstances', on('rds:DescribeDBClusters', regional('rds', 'cluster:{cluster_identifier}'))],
    create: [
      on('rds:CreateDBInstance', [
        regional('rds', 'db:{identifier}'),
        regional('rds', 'cluster:{cluster_identifier}'),
        regional('rds', 'subgrp:{db_subnet_group_name}'),
      ]),
      'rds:AddTagsToResource',
      'rds:ModifyDBInstance',
      'rds:RebootDBInstance',
    ],
    update: ['rds:ModifyDBInstance', 'rds:AddTagsToResource', 'rds:RemoveTagsFromResource'],
    delete: ['rds:DeleteDBInstance'],
  },
  aws_rds_cluster_parameter_group: {
    source:
      'rds/cluster_parameter_group.go @01e5fd8: resourceClusterParameterGroupRead → FindDBClusterParameterGroupByName (DescribeDBClusterParameterGroups), DescribeDBClusterParameters (user, then system), no setTagsOut → ListTagsForResource; Modify/ResetDBClusterParameterGroup; DeleteDBClusterParameterGroup',
    name: 'name',
    arn: regional('rds', 'cluster-pg:{name}'),
    read: ['rds:DescribeDBClusterParameterGroups', 'rds:DescribeDBClusterParameters', 'rds:ListTagsForResource'],
    create: ['rds:CreateDBClusterParameterGroup', 'rds:AddTagsToResource', 'rds:ModifyDBClusterParameterGroup'],
    update: ['rds:ModifyDBClusterParameterGroup', 'rds:ResetDBClusterParameterGroup', 'rds:AddTagsToResource', 'rds:RemoveTagsFromResource'],
    delete: ['rds:DeleteDBClusterParameterGroup'],
  },
  aws_route_table: {
    source:
      'ec2/vpc_route_table.go: resourceRouteTableRead → FindRouteTableByID (DescribeRouteTables; the finder named by vpc_route_table_association.go @0be71be, the read itself not re-read); CreateRouteTable; DeleteRouteTable; tags with EC2 CreateTags/DeleteTags',
    arn: ec2('route-table/{id}'),
    read: [anywhere('ec2:DescribeRouteTables')],
    create: [on('ec2:CreateRouteTable', [ec2('route-table/{id}'), ec2('vpc/{vpc_id}')]), 'ec2:CreateTags'],
    update: ec2Tags(ec2('route-table/{id}')),
    delete: ['ec2:DeleteRouteTable'],
  },
  aws_route_table_association: {
    source:
      'ec2/vpc_route_table_association.go @0be71be: resourceRouteTableAssociationRead → FindRouteTableAssociationByID (DescribeRouteTables); AssociateRouteTable; ReplaceRouteTableAssociation; DisassociateRouteTable',
    arn: '*',
    read: ['ec2:DescribeRouteTables'],
    create: [on('ec2:AssociateRouteTable', [ec2('route-table/{route_table_id}'), ec2('subnet/{subnet_id}')])],
    update: [on('ec2:ReplaceRouteTableAssociation', [ec2('route-table/{route_table_id}'), ec2('subnet/{subnet_id}')])],
    delete: [on('ec2:DisassociateRouteTable', [ec2('route-table/{route_table_id}'), ec2('subnet/{subnet_id}')])],
  },
  aws_secretsmanager_secret: {
    source:
      'secretsmanager/secret.go @00c21ce: resourceSecretRead → findSecretByID (DescribeSecret), findSecretPolicyByID (GetResourcePolicy), setTagsOut(output.Tags); CreateSecret (tags); UpdateSecret, Put/DeleteResourcePolicy; DeleteSecret',
    name: 'name',
    arn: regional('secretsmanager', 'secret:{name}-{id}'),
    read: ['secretsmanager:DescribeSecret', 'secretsmanager:GetResourcePolicy'],
    create: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
    update: [
      'secretsmanager:UpdateSecret',
      'secretsmanager:PutResourcePolicy',
      'secretsmanager:DeleteResourcePolicy',
      'secretsmanager:TagResource',
      'secretsmanager:UntagResource',
    ],
    delete: ['secretsmanager:DeleteSecret'],
  },
  aws_security_group: {
    source:
      'ec2/vpc_security_group.go @0160692: resourceSecurityGroupRead → findSecurityGroupByID (DescribeSecurityGroups), setTagsOut(sg.Tags); update Revoke/Authorize rules; delete: deleteLingeringENIs (DescribeNetworkInterfaces, DetachNetworkInterface, DeleteNetworkInterface), DeleteSecurityGroup',
    arn: ec2('security-group/{id}'),
    read: [anywhere('ec2:DescribeSecurityGroups')],
    create: [
      on('ec2:CreateSecurityGroup', [ec2('security-group/{id}'), ec2('vpc/{vpc_id}')]),
      'ec2:CreateTags',
      'ec2:RevokeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
    ],
    update: [
      'ec2:RevokeSecurityGroupEgress',
      'ec2:RevokeSecurityGroupIngress',
      'ec2:AuthorizeSecurityGroupEgress',
      'ec2:AuthorizeSecurityGroupIngress',
      ...ec2Tags(ec2('security-group/{id}')),
    ],
    delete: [...lingeringEnis, 'ec2:DeleteSecurityGroup'],
  },
  aws_sfn_state_machine: {
    source:
      'sfn/state_machine.go @01f4311: resourceStateMachineRead → findStateMachineByARN (DescribeStateMachine), ListStateMachineVersions, no setTagsOut → ListTagsForResource; CustomizeDiff stateMachineDefinitionValidate (ValidateStateMachineDefinition when the definition changes, at plan); UpdateStateMachine; DeleteStateMachine. implied: iam:PassRole of role_arn; with encryption_configuration, the definition is kept under the customer managed key, so reading it back needs kms:Decrypt and writing it a data key, both through Step Functions',
    name: 'name',
    arn: regional('states', 'stateMachine:{name}'),
    named: ['name', 'role_arn'],
    read: [
      'states:DescribeStateMachine',
      'states:ListStateMachineVersions',
      'states:ListTagsForResource',
      stateMachineKey('kms:Decrypt', DESCRIBE_ENCRYPTED_DEFINITION),
    ],
    plan: [anywhere('states:ValidateStateMachineDefinition')],
    create: ['states:CreateStateMachine', 'states:TagResource', passRole('role_arn'), ...STATE_MACHINE_KEY_WRITES],
    update: ['states:UpdateStateMachine', 'states:TagResource', 'states:UntagResource', passRole('role_arn'), ...STATE_MACHINE_KEY_WRITES],
    delete: ['states:DeleteStateMachine'],
  },
  aws_schemas_registry: {
    source:
      'schemas/registry.go @17b36ea: resourceRegistryRead → FindRegistryByName (DescribeRegistry), @Tags(identifierAttribute=arn) → ListTagsForResource; CreateRegistry (tags); UpdateRegistry; DeleteRegistry',
    name: 'name',
    arn: regional('schemas', 'registry/{name}'),
    read: ['schemas:DescribeRegistry', 'schemas:ListTagsForResource'],
    create: ['schemas:CreateRegistry', 'schemas:TagResource'],
    update: ['schemas:UpdateRegistry', 'schemas:TagResource', 'schemas:UntagResource'],
    delete: ['schemas:DeleteRegistry'],
  },
  aws_schemas_schema: {
    source:
      'schemas/schema.go @17b36ea: resourceSchemaRead → FindSchemaByNameAndRegistryName (DescribeSchema), @Tags(identifierAttribute=arn) → ListTagsForResource; CreateSchema (tags); UpdateSchema; DeleteSchema',
    arn: regional('schemas', 'schema/{registry_name}/{name}'),
    named: ['registry_name'],
    read: ['schemas:DescribeSchema', 'schemas:ListTagsForResource'],
    create: ['schemas:CreateSchema', 'schemas:TagResource'],
    update: ['schemas:UpdateSchema', 'schemas:TagResource', 'schemas:UntagResource'],
    delete: ['schemas:DeleteSchema'],
  },
  aws_sns_topic: {
    source:
      'sns/topic.go @00a3530: resourceTopicRead → findTopicAttributesByARN (GetTopicAttributes), @Tags(identifierAttribute=arn) with no setTagsOut → ListTagsForResource; CreateTopic (tags) + SetTopicAttributes; SetTopicAttributes; DeleteTopic',
    name: 'name',
    arn: regional('sns', '{name}'),
    read: ['sns:GetTopicAttributes', 'sns:ListTagsForResource'],
    create: ['sns:CreateTopic', 'sns:TagResource', 'sns:SetTopicAttributes'],
    update: ['sns:SetTopicAttributes', 'sns:TagResource', 'sns:UntagResource'],
    delete: ['sns:DeleteTopic'],
  },
  aws_sns_topic_policy: {
    source:
      'sns/topic_policy.go @00a3530: resourceTopicPolicyRead → findTopicAttributesWithValidAWSPrincipalsByARN (GetTopicAttributes); upsert and delete: putTopicPolicy (SetTopicAttributes)',
    arn: regional('sns', '{arn}'),
    named: ['arn'],
    read: ['sns:GetTopicAttributes'],
    create: ['sns:SetTopicAttributes'],
    update: ['sns:SetTopicAttributes'],
    delete: ['sns:SetTopicAttributes'],
  },
  aws_sns_topic_subscription: {
    source:
      'sns/topic_subscription.go @04a2e6e: resourceTopicSubscriptionRead → findSubscriptionAttributesByARN (GetSubscriptionAttributes); Subscribe; SetSubscriptionAttributes; Unsubscribe. The IAM resource of these actions is the topic (a subscription ARN is the topic ARN and an id, which the topic pattern matches too)',
    arn: regional('sns', '{topic_arn}'),
    named: ['topic_arn'],
    read: ['sns:GetSubscriptionAttributes'],
    create: ['sns:Subscribe', 'sns:SetSubscriptionAttributes'],
    update: ['sns:SetSubscriptionAttributes'],
    delete: ['sns:Unsubscribe'],
  },
  aws_sqs_queue: {
    source:
      'sqs/queue.go @00a3530: resourceQueueRead → findQueueAttributesByURL (GetQueueAttributes), no setTagsOut → ListTags (ListQueueTags); CreateQueue (tags); SetQueueAttributes; DeleteQueue',
    name: 'name',
    arn: regional('sqs', '{name}'),
    read: ['sqs:GetQueueAttributes', 'sqs:ListQueueTags'],
    create: ['sqs:CreateQueue', 'sqs:TagQueue', 'sqs:SetQueueAttributes'],
    update: ['sqs:SetQueueAttributes', 'sqs:TagQueue', 'sqs:UntagQueue'],
    delete: ['sqs:DeleteQueue'],
  },
  aws_sqs_queue_policy: {
    source:
      'sqs/attribute_funcs.go @013f173 (queue_policy.go is a queueAttributeHandler): Read → findQueueAttributeByTwoPartKey (GetQueueAttributes Policy); Upsert and Delete: SetQueueAttributes',
    arn: regional('sqs', '{queue_url}'),
    named: ['queue_url'],
    read: ['sqs:GetQueueAttributes'],
    create: ['sqs:SetQueueAttributes'],
    update: ['sqs:SetQueueAttributes'],
    delete: ['sqs:SetQueueAttributes'],
  },
  aws_subnet: {
    source:
      'ec2/vpc_subnet.go: resourceSubnetRead → findSubnetByID (DescribeSubnets; not re-read here); CreateSubnet, ModifySubnetAttribute; DeleteSubnet after the lingering Lambda ENIs',
    arn: ec2('subnet/{id}'),
    read: [anywhere('ec2:DescribeSubnets')],
    create: [on('ec2:CreateSubnet', [ec2('subnet/{id}'), ec2('vpc/{vpc_id}')]), 'ec2:CreateTags', 'ec2:ModifySubnetAttribute'],
    update: ['ec2:ModifySubnetAttribute', ...ec2Tags(ec2('subnet/{id}'))],
    delete: [...lingeringEnis, 'ec2:DeleteSubnet'],
  },
  aws_vpc: {
    source:
      'ec2/vpc_.go @00081ce: resourceVPCRead → findVPCByID (DescribeVpcs), findVPCAttribute ×3 (DescribeVpcAttribute), findVPCDefaultNetworkACL (DescribeNetworkAcls), findVPCMainRouteTable (DescribeRouteTables), findVPCDefaultSecurityGroup (DescribeSecurityGroups), setTagsOut(vpc.Tags); ModifyVpcAttribute; DeleteVpc',
    arn: ec2('vpc/{id}'),
    read: [
      anywhere('ec2:DescribeVpcs'),
      'ec2:DescribeVpcAttribute',
      anywhere('ec2:DescribeNetworkAcls'),
      anywhere('ec2:DescribeRouteTables'),
      anywhere('ec2:DescribeSecurityGroups'),
    ],
    create: ['ec2:CreateVpc', 'ec2:CreateTags', 'ec2:ModifyVpcAttribute'],
    update: ['ec2:ModifyVpcAttribute', ...ec2Tags(ec2('vpc/{id}'))],
    delete: ['ec2:DeleteVpc'],
  },
  aws_vpc_endpoint: {
    source:
      'ec2/vpc_endpoint.go @008db85: resourceVPCEndpointRead → findVPCEndpointByID (DescribeVpcEndpoints), findPrefixListByName (DescribePrefixLists), findSubnetConfigurationsByNetworkInterfaceIDs (DescribeNetworkInterfaces), setTagsOut(vpce.Tags); ModifyVpcEndpoint; DeleteVpcEndpoints',
    arn: ec2('vpc-endpoint/{id}'),
    read: [anywhere('ec2:DescribeVpcEndpoints'), anywhere('ec2:DescribePrefixLists'), anywhere('ec2:DescribeNetworkInterfaces')],
    create: [
      on('ec2:CreateVpcEndpoint', [ec2('vpc-endpoint/{id}'), ec2('vpc/{vpc_id}'), ec2('subnet/{id}'), ec2('security-group/{id}'), ec2('route-table/{id}')]),
      'ec2:CreateTags',
    ],
    update: [
      on('ec2:ModifyVpcEndpoint', [ec2('vpc-endpoint/{id}'), ec2('subnet/{id}'), ec2('security-group/{id}'), ec2('route-table/{id}')]),
      ...ec2Tags(ec2('vpc-endpoint/{id}')),
    ],
    delete: ['ec2:DeleteVpcEndpoints'],
  },
  aws_vpc_security_group_egress_rule: {
    source:
      'ec2/vpc_security_group_egress_rule.go (the rule base of vpc_security_group_ingress_rule.go @00a3220): Read → DescribeSecurityGroupRules; AuthorizeSecurityGroupEgress; ModifySecurityGroupRules, CreateTags/DeleteTags; RevokeSecurityGroupEgress',
    arn: ec2('security-group-rule/{id}'),
    read: [anywhere('ec2:DescribeSecurityGroupRules')],
    create: [on('ec2:AuthorizeSecurityGroupEgress', [ec2('security-group/{security_group_id}'), ec2('security-group-rule/{id}')]), 'ec2:CreateTags'],
    update: [
      on('ec2:ModifySecurityGroupRules', [ec2('security-group/{security_group_id}'), ec2('security-group-rule/{id}')]),
      ...ec2Tags(ec2('security-group-rule/{id}')),
    ],
    delete: [on('ec2:RevokeSecurityGroupEgress', ec2('security-group/{security_group_id}'))],
  },
  aws_vpc_security_group_ingress_rule: {
    source:
      'ec2/vpc_security_group_ingress_rule.go @00a3220: Read → DescribeSecurityGroupRules; AuthorizeSecurityGroupIngress; ModifySecurityGroupRules, CreateTags/DeleteTags; RevokeSecurityGroupIngress',
    arn: ec2('security-group-rule/{id}'),
    read: [anywhere('ec2:DescribeSecurityGroupRules')],
    create: [on('ec2:AuthorizeSecurityGroupIngress', [ec2('security-group/{security_group_id}'), ec2('security-group-rule/{id}')]), 'ec2:CreateTags'],
    update: [
      on('ec2:ModifySecurityGroupRules', [ec2('security-group/{security_group_id}'), ec2('security-group-rule/{id}')]),
      ...ec2Tags(ec2('security-group-rule/{id}')),
    ],
    delete: [on('ec2:RevokeSecurityGroupIngress', ec2('security-group/{security_group_id}'))],
  },
  null_resource: {
    source:
      'hashicorp/null: no AWS call. Its local-exec provisioner (stacks/compute-stack.ts SCHEMA_INIT_COMMAND) runs `aws lambda invoke` of FUNCTION_NAME with the deploying credentials on create (and on replacement)',
    arn: regional('lambda', 'function:{FUNCTION_NAME}'),
    named: ['FUNCTION_NAME'],
    read: [],
    create: ['lambda:InvokeFunction'],
    update: ['lambda:InvokeFunction'],
    delete: [],
  },
  'data.aws_availability_zones': {
    source: 'ec2/availability_zones_data_source.go: dataSourceAvailabilityZonesRead (DescribeAvailabilityZones; not re-read here)',
    arn: '*',
    read: ['ec2:DescribeAvailabilityZones'],
    create: [],
    update: [],
    delete: [],
  },
  'data.aws_caller_identity': {
    source: 'sts/caller_identity_data_source.go: GetCallerIdentity (allowed to every principal; listed so the policy says what is called)',
    arn: '*',
    read: ['sts:GetCallerIdentity'],
    create: [],
    update: [],
    delete: [],
  },
  'data.aws_partition': {
    source: 'meta/partition_data_source.go: computed from the provider configuration, no API call',
    arn: '*',
    read: [],
    create: [],
    update: [],
    delete: [],
  },
  'data.terraform_remote_state': {
    source: "terraform builtin: reads the producer stack's state object (s3:GetObject on the state key prefix, granted with the state access, not per type)",
    arn: '*',
    read: [],
    create: [],
    update: [],
    delete: [],
  },
};

/** The write phases of a row. */
export const WRITE_PHASES = ['create', 'update', 'delete'] as const;

/** A call as a {@link TargetedCall} on the row's ARN when it names none. */
export function targeted(row: ProviderCalls, call: Call): TargetedCall {
  return typeof call === 'string' ? { action: call, on: row.arn } : call;
}

/** Every read and plan action of the table (what no write column may repeat). */
export function readActions(rows: readonly ProviderCalls[] = Object.values(PROVIDER_CALLS)): Set<string> {
  return new Set(rows.flatMap((row) => [...row.read, ...(row.plan ?? [])].map((call) => targeted(row, call).action)));
}

/** Every write action of the table (create, update, delete), less the ones that are also reads. */
export function writeActions(rows: readonly ProviderCalls[] = Object.values(PROVIDER_CALLS)): Set<string> {
  const reads = readActions(rows);
  return new Set(
    rows.flatMap((row) => WRITE_PHASES.flatMap((phase) => row[phase].map((call) => targeted(row, call).action))).filter((action) => !reads.has(action)),
  );
}
