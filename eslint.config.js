/**
 * ESLint flat config (`npm run lint` runs it through scripts/lint.sh).
 *
 * TypeScript is linted with type information (typescript-eslint's
 * recommended-type-checked, through the project service: tsconfig.json is the
 * one list of what is checked). The rules kept catch defects the type checker
 * does not: promises nobody awaits or that land where a void callback is
 * expected, `any` leaking out of JSON.parse and untyped libraries into typed
 * code, objects stringified as "[object Object]", methods called without their
 * `this`. Formatting is Prettier's alone (eslint-config-prettier comes last and
 * turns off every rule it would fight).
 */
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import jest from 'eslint-plugin-jest';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Outputs and generated files: what the build, synth, tests and bench write.
    ignores: [
      'dist/',
      '.test-dist-*/',
      'cdktf.out/',
      'cdktf.bootstrap.out/',
      'coverage/',
      '.terraform/',
      '.local/',
      '.local-data/',
      'test-results/',
      'bench/results/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Named although recommended-type-checked has them: these two are why the project lints.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // An async function without await is how the project keeps a function's contract async (handlers, service providers).
      'require-await': 'off',
      '@typescript-eslint/require-await': 'off',
      // `_`-named bindings are the project's way to drop a parameter or a destructured member on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Plain JavaScript is outside tsconfig.json: no type information, so no type-checked rules.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // CommonJS on purpose (jest's test sequencer, the GitHub workflow's script): require is how it imports.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The local console's page script runs in the browser.
    files: ['local/console/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['__tests__/**/*.ts'],
    extends: [jest.configs['flat/recommended']],
    rules: {
      // The suite asserts per case on purpose: it.each tables whose expected outcome depends on the row (accepted or
      // refused), and loops over synthesized resources that check each kind for what applies to it. The rule's target,
      // an expect in a catch that may never run, is written as `thrownBy` + unconditional expects instead.
      'jest/no-conditional-expect': 'off',
    },
  },
  prettier,
);
