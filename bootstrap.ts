/**
 * The CI bootstrap app (`npm run bootstrap -- synth|diff|deploy`): one stack,
 * `bootstrap-order-pipeline`, applied once per account by an administrator
 * (docs/ci-cd.md). Its roles cover every resource and data source type the
 * pipeline's stacks synthesize in any environment, so the handler bundles are
 * built and every environment is synthesized first.
 */
import { App } from 'cdktf';
import { BootstrapConfigError, loadBootstrapConfig } from './config/bootstrap';
import { buildHandlers } from './stacks/bundling/build';
import { BootstrapStack } from './stacks/ci/bootstrap-stack';
import { synthesizeEveryEnvironment, synthesizedTypes } from './stacks/ci/pipeline-types';

let config;
try {
  config = loadBootstrapConfig();
} catch (error) {
  if (error instanceof BootstrapConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

await buildHandlers();
const types = synthesizedTypes(Object.values(synthesizeEveryEnvironment()));
const app = new App();
new BootstrapStack(app, { config, types });
app.synth();
