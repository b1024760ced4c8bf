import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { decodeToRgb, composeGrid } from '../../gpu-runner/imaging.ts';
import { encodeLatents, UPSCALE_FACTOR } from '../../gpu-runner/worker-request.ts';
import { resolveDimensions } from '../../core/dimensions.ts';
import { deriveSeed } from '../../gpu-runner/cascade/noise.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, settleEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { expectedImage, expectedLatent, TestGenerator } from '../support/test-generator.ts';
import { childJob, imagineJob } from './fixtures.ts';
import { startTestRunner } from './harness.ts';

const eventsOf = (events: JobEvent[], jobId: string) => events.filter((event) => event.jobId === jobId);
const finalOf = (events: JobEvent[], jobId: string) => eventsOf(events, jobId).filter((e) => e.type === 'completed' || (e.type === 'failed' && !e.willRetry));

describe('GIVEN the emulator and one runner over HTTP', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  const generator = new TestGenerator({ baseResolution: 128, steps: 4 });
  const events: JobEvent[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    runner = await startTestRunner(emulator.env(), generator);
  });
  afterAll(async () => {
    await runner?.stop('test over');
    await emulator?.stop();
  });

  // A chat delivery: its message attaches the grid (storesGridImage).
  const first = imagineJob({ prompt: 'a red fox in snow', seed: 4242, aspect: { w: 3, h: 2 }, delivery: { platform: 'slack', channelId: 'C1' } });

  it('WHEN a job is submitted THEN grid, images, latents and result.json land byte for byte, then exactly one completed', async () => {
    const outcome = await submitJob(emulator.ports, first);
    expect(outcome).toMatchObject({ accepted: true, duplicate: false });
    await collectEvents(emulator.ports, (all) => finalOf(all, first.id).length > 0, 20_000, events);
    const mine = eventsOf(events, first.id);
    expect(mine.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'progress', 'progress', 'progress', 'completed']);
    expect(mine.find((e) => e.type === 'started')).toMatchObject({ runnerId: 'runner-test', attempt: 1 });

    const { blobs } = emulator.ports;
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await blobs.get(jobKeys.result(first.id)))!)));
    const { width, height } = resolveDimensions({ w: 3, h: 2 }, 'medium', 128);
    expect(result).toMatchObject({ jobId: first.id, kind: 'imagine', width, height, runnerId: 'runner-test', model: { name: 'test-generator', variant: 'deterministic' } });
    expect(result.grid).toEqual({ key: jobKeys.grid(first.id), width: width * 2, height: height * 2, contentType: 'image/png' });
    // The completed event carries the same record, so the dispatcher need not read result.json back.
    expect(mine.find((e) => e.type === 'completed')).toMatchObject({ resultKey: jobKeys.result(first.id), result });

    const expectedImages = [0, 1, 2, 3].map((i) => expectedImage(deriveSeed(4242, i), width, height, 'a red fox in snow'));
    const latentBytes = expectedLatent(deriveSeed(4242, 0), width, height).data.length * 4;
    for (const [offset, image] of result.images.entries()) {
      const seed = deriveSeed(4242, offset);
      expect(image).toMatchObject({ index: offset + 1, key: jobKeys.image(first.id, offset + 1), width, height, seed });
      const decoded = await decodeToRgb((await blobs.get(image.key))!);
      expect(Buffer.from(decoded.data).equals(Buffer.from(expectedImages[offset]!.data))).toBe(true);
      // All four latents share one object, each at its offset.
      expect(image.latent).toMatchObject({ key: jobKeys.latents(first.id), offset: offset * latentBytes });
      const stored = (await blobs.get(image.latent.key))!;
      expect(stored.byteLength).toBe(4 * latentBytes);
      expect(Buffer.from(stored.subarray(offset * latentBytes, (offset + 1) * latentBytes)).equals(Buffer.from(encodeLatents([expectedLatent(seed, width, height)]).bytes))).toBe(true);
      expect(image.latent.dims).toEqual(expectedLatent(seed, width, height).dims);
    }
    const grid = await decodeToRgb((await blobs.get(result.grid!.key))!);
    expect(Buffer.from(grid.data).equals(Buffer.from(composeGrid(expectedImages).data))).toBe(true);
    expect(await blobs.list(`pending/web/user-a/`)).toEqual([]);
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  it('WHEN a web playground job is submitted THEN its images, latents and result.json land but no grid image (the page lays out the tiles)', async () => {
    const web = imagineJob({ prompt: 'a red fox in snow', seed: 4242, aspect: { w: 3, h: 2 } });
    await submitJob(emulator.ports, web);
    await collectEvents(emulator.ports, (all) => finalOf(all, web.id).length > 0, 20_000, events);
    expect(finalOf(events, web.id)[0]?.type).toBe('completed');
    const { blobs } = emulator.ports;
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await blobs.get(jobKeys.result(web.id)))!)));
    expect(result.grid).toBeUndefined();
    expect(await blobs.exists(jobKeys.grid(web.id))).toBe(false);
    const { width, height } = resolveDimensions({ w: 3, h: 2 }, 'medium', 128);
    for (const [offset, image] of result.images.entries()) {
      const decoded = await decodeToRgb((await blobs.get(image.key))!);
      expect(Buffer.from(decoded.data).equals(Buffer.from(expectedImage(deriveSeed(4242, offset), width, height, 'a red fox in snow').data))).toBe(true);
      expect(await blobs.exists(image.latent.key)).toBe(true);
    }
  });

  it('WHEN the model has a guide (the demo bundle) THEN result.json names the unknown words and the unsupported style, which is not applied', async () => {
    generator.guide = { vocabulary: { summary: 'the demo model draws shapes and colours', words: ['a', 'red', 'in'] }, styles: {} };
    try {
      const job = imagineJob({ prompt: 'a red fox in snow', seed: 77 });
      const styled = { ...job, request: { ...job.request, style: 'photo' } };
      await submitJob(emulator.ports, styled);
      await collectEvents(emulator.ports, (all) => finalOf(all, styled.id).length > 0, 20_000, events);
      const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(styled.id)))!)));
      expect(result.notes).toEqual(["the demo model draws shapes and colours; it doesn't know 'fox' or 'snow'", "this model has no 'photo' style, so it was drawn without it"]);
      expect(generator.requests.at(-1)).toMatchObject({ prompt: 'a red fox in snow', negativePrompt: '' });
    } finally {
      delete generator.guide;
    }
  });

  it('WHEN a variation of tile 2 is submitted THEN the generator gets the stored latent and the parent size', async () => {
    const variation = childJob(first, 'variation', 2, `${first.id}-v2`);
    await submitJob(emulator.ports, variation);
    await collectEvents(emulator.ports, (all) => finalOf(all, variation.id).length > 0, 20_000, events);
    expect(finalOf(events, variation.id)[0]?.type).toBe('completed');
    const request = generator.requests.at(-1)!;
    const { width, height } = resolveDimensions({ w: 3, h: 2 }, 'medium', 128);
    expect(request).toMatchObject({ kind: 'variation', width, height, seeds: [0, 1, 2, 3].map((i) => deriveSeed(777, i)) });
    if (request.kind !== 'variation') throw new Error('expected a variation request');
    expect(Array.from(request.source.data)).toEqual(Array.from(expectedLatent(deriveSeed(4242, 1), width, height).data));
  });

  it('WHEN an upscale of tile 4 is submitted THEN one image twice the size, seeded like the tile', async () => {
    const upscale = childJob(first, 'upscale', 4, `${first.id}-u4`);
    await submitJob(emulator.ports, upscale);
    await collectEvents(emulator.ports, (all) => finalOf(all, upscale.id).length > 0, 20_000, events);
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(upscale.id)))!)));
    const { width, height } = resolveDimensions({ w: 3, h: 2 }, 'medium', 128);
    expect(result.images).toHaveLength(1);
    expect(result).toMatchObject({ width: width * UPSCALE_FACTOR, height: height * UPSCALE_FACTOR, grid: { width: width * UPSCALE_FACTOR } });
    expect(result.images[0]!.seed).toBe(deriveSeed(4242, 3));
  });

  it('WHEN a variation names a parent with no result THEN failed parent_missing, no retry, nothing left on the queues', async () => {
    const orphan = childJob(imagineJob({ id: 'never-ran' }), 'variation', 1, `${first.id}-orphan`);
    await submitJob(emulator.ports, orphan);
    await collectEvents(emulator.ports, (all) => finalOf(all, orphan.id).length > 0, 20_000, events);
    expect(finalOf(events, orphan.id)[0]).toMatchObject({ type: 'failed', code: 'parent_missing', willRetry: false });
    expect((finalOf(events, orphan.id)[0] as { reason: string }).reason).toContain('never-ran');
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(await emulator.dlqBodies()).toEqual([]);
  });

  it('WHEN a finished job is delivered again THEN nothing it computes is kept, no second started or completed appears', async () => {
    // The model starts while the runner checks for result.json, and is stopped when the check says done.
    const resultBefore = await emulator.ports.blobs.get(jobKeys.result(first.id));
    const gridBefore = await emulator.ports.blobs.get(jobKeys.grid(first.id));
    // A redelivery (runner died after result.json, before deleting) is the same body again; a plain
    // send of the same job would be dropped by the FIFO queue's deduplication instead.
    await emulator.sendRaw(JSON.stringify(first), 'web:user-a');
    await settleEvents(emulator, events);
    expect(await emulator.ports.blobs.get(jobKeys.result(first.id))).toEqual(resultBefore);
    expect(await emulator.ports.blobs.get(jobKeys.grid(first.id))).toEqual(gridBefore);
    expect(eventsOf(events, first.id).filter((e) => e.type === 'started')).toHaveLength(1);
    expect(eventsOf(events, first.id).filter((e) => e.type === 'completed')).toHaveLength(1);
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(runner.worker.counters.skippedDone).toBe(1);
  });

  it('WHEN cancel.json exists before the job starts THEN failed cancelled, never shown as started, nothing stored', async () => {
    const job = imagineJob({ userId: 'user-c' });
    await emulator.ports.blobs.put(jobKeys.cancel(job.id), '{}', 'application/json');
    await submitJob(emulator.ports, job);
    await collectEvents(emulator.ports, (all) => finalOf(all, job.id).length > 0, 20_000, events);
    await settleEvents(emulator, events);
    // The model may have started while the runner checked for cancel.json; it is stopped and nothing is announced.
    expect(eventsOf(events, job.id).map((e) => e.type)).toEqual(['queued', 'failed']);
    expect(finalOf(events, job.id)[0]).toMatchObject({ type: 'failed', code: 'cancelled', willRetry: false });
    expect(await emulator.ports.blobs.exists(jobKeys.result(job.id))).toBe(false);
    expect(await emulator.ports.blobs.list(`jobs/${job.id}/image`)).toEqual([]);
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
  });
});
