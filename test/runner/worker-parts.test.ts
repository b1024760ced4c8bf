import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Backoff, sleep } from '../../core/backoff.ts';
import { composeGrid, decodeToRgb, encodePng } from '../../gpu-runner/imaging.ts';
import { expectedImage } from '../support/test-generator.ts';
import { expectSameImage } from '../support/same-bytes.ts';
import { buildGenerateRequest, decodeLatent, encodeLatents, loadParentTile } from '../../gpu-runner/worker-request.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { ParentMissingError } from '../../core/errors.ts';
import { MemoryBlobStore } from '../bot/support/memory-ports.ts';
import { makeJob, makeResult } from '../bot/support/fixtures.ts';
import { Worker } from '../../gpu-runner/worker.ts';
import { deriveSeed } from '../../gpu-runner/cascade/noise.ts';
import { loadConfig } from '../../core/config.ts';
import type { BlobStore, EventBus, JobQueue } from '../../core/ports.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { childJob, imagineJob } from './fixtures.ts';

describe('Backoff', () => {
  it('GIVEN repeated failures THEN delays double up to the cap and reset after a success', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('GIVEN any random draw THEN a delay stays between half the ceiling and the ceiling', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.integer({ min: 1, max: 12 }), (draw, attempts) => {
        const backoff = new Backoff({ initialMs: 250, maxMs: 15_000, random: () => draw });
        let delay = 0;
        for (let i = 0; i < attempts; i += 1) delay = backoff.next();
        const ceiling = Math.min(15_000, 250 * 2 ** (attempts - 1));
        expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
        expect(delay).toBeLessThanOrEqual(ceiling);
      }),
    );
  });

  it('GIVEN an aborted signal THEN sleep returns without waiting out the delay', async () => {
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).resolves.toBeUndefined();
  });
});

