/**
 * `npm run capacity -- --env <env> [--json]`: where the pipeline saturates on
 * AWS and what a million orders cost, from the environment's synthesized
 * stacks, the last benchmark and config/aws-facts.json (see analysis/capacity.ts).
 */
import { ENVIRONMENT_NAMES, type EnvironmentName } from '../config/environments';
import { capacityMarkdown, runCapacityModel } from '../analysis/capacity-report';

const args = process.argv.slice(2);
const environment = (args.includes('--env') ? args[args.indexOf('--env') + 1] : (process.env.CQRS_ENV ?? 'dev')) as EnvironmentName;
if (!ENVIRONMENT_NAMES.includes(environment)) {
  console.error(`--env must be one of ${ENVIRONMENT_NAMES.join(', ')}, got ${JSON.stringify(environment)}`);
  process.exit(2);
}

const run = runCapacityModel(environment);
console.log(args.includes('--json') ? JSON.stringify({ ...run.report, original: run.original }, null, 2) : capacityMarkdown(run));
