// The consumer suite (tools/test.mjs runs it after the main one): the packed tarball installed
// into fresh Node, Vite, worker and TypeScript projects.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/consumers/**/*.test.ts'],
    globalSetup: ['tests/consumers/setup.ts'],
    testTimeout: 600_000,
    // a cold run installs each project and compiles better-sqlite3 in its hooks
    hookTimeout: 1_200_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
