import { relative } from 'node:path';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that share their worker's module registry (isolate: false): each imports the same heavy modules (zod,
 * sharp, onnxruntime-node, the AWS SDK, discord.js, playwright…), and a worker loads them once instead of once per
 * file; an isolated file also costs a process of its own. On a fresh clone, 2 cores: 99 files here instead of 51 (117 now) took
 * `npm test` from ≈ 230–240 s to ≈ 181 s (vitest's import time 61 → 29 s). A file belongs here only if it closes
 * every server, emulator, process and browser it opens in its own hooks and restores whatever global it touches (fake
 * timers, process.env); the list passes with its files in any order
 * (`npx vitest run --project shared --sequence.shuffle.files`, seeds 1–4 and 7; tests inside a file keep their order, as many build on
 * the previous one). Everything else runs isolated, which is also the default for a new file. Isolated on purpose:
 * the files that send Discord REST requests with uploads (rest-poster, interactions-http, discord/end-to-end,
 * discord-board, attachments, board-add, discord-requests: after some other files in the same process, @discordjs/rest
 * multipart bodies fail in undici's web streams, "action is not a function"), the Lambda handlers configured through
 * process.env (discord/lambda-env, infra/function-env: functions/ keeps one configured handler per module), and
 * infra/fleet-resources (Pulumi's runtime mocks are process-wide).
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
  'test/cascade/noise-worker.test.ts',
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
  // Files with servers, emulators, runner processes or a browser of their own: each closes what it opens in its hooks.
  'test/adversarial/playground-fairness.test.ts',
  'test/adversarial/playground-host.test.ts',
  'test/adversarial/playground-session.test.ts',
  'test/adversarial/playground-streams.test.ts',
  'test/adversarial/playground-unicode.e2e.test.ts',
  'test/adversarial/runner-chaos.test.ts',
  'test/adversarial/unicode-prompts.test.ts',
  'test/adversarial/uploads.test.ts',
  'test/boards/board-core.integration.test.ts',
  'test/boards/board-generate-images.test.ts',
  'test/boards/board.e2e.test.ts',
  'test/boards/exports.test.ts',
  'test/boards/header-updater.integration.test.ts',
  'test/boards/limit-claims.test.ts',
  'test/bot/dispatcher.integration.test.ts',
  'test/bot/submit-send-failure.test.ts',
  'test/cascade/buckets.test.ts',
  'test/cascade/model-source.test.ts',
  'test/core/aws-adapters.test.ts',
  'test/demo-model/image-inputs.test.ts',
  'test/infra/model-upload.test.ts',
  'test/infra/runner-image.test.ts',
  'test/infra/runner-permissions.test.ts',
  'test/infra/sst-typecheck.test.ts',
  'test/infra/user-data.test.ts',
  'test/runner/cancel-progress.test.ts',
  'test/runner/cascade-engine.test.ts',
  'test/runner/crash.test.ts',
  'test/runner/dead-letters.test.ts',
  'test/runner/drain.test.ts',
  'test/runner/expired.test.ts',
  'test/runner/image-jobs.test.ts',
  'test/runner/launch-ready.test.ts',
  'test/runner/outage.test.ts',
  'test/runner/pipeline.test.ts',
  'test/runner/poison.test.ts',
  'test/runner/scale-in-guard.test.ts',
  'test/runner/scale-in-protection.test.ts',
  'test/runner/submit.test.ts',
  'test/web/history-paging.test.ts',
  'test/web/persistence.test.ts',
  'test/web/picture-upload.test.ts',
  'test/web/playground-features.e2e.test.ts',
  'test/web/playground-images.e2e.test.ts',
  'test/web/playground.e2e.test.ts',
  'test/web/runner-child.test.ts',
  'test/web/server.test.ts',
  'test/web/start-cli.test.ts',
  'test/cascade/onnx-graph.test.ts',
  // Slack over signed HTTP, Lambda handlers built from their factories (not from process.env), Discord without REST uploads.
  'test/slack/ack-handoff.test.ts',
  'test/slack/board.e2e.test.ts',
  'test/slack/end-to-end.test.ts',
  'test/slack/events-http.test.ts',
  'test/slack/files.test.ts',
  'test/slack/poster.test.ts',
  'test/slack/remix.test.ts',
  'test/adversarial/slack-requests.test.ts',
  'test/boards/board-page-lambda.test.ts',
  'test/boards/deadline-lambda.test.ts',
  'test/boards/dispatch-lambda-boards.test.ts',
  'test/boards/slack-board.test.ts',
  'test/discord/commands.test.ts',
  'test/discord/gateway.test.ts',
  'test/infra/function-permissions.test.ts',
  'test/infra/runner-bundle.test.ts',
  'test/web/chat-bots.test.ts',
];

/**
 * The longest files (measured on 2 cores: seconds of wall time each), started before everything else so that a run
 * never ends with one of them alone on a core while the other idles. Without this a fresh clone (no vitest results
 * cache) orders by project name and file size, and runner-chaos and sst-typecheck started last.
 */
const SLOW_FIRST = [
  'test/demo-model/quality.test.ts',
  'test/web/playground.e2e.test.ts',
  // From here on, a file that mostly waits (runner processes, visibility timeouts, intervals) alternates with one that
  // mostly computes, so that the waiting overlaps work on the other core instead of idling both at the end of the run.
  'test/adversarial/runner-chaos.test.ts',
  'test/infra/sst-typecheck.test.ts',
  'test/boards/header-updater.integration.test.ts',
  'test/web/start-cli.test.ts',
  'test/runner/crash.test.ts',
  'test/web/playground-features.e2e.test.ts',
  'test/runner/drain.test.ts',
  'test/boards/board.e2e.test.ts',
  'test/runner/outage.test.ts',
  'test/web/persistence.test.ts',
  'test/runner/dead-letters.test.ts',
  'test/web/runner-child.test.ts',
  'test/runner/scale-in-protection.test.ts',
  'test/cascade/buckets.test.ts',
  'test/runner/cancel-progress.test.ts',
  'test/boards/board-core.integration.test.ts',
  'test/boards/dispatch-lambda-boards.test.ts',
  'test/cascade/pipeline.test.ts',
  'test/bot/dispatcher.integration.test.ts',
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = SLOW_FIRST.indexOf(relative(file.project.config.root, file.moduleId));
      return at < 0 ? SLOW_FIRST.length : at;
    };
    return (await super.sort(files)).map((file, order) => ({ file, order })).sort((a, b) => rank(a.file) - rank(b.file) || a.order - b.order).map(({ file }) => file);
  }
}

export default defineConfig({
  test: {
    // onnxruntime-node and sharp are native addons: child processes are safer than worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The machine has 2 cores; integration suites start servers and runners of their own.
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      { extends: true, test: { name: 'shared', include: SHARED_MODULE_FILES, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SHARED_MODULE_FILES] } },
    ],
  },
});
