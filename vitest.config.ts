import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'node_modules/**'],
    globalSetup: ['./test/support/postgres-global-setup.ts', './test/support/build-cli-global-setup.ts'],
    // Tests wait for events, not for durations: these limits only end a test that hangs, and are
    // far above what the slowest machine needs, so that a loaded machine is never a failure.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Many tests wait on child processes (a lock going stale, a frozen holder): on 2 cores the
    // default of one worker would run those waits one after another.
    maxWorkers: 4,
  },
});
