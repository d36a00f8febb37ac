import { defineConfig } from 'vitest/config';

// Two projects: `unit` is fast and needs nothing but Node; `drills` starts containers
// (a Docker engine is required) and runs one file at a time on this 2-core budget.
// Both build dist/ first when a source changed: the operator scripts they start run from it.
// `npm test` runs the two side by side, each one file at a time (scripts/cli/run-tests.ts).
// Drill reports go to ARK_REPORTS_DIR when `npm run drill -- --reports DIR` sets it (harness/reports-dir.ts).
const reports = process.env.ARK_REPORTS_DIR ?? 'reports';

export default defineConfig({
  test: {
    reporters: ['default', ['allure-vitest/reporter', { resultsDir: `${reports}/allure-results` }]],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['lib/**/*.test.ts', 'scripts/**/*.test.ts', 'harness/**/*.test.ts'],
          exclude: ['**/*.drill.test.ts', 'node_modules/**'],
          setupFiles: ['harness/testing-setup.ts'],
          globalSetup: ['scripts/testing-global-setup.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'drills',
          include: ['harness/**/*.drill.test.ts', 'lib/**/*.drill.test.ts'],
          setupFiles: ['allure-vitest/setup', 'harness/testing-setup.ts'],
          globalSetup: ['scripts/testing-global-setup.ts', 'harness/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
