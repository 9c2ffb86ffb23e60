import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Suites start real servers and onnxruntime worker pools; on a 2-core machine they run one file at a time.
    fileParallelism: false,
    // lets the memory checks collect garbage before they measure
    poolOptions: { forks: { execArgv: ['--expose-gc'] } },
  },
});
