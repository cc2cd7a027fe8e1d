/**
 * The resource and data source types the pipeline's stacks synthesize, in
 * every environment: what the CI roles must cover. Read from the synth, never
 * listed by hand.
 */
import { ENVIRONMENTS, ENVIRONMENT_NAMES, type EnvironmentConfig, type EnvironmentName } from '../../config/environments';
import { synthesizeStacks, type StackJson } from '../synth-offline';
import { PROVIDER_CALLS, type ProviderCalls } from './provider-calls';

/**
 * An environment as CI may deploy it: with an alarm subscriber when the
 * configuration has none (CI adds them through ALARM_EMAILS), so the types
 * that only exist with subscribers are covered too.
 */
function deployableConfig(environment: EnvironmentName): EnvironmentConfig {
  const config = ENVIRONMENTS[environment];
  return config.alarms.emails.length > 0 ? config : { ...config, alarms: { ...config.alarms, emails: ['alarms@example.com'] } };
}

/** Every environment's stacks (stack name → cdk.tf.json), synthesized offline now. */
export function synthesizeEveryEnvironment(): Record<EnvironmentName, Record<string, StackJson>> {
  return Object.fromEntries(ENVIRONMENT_NAMES.map((environment) => [environment, synthesizeStacks(deployableConfig(environment))])) as Record<
    EnvironmentName,
    Record<string, StackJson>
  >;
}

/** The types of some synthesized stacks: `aws_...` for resources, `data.aws_...` for data sources. */
export function synthesizedTypes(stacks: Iterable<Readonly<Record<string, StackJson>>>): Set<string> {
  const types = new Set<string>();
  for (const environment of stacks) {
    for (const stack of Object.values(environment)) {
      for (const type of Object.keys(stack.resource ?? {})) types.add(type);
      for (const type of Object.keys(stack.data ?? {})) types.add(`data.${type}`);
    }
  }
  return types;
}

/** Types with no row in the table, sorted. */
export function uncoveredTypes(types: Iterable<string>, table: Readonly<Record<string, ProviderCalls>> = PROVIDER_CALLS): string[] {
  return [...types].filter((type) => !(type in table)).sort();
}

/** The table's rows for the types, refusing a type the table lacks (with what to do about it). */
export function rowsFor(types: Iterable<string>, table: Readonly<Record<string, ProviderCalls>> = PROVIDER_CALLS): ProviderCalls[] {
  const missing = uncoveredTypes(types, table);
  if (missing.length > 0) {
    throw new Error(
      `the stacks synthesize ${missing.join(', ')}, which stacks/ci/provider-calls.ts does not list: ` +
        "add a row per type with the AWS provider's read, create, update and delete calls (read them in hashicorp/terraform-provider-aws, internal/service/<service>/<resource>.go), or the CI roles cannot refresh or deploy it",
    );
  }
  return [...types].sort().map((type) => table[type] as ProviderCalls);
}
