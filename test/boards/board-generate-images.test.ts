/**
 * `/board generate` from vote-weighted image references. On the local stack with the real cascade engine on the
 * tiny ONNX bundle (which has an image encoder, so its results say `model.imagePrompts`): a board's grid is made,
 * three tiles pinned, one voted twice, another made hero; `/board generate` then queues a job whose image prompts are
 * those pins' pictures, the hero first at weight 1 and the rest by votes relative to it, and the engine completes it. With
 * pins made by a model without an image encoder (its results carry no such flag), the job has no image prompts and
 * the reply says why.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobSchema, type Job, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { startBoard, type BoardStarted } from '../../bot/boards/actions.ts';
import { boardCommand, type GenerateReply } from '../../bot/boards/board-command.ts';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { startTestRunner, TEST_CPU_THREADS } from '../runner/harness.ts';
import { finishJob, slackUser } from './support.ts';

const BUNDLE = fileURLToPath(new URL('../fixtures/cascade-tiny', import.meta.url));
const finished = (events: JobEvent[], jobId: string) => events.some((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

async function storedJob(deps: BotDeps, jobId: string): Promise<Job> {
  return JobSchema.parse(JSON.parse(new TextDecoder().decode((await deps.blobs.get(jobKeys.job(jobId)))!)));
}

describe('GIVEN the local stack with the real engine on a bundle that reads images, and a board with three pins', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  let deps: BotDeps;
  let jobId = '';
  const events: JobEvent[] = [];

  beforeAll(async () => {
    const generator = await createCascadeGenerator({ bundleDir: BUNDLE, provider: 'cpu', cpuThreads: TEST_CPU_THREADS });
    emulator = await startTestEmulator();
    runner = await startTestRunner(emulator.env(), generator);
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 10 };
    await startBoard(deps, slackUser('host', 'G1'), { name: 'Pictures board', brief: 'red houses by the sea' });
    jobId = ((await imagine(deps, slackUser('host', 'G1'), 'a red house by the sea')) as { jobId: string }).jobId;
    await collectEvents(deps, (all) => finished(all, jobId), 60_000, events);
    for (const tile of [1, 2, 3]) expect(await pressButton(deps, slackUser('host', 'G1'), `pin:${jobId}:${tile}`)).toMatchObject({ kind: 'done' });
    for (const voter of ['v1', 'v2']) await pressButton(deps, slackUser(voter, 'G1'), `vote:${jobId}:2`);
    expect(await pressButton(deps, slackUser('host', 'G1'), `hero:${jobId}:3`)).toMatchObject({ kind: 'done' });
  }, 90_000);
  afterAll(async () => {
    await runner?.stop('test done');
    await emulator?.stop();
  });

  it('WHEN /board generate runs THEN the job is conditioned on the pins\' pictures, hero heaviest, then by votes, and the engine completes it', async () => {
    const reply = (await boardCommand(deps, slackUser('host', 'G1'), { sub: 'generate' })) as GenerateReply;
    expect(reply.kind).toBe('board_generated');
    expect(reply.styleNote).toMatch(/^Conditioned on the board's top 3 pinned pictures/);
    const generated = reply.results[0] as { kind: string; jobId: string };
    expect(generated.kind).toBe('accepted');
    const job = await storedJob(deps, generated.jobId);
    // Vote weights (1 + votes, ×2 for the hero): tile 2 (two votes) 3, tile 3 (hero, no votes) 2, tile 1 1. The hero
    // conditions at 1 even so (lifted to the heaviest), the others relative to it.
    expect(job.request.imagePrompts).toEqual([
      { key: jobKeys.image(jobId, 3), weight: 1 },
      { key: jobKeys.image(jobId, 2), weight: 1 },
      { key: jobKeys.image(jobId, 1), weight: 0.333 },
    ]);
    expect(job.request.prompt).toContain('red houses by the sea');
    expect(job.boardCode).toBe(reply.code);
    await collectEvents(deps, (all) => finished(all, generated.jobId), 60_000, events);
    expect(events.find((e) => e.jobId === generated.jobId && e.type === 'completed')).toBeDefined();
  }, 90_000);

  it('WHEN the host makes the most-voted pin the hero THEN it alone is heaviest, the others by their votes relative to it', async () => {
    await pressButton(deps, slackUser('host', 'G1'), `hero:${jobId}:2`);
    const reply = (await boardCommand(deps, slackUser('host', 'G1'), { sub: 'generate' })) as GenerateReply;
    const job = await storedJob(deps, (reply.results[0] as { jobId: string }).jobId);
    // Tile 2: (1+2)×2 = 6; tiles 1 and 3: 1 each.
    expect(job.request.imagePrompts?.[0]).toEqual({ key: jobKeys.image(jobId, 2), weight: 1 });
    expect(job.request.imagePrompts?.slice(1).map((p) => p.weight)).toEqual([0.167, 0.167]);
    await takeJobs(emulator.ports.queue).catch(() => undefined);
  }, 30_000);
});

describe('GIVEN a board whose pins a model without an image encoder made', () => {
  let emulator: TestEmulator;
  let deps: BotDeps;
  let board: BoardStarted;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    deps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 10 };
    board = (await startBoard(deps, slackUser('host', 'G2'), { name: 'Text board', brief: 'blue barns' })) as BoardStarted;
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN nothing is pinned, and then when pins exist THEN no image prompts either time, and the note says why', async () => {
    const empty = (await boardCommand(deps, slackUser('host', 'G2'), { sub: 'generate' })) as GenerateReply;
    expect(empty.styleNote).toMatch(/Nothing is pinned yet/);
    const jobId = ((await imagine(deps, slackUser('host', 'G2'), 'a blue barn')) as { jobId: string }).jobId;
    await takeJobs(emulator.ports.queue);
    // What such a runner writes: a result whose model says nothing about image prompts.
    await finishJob(emulator.ports.blobs, jobId);
    await pressButton(deps, slackUser('host', 'G2'), `pin:${jobId}:1`);
    const reply = (await boardCommand(deps, slackUser('host', 'G2'), { sub: 'generate' })) as GenerateReply;
    expect(reply.styleNote).toBe("This deployment's model has no image encoder, so the style is the board's preset, negative prompt and taste line, not its pinned pictures.");
    expect(reply.message).toContain(reply.styleNote);
    const job = await storedJob(deps, (reply.results[0] as { jobId: string }).jobId);
    expect(job.request.imagePrompts).toBeUndefined();
    expect(job.boardCode).toBe(reply.code);
    expect(board.board.id).toBe(job.boardId);
  });
});
