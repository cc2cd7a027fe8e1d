/**
 * Jest runs the TypeScript sources as native ES modules (middy is ESM-only):
 * `npm test` sets NODE_OPTIONS=--experimental-vm-modules. Type checking is a
 * separate step (`npm run typecheck`), so ts-jest only transpiles.
 * @type {import('jest').Config}
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: { isolatedModules: true } }],
  },
  testMatch: ['<rootDir>/__tests__/**/*.test.ts'],
  setupFiles: ['<rootDir>/__tests__/helpers/setup-env.ts'],
  // Measures what starting a process costs here, for the timeouts of __tests__/helpers/budget.ts.
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  testTimeout: 30_000,
  maxWorkers: 4,
  testSequencer: '<rootDir>/__tests__/helpers/sequencer.cjs',
};
