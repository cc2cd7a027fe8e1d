/**
 * The cdktf app: one environment's stacks from typed, validated config.
 *
 *   CQRS_ENV=dev|staging|prod   environment (default dev)
 *   AWS_REGION                  overrides the environment's region
 *   TF_STATE_BUCKET             S3 state backend (+ TF_STATE_KEY_PREFIX, TF_STATE_REGION); local state otherwise
 *
 * The handler bundles are rebuilt first, so what is synthesized (and deployed)
 * is always the code in the working tree; the zips are deterministic, so an
 * unchanged handler does not show up in a plan.
 */
import { App } from 'cdktf';
import { ConfigError, loadConfig } from './config/environments';
import { buildHandlers } from './stacks/bundling/build';
import { buildPipeline } from './stacks/app';

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

await buildHandlers();
const app = new App();
buildPipeline(app, config);
app.synth();
