import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Unit test files that share their worker's module registry (isolate: false): each imports the same heavy modules
 * (zod, sharp, onnxruntime-node, the AWS SDK, discord.js…), and loading them once per worker instead of once per file
 * saves about a third of these files' time (50 files: 36.6 → 25.5 s of CPU, 33 → 18 s wall on 2 workers). A file belongs here only if it starts no server, process or browser, opens no connection,
 * and restores whatever global it touches (fake timers, process.env); the list passes in any order
 * (`npx vitest run --project unit --sequence.shuffle`). Everything else runs isolated, which is also the default for
 * a new file. Not here on purpose: files that send multipart requests through @discordjs/rest after another file did
 * (undici's web streams fail with "action is not a function" across files), and anything with a server of its own.
 */
const SHARED_MODULE_FILES = [
  'test/job-schema.test.ts',
  'test/core/backoff.test.ts',
  'test/core/config.test.ts',
  'test/core/dimensions.test.ts',
  'test/core/model-notes.test.ts',
  'test/core/options.test.ts',
  'test/core/storage-layout.test.ts',
  'test/bot/commands.test.ts',
  'test/bot/custom-id.test.ts',
  'test/bot/dispatcher.test.ts',
  'test/bot/image-commands.test.ts',
  'test/bot/job-history.test.ts',
  'test/bot/message-model.test.ts',
  'test/bot/moderation.test.ts',
  'test/bot/permissions.test.ts',
  'test/bot/png-text.test.ts',
  'test/bot/help.test.ts',
  'test/cascade/bundle.test.ts',
  'test/cascade/guidance.test.ts',
  'test/cascade/image-input.test.ts',
  'test/cascade/image-parity.test.ts',
  'test/cascade/image-requests.test.ts',
  'test/cascade/noise.test.ts',
  'test/cascade/onnx-graph.test.ts',
  'test/cascade/parity.test.ts',
  'test/cascade/pipeline.test.ts',
  'test/cascade/runtime.test.ts',
  'test/cascade/scheduler.test.ts',
  'test/cascade/tokenizer.test.ts',
  'test/demo-model/quality.test.ts',
  'test/demo-model/shape-checker.test.ts',
  'test/demo-model/training-canvases.test.ts',
  'test/discord/render-limits.test.ts',
  'test/discord/verify.test.ts',
  'test/infra/config.test.ts',
  'test/infra/dispatch-lambda.test.ts',
  'test/infra/fleet-control.test.ts',
  'test/infra/iam-policies.test.ts',
  'test/infra/runtime-env.test.ts',
  'test/infra/scaling-policy.test.ts',
  'test/infra/stages.test.ts',
  'test/infra/preflight.test.ts',
  'test/runner/worker-parts.test.ts',
  'test/slack/blocks.test.ts',
  'test/slack/board-blocks.test.ts',
  'test/slack/payloads.test.ts',
  'test/web/commands.test.ts',
  'test/web/download.test.ts',
  'test/web/single-writer-cache.test.ts',
  'test/boards/board-units.test.ts',
  'test/boards/collage.test.ts',
  'test/adversarial/options-fuzz.test.ts',
];

export default defineConfig({
  test: {
    // onnxruntime-node and sharp are native addons: child processes are safer than worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has 2 cores; integration suites start servers and runners of their own.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: SHARED_MODULE_FILES, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SHARED_MODULE_FILES] } },
    ],
  },
});
