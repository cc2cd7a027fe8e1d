/**
 * The cdktf app: one environment's stacks from typed, validated config.
 *
 *   CQRS_ENV=dev|staging|prod   environment (default dev)
 *   AWS_REGION                  overrides the environment's region
 *   TF_STATE_BUCKET             S3 state backend (+ TF_STATE_KEY_PREFIX, TF_STATE_REGION, TF_STATE_KMS_KEY_ID): required but for local
 *   TF_LOCAL_STATE=1            local state on purpose, to read the Terraform offline (npm run synth)
 *
 * The handler bundles are rebuilt first, so what is synthesized (and deployed)
 * is always the code in the working tree; the zips are deterministic, so an
 * unchanged handler does not show up in a plan.
 */
import { App } from 'cdktf';
import { ConfigError, loadConfig } from './config/environments';
import { buildHandlers } from './stacks/bundling/build';
import { buildPipeline } from './stacks/app';
import { remoteStateProblem } from './stacks/pipeline-stack';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const problem = remoteStateProblem(config);
if (problem) {
  console.error(problem);
  process.exit(1);
}

await buildHandlers();
const app = new App();
buildPipeline(app, config);
app.synth();
