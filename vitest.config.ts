import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/js/**/*.test.{ts,mjs}'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // Two cores here: run files in parallel, but not more than the machine has.
    maxWorkers: 2,
  },
});
