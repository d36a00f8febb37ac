import { defineConfig } from 'vitest/config';

// The test set the mutation run (`npm run mutation`, stryker.config.mjs) measures: the lib
// unit tests, in process. Not the I/O-fault sweeps (they re-run whole pipelines hundreds of
// times and check other properties) and not the scripts' tests, which run commands in child
// processes where a mutant in this process is never reached.
export default defineConfig({
  test: {
    include: ['lib/{checksum,restore,retention}/**/*.test.ts'],
    exclude: ['**/*.drill.test.ts', '**/*.sweep.test.ts', 'node_modules/**'],
    setupFiles: ['harness/testing-setup.ts'],
    testTimeout: 30_000,
  },
});
