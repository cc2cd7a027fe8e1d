/**
 * Jest runs the TypeScript sources as native ES modules (middy is ESM-only):
 * `npm test` sets NODE_OPTIONS=--experimental-vm-modules. Type checking is a
 * separate step (`npm run typecheck`), so ts-jest only transpiles.
 * @type {import('jest').Config}
 */
export default {
  // jest's node environment, failing a test that leaves process.env changed (see the file).
  testEnvironment: '<rootDir>/__tests__/helpers/env-guard-environment.ts',
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
  // How long jest waits for a worker to exit by itself once the run is over
  // (default 500 ms) before killing it and printing "A worker process has failed
  // to exit gracefully". Measured beside two CPU hogs on 2 cores: the four
  // workers exited on their own, with no handle left open, in 2.1 to 3.2 s;
  // 500 ms is too short for a starved machine, not a sign of a leak.
  workerGracefulExitTimeout: 10_000,
  testSequencer: '<rootDir>/__tests__/helpers/sequencer.cjs',
};
