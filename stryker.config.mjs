// @ts-check
/**
 * Mutation testing (docs/testing.md, "Mutation testing"): the base options of every Stryker run.
 * `npm run test:mutation` (scripts/mutation.ts) runs Stryker once per module of MODULES below, each
 * with only the test files that guard it, and sums up the scores. Running `npx stryker run` on this
 * file alone mutates nothing (`mutate` is set per module).
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.config.ts', related: false },
  plugins: ['@stryker-mutator/vitest-runner'],
  // Only the tests that cover a mutant run for it.
  coverageAnalysis: 'perTest',
  // The machine is small and shared: one test process at a time.
  concurrency: 1,
  // A mutant whose tests run past their dry-run time × 1.5 + 15 s is a timeout (counted as killed):
  // the dry run already measured the slow integration tests, and every hanging mutant costs this much.
  timeoutMS: 15_000,
  mutate: [],
  reporters: ['clear-text', 'progress', 'json'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  // The sandbox needs the sources, tests, migrations and configs, not the build output.
  ignorePatterns: ['.next', '.data', 'coverage', 'reports', 'test-results', 'playwright-report', 'bench/results', '.scratch'],
  thresholds: { high: 85, low: 70 },
};

export default config;
