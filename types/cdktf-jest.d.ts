// Brings cdktf's jest matcher types (toHaveResourceWithProperties, ...) into scope:
// for the global `expect` (cdktf declares them), and for the `expect` of
// @jest/globals, which the tests import (its asymmetric matchers are typed,
// where the global ones are `any`).
import type { TerraformConstructor } from 'cdktf/lib/testing/matchers';
import 'cdktf/lib/testing/adapters/jest';

declare module 'expect' {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a merged declaration repeats expect's type parameters, used or not.
  interface Matchers<R extends void | Promise<void>, T = unknown> {
    toHaveResourceWithProperties(resourceConstructor: TerraformConstructor, properties: Record<string, unknown>): R;
  }
}
