/**
 * `npm run plan-summary -- plan.json [--stack <name>] [--out summary.md]`
 *
 * Reads `terraform show -json <plan>` output and writes the Markdown of the
 * pull-request comment: counts of create / update / replace / delete, the
 * replacements and deletions of stateful resources first, IAM and security
 * group changes, and every change in collapsed sections so large plans stay
 * readable.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../config/command-line';

/** The parts of Terraform's JSON plan representation this summary reads. */
export interface TerraformPlan {
  readonly format_version: string;
  readonly terraform_version?: string;
  readonly resource_changes?: readonly ResourceChange[];
  readonly output_changes?: Readonly<Record<string, { readonly actions: readonly string[] }>>;
  readonly errored?: boolean;
}

/** One entry of `resource_changes`. */
interface ResourceChange {
  readonly address: string;
  readonly mode?: 'managed' | 'data';
  readonly type: string;
  readonly name: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: unknown;
    readonly after?: unknown;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
  };
  readonly action_reason?: string;
}

/** What a resource change does, in review terms. */
type ChangeKind = 'create' | 'update' | 'replace' | 'delete' | 'no-op' | 'read';

/** Resource types whose replacement or deletion loses data. */
const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  'aws_dynamodb_table',
  'aws_rds_cluster',
  'aws_rds_cluster_instance',
  'aws_db_instance',
  'aws_sqs_queue',
  'aws_secretsmanager_secret',
  'aws_kms_key',
  'aws_s3_bucket',
  'aws_cloudwatch_log_group',
  'aws_cloudwatch_event_archive',
]);

const SECURITY_PREFIXES = [
  'aws_iam_',
  'aws_security_group',
  'aws_vpc_security_group_',
  'aws_kms_key_policy',
  'aws_sqs_queue_policy',
  'aws_cloudwatch_log_resource_policy',
  'aws_lambda_permission',
];

/** Classifies Terraform's action list. */
export function changeKind(actions: readonly string[]): ChangeKind {
  const key = actions.join(',');
  switch (key) {
    case 'create':
      return 'create';
    case 'update':
      return 'update';
    case 'delete':
      return 'delete';
    case 'delete,create':
    case 'create,delete':
      return 'replace';
    case 'read':
      return 'read';
    case 'no-op':
    case '':
      return 'no-op';
    default:
      throw new Error(`unknown Terraform action list [${key}]`);
  }
}

/** Whether a change touches IAM, security groups or resource policies. */
function isSecurityRelevant(type: string): boolean {
  return SECURITY_PREFIXES.some((prefix) => type.startsWith(prefix));
}

/** The summary's figures, for tests and callers. */
interface PlanSummary {
  readonly counts: Record<'create' | 'update' | 'replace' | 'delete', number>;
  readonly dangerous: readonly ResourceChange[];
  readonly security: readonly ResourceChange[];
  readonly markdown: string;
}

const ICON: Record<ChangeKind, string> = { create: '+', update: '~', replace: '-/+', delete: '-', 'no-op': ' ', read: '<=' };

/** Summarises a plan as Markdown, with a marker so a bot can update its own comment. */
export function summarisePlan(plan: TerraformPlan, stack = 'stack'): PlanSummary {
  if (typeof plan !== 'object' || plan === null || typeof plan.format_version !== 'string') {
    throw new Error('not a Terraform JSON plan: format_version is missing (use `terraform show -json <planfile>`)');
  }
  const changes = (plan.resource_changes ?? []).filter((change) => (change.mode ?? 'managed') === 'managed');
  const byKind = new Map<ChangeKind, ResourceChange[]>();
  for (const change of changes) {
    const kind = changeKind(change.change.actions);
    byKind.set(kind, [...(byKind.get(kind) ?? []), change]);
  }
  const list = (kind: ChangeKind) => byKind.get(kind) ?? [];
  const counts = { create: list('create').length, update: list('update').length, replace: list('replace').length, delete: list('delete').length };
  const dangerous = [...list('replace'), ...list('delete')].filter((change) => STATEFUL_TYPES.has(change.type));
  const security = changes.filter((change) => isSecurityRelevant(change.type) && changeKind(change.change.actions) !== 'no-op');

  const lines: string[] = [`<!-- plan-summary:${stack} -->`, `### Terraform plan: \`${stack}\``, ''];
  const total = counts.create + counts.update + counts.replace + counts.delete;
  if (total === 0) {
    lines.push('**No changes.** The infrastructure matches the configuration.');
  } else {
    lines.push(
      `| create | update | replace | delete |`,
      `|---:|---:|---:|---:|`,
      `| ${counts.create} | ${counts.update} | ${counts.replace} | ${counts.delete} |`,
      '',
    );
  }
  if (dangerous.length > 0) {
    lines.push(`#### ⚠️ Stateful resources replaced or deleted (${dangerous.length}) — data can be lost`, '');
    for (const change of dangerous) {
      const kind = changeKind(change.change.actions);
      const why = change.action_reason ? ` (${change.action_reason})` : '';
      const paths = change.change.replace_paths?.length ? `; forced by \`${change.change.replace_paths.map((p) => p.join('.')).join('`, `')}\`` : '';
      lines.push(`- **${kind}** \`${change.address}\`${why}${paths}`);
    }
    lines.push('');
  }
  if (security.length > 0) {
    lines.push(`#### 🔐 IAM and network security changes (${security.length})`, '');
    for (const change of security) lines.push(`- ${ICON[changeKind(change.change.actions)]} \`${change.address}\``);
    lines.push('');
  }
  for (const kind of ['replace', 'delete', 'update', 'create'] as const) {
    const entries = list(kind);
    if (entries.length === 0) continue;
    lines.push(`<details><summary>${kind} (${entries.length})</summary>`, '', '```diff');
    for (const change of entries) lines.push(`${kind === 'create' ? '+' : kind === 'delete' ? '-' : kind === 'replace' ? '!' : '~'} ${change.address}`);
    lines.push('```', '', '</details>', '');
  }
  const outputs = Object.entries(plan.output_changes ?? {}).filter(([, change]) => changeKind(change.actions) !== 'no-op');
  if (outputs.length > 0) {
    lines.push(
      `<details><summary>outputs changed (${outputs.length})</summary>`,
      '',
      ...outputs.map(([name, change]) => `- ${change.actions.join(', ')} \`${name}\``),
      '',
      '</details>',
      '',
    );
  }
  if (plan.errored) lines.push('**The plan errored**: the counts above are incomplete.', '');
  lines.push(`<sub>Terraform ${plan.terraform_version ?? 'unknown'} · plan format ${plan.format_version}</sub>`);
  return { counts, dangerous, security, markdown: `${lines.join('\n')}\n` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const { values, positionals } = parseCommandLine('npm run plan-summary', {
    allowPositionals: true,
    options: { stack: { type: 'string' }, out: { type: 'string' } },
  });
  const file = positionals[0];
  if (!file) {
    console.error('usage: npm run plan-summary -- plan.json [--stack <name>] [--out summary.md]');
    process.exit(2);
  }
  let plan: TerraformPlan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as TerraformPlan;
  } catch (error) {
    console.error(`${file}: ${(error as Error).message}`);
    process.exit(2);
  }
  try {
    const summary = summarisePlan(plan, values.stack ?? path.basename(path.dirname(path.resolve(file))));
    if (values.out) writeFileSync(values.out, summary.markdown);
    else process.stdout.write(summary.markdown);
  } catch (error) {
    console.error(`${file}: ${(error as Error).message}`);
    process.exit(1);
  }
}
