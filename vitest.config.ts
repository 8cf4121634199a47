import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests each start a whole local runtime; two cores, so keep files to two at a time.
    maxWorkers: 2,
    // fauxqs uses node:sqlite, which warns on every start in Node 22.
    execArgv: ['--disable-warning=ExperimentalWarning'],
    globalSetup: ['test/support/build-console.ts'],
    // Bounds on a hang, not on speed: every test awaits events, and on a loaded two-core machine starting a
    // runtime or a batch run can take many times its idle duration.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
