/**
 * The deploy-time schema trigger: the stacks' `null_resource` runs
 * `aws lambda invoke` on init-schema after the cluster exists. Locally the
 * same function gets the same payload through the endpoint's Lambda API, once
 * every service is bound; a failure stops the start.
 */
import { UnsupportedTerraformError } from './errors';
import type { LocalService } from './service';

export const schemaTriggerService: LocalService = {
  name: 'schema-trigger',
  serves: {
    null_resource: { becomes: 'the schema trigger, invoked through the local Lambda API' },
  },
  bind({ model, endpoint, onStart }) {
    for (const trigger of model.resources('null_resource')) {
      const functionName = model.field(trigger, 'provisioner', 0, 'local-exec', 'environment', 'FUNCTION_NAME');
      if (typeof functionName !== 'string')
        throw new UnsupportedTerraformError(trigger.address, 'only the schema trigger (local-exec with FUNCTION_NAME) runs locally');
      onStart(async () => {
        const response = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`, { method: 'POST', body: '' });
        const body = await response.text();
        if (response.status !== 200 || response.headers.get('x-amz-function-error'))
          throw new Error(`${trigger.address}: schema initialisation failed: ${body}`);
      });
    }
  },
};
