// The mutation run: `npm run mutation` (issue 16, item 5). Stryker changes one operator,
// condition or literal at a time in the folders below and runs the lib unit tests that cover
// it (vitest.mutation.config.ts); a mutant the tests do not notice is a rule no test pins.
// harness/mutation-scores.ts then prints the score per folder and fails under 85%.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: [
    'lib/checksum/**/*.ts',
    'lib/restore/**/*.ts',
    'lib/retention/**/*.ts',
    '!**/*.test.ts',
    '!**/testing.ts',
    '!**/index.ts',
  ],
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
  concurrency: 2,
  timeoutMS: 30_000,
  // Stryker 9 rewrites tsconfig.json in its sandbox through the TypeScript JS API, which the
  // TypeScript 7 this project type-checks with does not have. Our tsconfig has no `extends`
  // or `references` that would need rewriting, so it is left as it is.
  tsconfigFile: 'no-tsconfig-rewrite.json',
  ignorePatterns: ['/reports', '/.tmp'],
  tempDirName: '.stryker-tmp',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
};
