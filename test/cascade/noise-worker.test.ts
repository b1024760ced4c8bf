/**
 * Noise drawn ahead on a worker thread (noise-worker.ts): bit for bit the seeded sources' numbers for any sequence of
 * fill sizes, several streams on one worker, the generation's stage noise with and without the worker, and the failure
 * paths: a draw that throws there, a worker that exits or never answers, dispose (the thread ends; fills then throw).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NoiseWorker, noiseWorkerSource } from '../../gpu-runner/cascade/noise-worker.ts';
import { deriveSeed } from '../../gpu-runner/cascade/noise.ts';
import { NOISE_STREAM, seededStageNoise, tileNoise } from '../../gpu-runner/cascade/stages/seeds.ts';

/** Bit-for-bit equality (fast on 10⁵ values, where toEqual is not): the first differing index, or none. */
function expectSameBits(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  expect(a.findIndex((word, i) => word !== b[i])).toBe(-1);
}
const workers: NoiseWorker[] = [];
function newWorker(options?: ConstructorParameters<typeof NoiseWorker>[0]): NoiseWorker {
  const worker = new NoiseWorker(options);
  workers.push(worker);
  return worker;
}
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.dispose()));
});

describe('NoiseWorker streams', () => {
  // Per-image sizes: repeats (prefetch hits), smaller (leftovers kept), larger (rest drawn at once), zero, growth.
  const PER_IMAGE = [1000, 1000, 1000, 300, 300, 2500, 7, 0, 2500, 2500, 65_536, 65_536, 10, 65_536, 1];

  it.each([1, 3])('GIVEN %i image(s) and mixed fill sizes THEN every fill equals tileNoise bit for bit', (images) => {
    const seeds = Array.from({ length: images }, (_, i) => deriveSeed(0xfffffff0, i));
    const worker = newWorker();
    const prefetched = worker.open(seeds, NOISE_STREAM.decoderSteps);
    const reference = tileNoise(seeds, NOISE_STREAM.decoderSteps);
    prefetched.prefetch(images * 333);
    for (const [k, per] of PER_IMAGE.entries()) {
      // Hints, right or wrong, never change the numbers.
      if (k % 4 === 1) prefetched.prefetch(images * per);
      if (k % 4 === 2) prefetched.prefetch(images * (per + 17));
      const got = new Float32Array(images * per);
      const want = new Float32Array(images * per);
      prefetched.fill(got);
      reference.fill(want);
      expectSameBits(got, want);
    }
    prefetched.close();
  });

  it('GIVEN two generations\' streams interleaved on one worker THEN each keeps its own sequence', () => {
    const worker = newWorker();
    const a = worker.open([7, 8], NOISE_STREAM.priorSteps);
    const b = worker.open([7, 8], NOISE_STREAM.decoderSteps);
    const refA = tileNoise([7, 8], NOISE_STREAM.priorSteps);
    const refB = tileNoise([7, 8], NOISE_STREAM.decoderSteps);
    for (const n of [64, 64, 2048, 64]) {
      for (const [source, ref] of [[a, refA], [b, refB]] as const) {
        const got = new Float32Array(n);
        const want = new Float32Array(n);
        source.fill(got);
        ref.fill(want);
        expectSameBits(got, want);
      }
    }
    a.close();
    expect(() => a.fill(new Float32Array(2))).toThrow(/stream closed/);
    const more = new Float32Array(64);
    const want = new Float32Array(64);
    b.fill(more);
    refB.fill(want);
    expectSameBits(more, want);
  });

  it('GIVEN seededStageNoise with a worker THEN every stream equals the one without', () => {
    const seeds = [deriveSeed(42, 0), deriveSeed(42, 1)];
    const worker = newWorker();
    const withWorker = seededStageNoise(seeds, worker);
    const plain = seededStageNoise(seeds);
    expect(worker.running).toBe(true);
    for (const name of ['priorInit', 'priorSteps', 'decoderInit', 'decoderSteps', 'variation'] as const) {
      for (const n of [512, 512, 98]) {
        const got = new Float32Array(n);
        const want = new Float32Array(n);
        withWorker[name].fill(got);
        plain[name].fill(want);
        expectSameBits(got, want);
      }
    }
    withWorker.release();
    expect(() => withWorker.decoderSteps.fill(new Float32Array(2))).toThrow(/stream closed/);
  });

  it('GIVEN a size that does not split evenly, or a bad seed THEN it throws as the seeded sources do', () => {
    const worker = newWorker();
    expect(() => worker.open([1, 2], 3).fill(new Float32Array(3))).toThrow(/equal items/);
    expect(() => worker.open([-1], 3)).toThrow(/noise seed must be an integer/);
  });
});

describe('NoiseWorker failures and lifetime', () => {
  it('GIVEN a draw that throws on the worker THEN fill throws its message, and the stream is closed', () => {
    const worker = newWorker({ source: noiseWorkerSource('({ create: () => ({ fill() { throw new Error("ziggurat exploded"); } }) })') });
    const noise = worker.open([1], 3);
    expect(() => noise.fill(new Float32Array(16))).toThrow(/the draw failed: Error: ziggurat exploded/);
    expect(() => noise.fill(new Float32Array(16))).toThrow(/stream closed/);
  });

  it('GIVEN a worker that never answers THEN fill gives up after the timeout', () => {
    const worker = newWorker({ source: 'setInterval(() => {}, 1000);', timeoutMs: 200 });
    const noise = worker.open([1], 3);
    const t0 = performance.now();
    expect(() => noise.fill(new Float32Array(16))).toThrow(/no answer in 200 ms/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('GIVEN a worker that exits THEN later streams throw naming its exit code', async () => {
    const worker = newWorker({ source: 'process.exit(3);' });
    worker.open([1], 3);
    await vi.waitFor(() => expect(() => worker.open([1], 3)).toThrow(/exited \(code 3\)/), { timeout: 10_000 });
    expect(worker.running).toBe(false);
  });

  it('GIVEN dispose THEN the thread ends, fills throw "disposed", and dispose again is harmless', async () => {
    const worker = newWorker();
    const noise = worker.open([5], NOISE_STREAM.decoderSteps);
    noise.fill(new Float32Array(1024)); // a prefetch is now in flight
    expect(worker.running).toBe(true);
    await worker.dispose();
    expect(worker.running).toBe(false);
    expect(() => noise.fill(new Float32Array(1024))).toThrow(/disposed/);
    expect(() => worker.open([5], 3)).toThrow(/disposed/);
    noise.close();
    await worker.dispose();
  });
});
