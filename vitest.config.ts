import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // onnxruntime-node and sharp are native addons: child processes are safer than worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has 2 cores; integration suites start servers and runners of their own.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
