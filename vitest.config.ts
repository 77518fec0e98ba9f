import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/e2e/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // Real-model and browser tests are heavy; one file at a time keeps the 2-core machine responsive.
    fileParallelism: false,
  },
});
