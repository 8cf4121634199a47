import { configDefaults, defineConfig } from 'vitest/config';

// The 30,000-target batch test keeps both cores busy for minutes: it runs after every other file, alone,
// so the others' waits (a device's command within seconds) do not starve beside it.
const ALONE = ['test/integration/batch-limits.test.ts'];

export default defineConfig({
  test: {
    // Integration tests each start a whole local runtime; two cores, so keep files to two at a time.
    maxWorkers: 2,
    // fauxqs uses node:sqlite, which warns on every start in Node 22.
    execArgv: ['--disable-warning=ExperimentalWarning'],
    globalSetup: ['test/support/build-console.ts'],
    // Bounds on a hang, not on speed: every test awaits events, and on a loaded two-core machine starting a
    // runtime or a batch run can take many times its idle duration.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: 'tests', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...ALONE] },
      },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
