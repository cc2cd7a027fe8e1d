/**
 * One Node major everywhere: the runtime every synthesized function deploys
 * on, the esbuild target of its bundle, and the Node this suite runs on
 * (`npm test` fetches it from npm when the machine's Node is older).
 */
import { describe, expect, it } from '@jest/globals';
import { FunctionName, type FunctionKey } from '../../stacks/catalogue';
import { bundleOptions } from '../../stacks/bundling/build';
import { synthesize } from '../helpers/synth';

const app = synthesize();
const functions = Object.values(app.json.compute.resource.aws_lambda_function ?? {}) as { function_name: string; runtime: string; architectures: string[] }[];
const nodeMajor = (runtime: string) => Number(/^nodejs(\d+)\.x$/.exec(runtime)?.[1]);

describe('the Node.js version', () => {
  it('is the same Lambda runtime, on arm64, for every function', () => {
    expect(functions.length).toBe(Object.keys(FunctionName).length);
    for (const fn of functions) {
      expect(fn.runtime).toMatch(/^nodejs\d+\.x$/);
      expect(fn.runtime).toBe(functions[0]?.runtime);
      expect(fn.architectures).toEqual(['arm64']);
    }
  });

  it("is each bundle's esbuild target", () => {
    const deployed = nodeMajor(functions[0]?.runtime ?? '');
    for (const key of Object.keys(FunctionName) as FunctionKey[]) {
      expect({ function: FunctionName[key], target: bundleOptions(key).target }).toEqual({ function: FunctionName[key], target: `node${deployed}` });
    }
  });

  it('is the Node this suite runs on', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(nodeMajor(functions[0]?.runtime ?? ''));
  });
});