describe('composeGrid', () => {
  const solid = (value: number, width = 2, height = 1) => ({ width, height, data: new Uint8Array(width * height * 3).fill(value) });

  it('GIVEN four tiles THEN they sit left to right, top to bottom', () => {
    const grid = composeGrid([solid(1), solid(2), solid(3), solid(4)]);
    expect([grid.width, grid.height]).toEqual([4, 2]);
    expect(Array.from(grid.data.filter((_, i) => i % 3 === 0))).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it('GIVEN two tiles THEN the empty cells are black; one tile is returned as it is', () => {
    expect(Array.from(composeGrid([solid(9), solid(8)]).data.filter((_, i) => i % 3 === 0))).toEqual([9, 9, 8, 8, 0, 0, 0, 0]);
    const single = solid(5);
    expect(composeGrid([single])).toBe(single);
  });

  it('GIVEN bad input THEN the error says what was expected', () => {
    expect(() => composeGrid([])).toThrow('composeGrid needs at least one image');
    expect(() => composeGrid([solid(1), solid(1, 4, 4)])).toThrow('grid images must share one size: expected 2×1, got 4×4');
    expect(() => composeGrid([1, 2, 3, 4, 5].map((v) => solid(v)))).toThrow('at most 4 images, got 5');
    expect(() => composeGrid([{ width: 2, height: 2, data: new Uint8Array(3) }])).toThrow('RGB image 2×2 needs 12 bytes, got 3');
  });
});

describe('encodePng', () => {
  const gridOf = (side: number) => composeGrid([1, 2, 3, 4].map((seed) => expectedImage(seed, side, side, 'grid')));

  it('GIVEN an image up to 1024² (a tile, a grid of 256² tiles) THEN it is lossless at the quicker zlib level (larger than level 2)', async () => {
    for (const image of [expectedImage(7, 256, 256, 'tile'), gridOf(256)]) {
      const quick = await encodePng(image);
      expectSameImage(await decodeToRgb(quick), image);
      expect(quick.byteLength).toBeGreaterThan((await encodePng(image, 2)).byteLength);
    }
  });

  it('GIVEN an image over 1024² THEN it is encoded at level 2', async () => {
    const grid = gridOf(520);
    const bytes = await encodePng(grid);
    expect(Buffer.from(bytes).equals(Buffer.from(await encodePng(grid, 2)))).toBe(true);
    expectSameImage(await decodeToRgb(bytes), grid);
  });
});

describe('buildGenerateRequest', () => {
  it('GIVEN an imagine job with a style THEN size from the base, four derived seeds and the styled prompt', () => {
    const job = imagineJob({ seed: 99, aspect: { w: 16, h: 9 }, prompt: 'fox' });
    const styled = { ...job, request: { ...job.request, style: 'anime', steps: 12 } };
    const request = buildGenerateRequest(styled, 1024);
    expect(request).toMatchObject({ kind: 'imagine', width: 1344, height: 768, steps: 12, seeds: [0, 1, 2, 3].map((i) => deriveSeed(99, i)) });
    expect(request.prompt).toBe('fox, anime key visual, vibrant colors, clean line art');
  });

  it('GIVEN a variation or upscale without its parent loaded THEN it refuses', () => {
    const parent = imagineJob();
    expect(() => buildGenerateRequest(childJob(parent, 'upscale', 1, 'u-1'), 1024)).toThrow('upscale job u-1 needs its parent tile loaded first');
  });

  it('GIVEN any float32 values THEN the little-endian latent encoding round-trips exactly', () => {
    fc.assert(
      fc.property(fc.float32Array({ maxLength: 64, noDefaultInfinity: false }), (values) => {
        const { bytes } = encodeLatents([{ dims: [1, 1, values.length || 1], data: values }]);
        expect(bytes.byteLength).toBe(values.length * 4);
        expect(Array.from(decodeLatent(bytes)).map((v) => Object.is(v, -0) ? 0 : v)).toEqual(Array.from(values).map((v) => Object.is(v, -0) ? 0 : v));
      }),
    );
    expect(Array.from(encodeLatents([{ dims: [1, 1, 1], data: new Float32Array([1]) }]).bytes)).toEqual([0, 0, 0x80, 0x3f]);
  });

  it('GIVEN latents of different sizes THEN they are stored back to back and each offset points at its own bytes', () => {
    const latents = [new Float32Array([1, 2]), new Float32Array([3, 4, 5, 6]), new Float32Array([7])].map((data) => ({ dims: [1, 1, data.length] as [number, number, number], data }));
    const { bytes, offsets } = encodeLatents(latents);
    expect(offsets).toEqual([0, 8, 24]);
    expect(Array.from(decodeLatent(bytes))).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(decodeLatent(bytes.subarray(offsets[1], offsets[2])))).toEqual([3, 4, 5, 6]);
  });
});

describe('loadParentTile', () => {
  const dims: [number, number, number] = [2, 1, 2];
  const values = (first: number) => new Float32Array([first, first + 1, first + 2, first + 3]);

  function parentWith(latentKey: (index: number) => string, offset: (index: number) => number | undefined) {
    const blobs = new MemoryBlobStore();
    const job = makeJob();
    const result = makeResult(job);
    result.images = result.images.map((image) => {
      const at = offset(image.index);
      return { ...image, latent: { key: latentKey(image.index), dims, dtype: 'float32' as const, ...(at === undefined ? {} : { offset: at }) } };
    });
    blobs.putJson(jobKeys.result(job.id), result);
    return { blobs, job };
  }

  it('GIVEN a result whose latents share one object THEN tile 3 gets the bytes at its offset', async () => {
    const { blobs, job } = parentWith(() => 'jobs/p/latents.f32', (index) => (index - 1) * 16);
    const { bytes } = encodeLatents([1, 2, 3, 4].map((index) => ({ dims, data: values(index * 10) })));
    await blobs.put('jobs/p/latents.f32', bytes);
    const tile = await loadParentTile(blobs, { jobId: job.id, index: 3 });
    expect(tile.latent).toEqual({ dims, data: values(30) });
  });

  it('GIVEN a result written before latents were combined (one object each, no offset) THEN its latent still loads', async () => {
    const { blobs, job } = parentWith((index) => `jobs/p/latent-${index}.f32`, () => undefined);
    await blobs.put('jobs/p/latent-2.f32', encodeLatents([{ dims, data: values(20) }]).bytes);
    expect((await loadParentTile(blobs, { jobId: job.id, index: 2 })).latent.data).toEqual(values(20));
  });

  it('GIVEN an older per-image latent object of the wrong size THEN parent_missing, as before', async () => {
    const { blobs, job } = parentWith((index) => `jobs/p/latent-${index}.f32`, () => undefined);
    await blobs.put('jobs/p/latent-2.f32', new Uint8Array(20));
    await expect(loadParentTile(blobs, { jobId: job.id, index: 2 })).rejects.toThrow('the latent of image 2 needs bytes 0–16 of jobs/p/latent-2.f32, which has 20');
  });

  it('GIVEN a latents object shorter than the offset says THEN parent_missing names the bytes it lacks', async () => {
    const { blobs, job } = parentWith(() => 'jobs/p/latents.f32', (index) => (index - 1) * 16);
    await blobs.put('jobs/p/latents.f32', new Uint8Array(40));
    const loading = loadParentTile(blobs, { jobId: job.id, index: 3 });
    await expect(loading).rejects.toBeInstanceOf(ParentMissingError);
    await expect(loading).rejects.toThrow('the latent of image 3 needs bytes 32–48 of jobs/p/latents.f32, which has 40');
  });
});

describe('Worker settings', () => {
  it('GIVEN a heartbeat not shorter than the visibility timeout THEN the worker refuses to start', () => {
    const unused = {} as JobQueue & EventBus & BlobStore;
    const settings = { ...loadConfig({}).runner, heartbeatSeconds: 30, visibilitySeconds: 30, runnerId: 'r' };
    expect(() => new Worker({ queue: unused, events: unused, blobs: unused, generator: new TestGenerator(), settings })).toThrow(
      'heartbeat (30 s) must be shorter than the visibility timeout (30 s)',
    );
  });
});
