/**
 * The smallest cdktf app worth the name: one stack, one provider, one
 * resource. The synth benchmark runs it the way `npm run synth` runs main.ts
 * (`scripts/node.sh --compiled`), in the same run, as the yardstick for the
 * machine: `npm run synth` ÷ this stays comparable on a slower or busier
 * machine where the seconds do not.
 */
import { NullProvider } from '@cdktf/provider-null/lib/provider';
import { Resource } from '@cdktf/provider-null/lib/resource';
import { App, TerraformStack } from 'cdktf';

const app = new App();
const stack = new TerraformStack(app, 'minimal');
new NullProvider(stack, 'null');
new Resource(stack, 'nothing', { triggers: { minimal: 'yes' } });
app.synth();
