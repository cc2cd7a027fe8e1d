/**
 * Every policy the stacks define, as the services that own them read them:
 * what the IAM gate is built from (the runtime, and the tests that evaluate
 * the synthesized IAM without running the pipeline).
 */
import type { SynthesizedPolicy } from './iam';
import { SERVICES } from './services';
import type { LocalService } from './service';
import type { TerraformModel } from './terraform';

export function synthesizedPolicies(model: TerraformModel, services: readonly LocalService[] = SERVICES): SynthesizedPolicy[] {
  return services.flatMap((service) => service.policies?.(model) ?? []);
}
