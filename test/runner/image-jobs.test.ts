/**
 * Images as prompts end to end on the local stack (SQS/S3 on the emulator, the runner with the real cascade engine on
 * the tiny ONNX bundle): /imagine with a picture, /blend and 🧬 "More like this" go from the bot commands through the
 * queue to a finished result, and so does image-to-image (--strength); on a bundle without image encoders the job ends
 * with the sentence naming the graph.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { resolveDimensions } from '../../core/dimensions.ts';
import { blend, imagine, pressButton } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { contextFor } from '../bot/support/fixtures.ts';
import { startTestRunner } from './harness.ts';

const BUNDLE = fileURLToPath(new URL('../fixtures/cascade-tiny', import.meta.url));
const finalOf = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));
const user = { platform: 'web' as const, userId: 'pictures', channelId: 'c1' };
const picture = async (colour: string, width = 100, height = 70) => new Uint8Array(await sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer());

/** The emulator and a runner with the cascade engine on `bundleDir`, stopped together. */
interface Stack {
  deps: BotDeps;
  stop(): Promise<void>;
}

async function stackWith(bundleDir: string): Promise<{ stack: Stack; deps: BotDeps }> {
  const generator = await createCascadeGenerator({ bundleDir, provider: 'cpu' });
  const emulator: TestEmulator = await startTestEmulator();
  const runner: RunnerHandle = await startTestRunner(emulator.env(), generator);
  const deps: BotDeps = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [], restrictedOnly: [] }), maxPendingPerUser: 10 };
  const stack = { deps, stop: async () => { await runner.stop('test done'); await emulator.stop(); } };
  return { stack, deps };
}

describe('GIVEN the local stack on the fixture bundle with its image encoders', () => {
  let stack: Stack;
  let deps: BotDeps;
  beforeAll(async () => {
    ({ stack, deps } = await stackWith(BUNDLE));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('WHEN /imagine has a picture, then 🧬 is pressed on tile 2, then /blend runs THEN all three complete', async () => {
    const events: JobEvent[] = [];
    const first = await imagine(deps, contextFor(user), 'a red house --iw 0.8', {}, undefined, [await picture('#c33')]);
    expect(first).toMatchObject({ kind: 'accepted' });
    const firstId = (first as { jobId: string }).jobId;
    await collectEvents(deps, (all) => finalOf(all, firstId).length > 0, 50_000, events);
    expect(finalOf(events, firstId)[0]?.type).toBe('completed');
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await deps.blobs.get(jobKeys.result(firstId)))!)));
    expect(result.model.imagePrompts).toBe(true);

    const more = await pressButton(deps, contextFor(user), `more:${firstId}:2`);
    expect(more).toMatchObject({ kind: 'accepted' });
    const moreId = (more as { jobId: string }).jobId;
    const blended = await blend(deps, contextFor(user), [await picture('#33c'), await picture('#3c3', 40, 90)], 'landscape');
    const blendId = (blended as { jobId: string }).jobId;
    await collectEvents(deps, (all) => finalOf(all, moreId).length > 0 && finalOf(all, blendId).length > 0, 80_000, events);
    expect(finalOf(events, moreId)[0]?.type).toBe('completed');
    expect(finalOf(events, blendId)[0]?.type).toBe('completed');
    const blendResult = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await deps.blobs.get(jobKeys.result(blendId)))!)));
    expect({ width: blendResult.width, height: blendResult.height }).toEqual(resolveDimensions({ w: 3, h: 2 }, 'medium', 128));
    expect(blendResult.images).toHaveLength(4);
  });

  it('WHEN /imagine has a 2:1 picture and --strength 0.5 THEN the runner encodes it, completes, and keeps its shape', async () => {
    const reply = await imagine(deps, contextFor(user), 'a red house --strength 0.5', {}, undefined, [await picture('#c33', 200, 100)]);
    const jobId = (reply as { jobId: string }).jobId;
    const events = await collectEvents(deps, (all) => finalOf(all, jobId).length > 0, 50_000);
    expect(finalOf(events, jobId)[0]?.type).toBe('completed');
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await deps.blobs.get(jobKeys.result(jobId)))!)));
    expect({ width: result.width, height: result.height }).toEqual(resolveDimensions({ w: 2, h: 1 }, 'medium', 128));
  });
});

describe('GIVEN the local stack on a bundle without image encoders (like the demo model today)', () => {
  let stack: Stack;
  let deps: BotDeps;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bundle-no-encoders-'));
    await cp(BUNDLE, dir, { recursive: true, filter: (src) => !src.includes('goldens') });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    delete manifest.imageEncoder;
    delete manifest.effnetEncoder;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
    ({ stack, deps } = await stackWith(dir));
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('WHEN /imagine has a picture THEN the job ends at once, not retried, with a sentence naming image_encoder.onnx', async () => {
    const reply = await imagine(deps, contextFor(user), 'a red house', {}, undefined, [await picture('#c33')]);
    const jobId = (reply as { jobId: string }).jobId;
    const events = await collectEvents(deps, (all) => finalOf(all, jobId).length > 0, 50_000);
    const final = finalOf(events, jobId)[0];
    expect(final).toMatchObject({ type: 'failed', code: 'unsupported_request', willRetry: false, reason: 'The model cascade-tiny cannot take image prompts: it has no image_encoder.onnx (manifest section imageEncoder).' });
    expect(events.filter((e) => e.jobId === jobId && e.type === 'failed')).toHaveLength(1);
  });

  it('WHEN /imagine has --strength THEN the job ends at once with a sentence naming effnet_encoder.onnx', async () => {
    const reply = await imagine(deps, contextFor(user), 'a red house --strength 0.4', {}, undefined, [await picture('#3c3')]);
    const jobId = (reply as { jobId: string }).jobId;
    const events = await collectEvents(deps, (all) => finalOf(all, jobId).length > 0, 50_000);
    expect(finalOf(events, jobId)[0]).toMatchObject({
      type: 'failed', code: 'unsupported_request', willRetry: false,
      reason: 'The model cascade-tiny cannot take image-to-image from a picture: it has no effnet_encoder.onnx (manifest section effnetEncoder).',
    });
  });
});
