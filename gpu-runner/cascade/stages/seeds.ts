/**
 * Which noise each image draws: one seeded source per image (its seed from the request) and per purpose (stream),
 * so tile i of a grid gets the same numbers whether it is generated with others or alone, and changing one stage's
 * step count never shifts another stage's noise.
 */
import { createBatchNoise, createSeededNoise, type NoiseSource } from '../noise.ts';
import type { NoiseWorker } from '../noise-worker.ts';

export const NOISE_STREAM = {
  priorInit: 0,
  priorSteps: 1,
  decoderInit: 2,
  decoderSteps: 3,
  /** Re-noising of a stored latent for variations. */
  variation: 4,
  chaos: 5,
  chaosPooled: 6,
} as const;

/** One source per image; `fill` splits the batch buffer into equal per-image chunks. */
export function tileNoise(seeds: readonly number[], stream: number): NoiseSource {
  return createBatchNoise(seeds.map((seed) => createSeededNoise(seed, stream)));
}

/** The noise sources of one generation; tests replace them with recorded tensors. */
export interface StageNoise {
  priorInit: NoiseSource;
  priorSteps: NoiseSource;
  decoderInit: NoiseSource;
  decoderSteps: NoiseSource;
  variation: NoiseSource;
}

/**
 * The seeded sources of one generation. With a `worker`, the per-step streams (one draw per denoising step, the same
 * size every step: ≈ 1 M values per Stage B step for a 2×2 grid) are drawn ahead on it while onnxruntime holds the JS
 * thread (noise-worker.ts), with the same numbers; `release` ends them when the generation ends.
 */
export function seededStageNoise(seeds: readonly number[], worker?: NoiseWorker): StageNoise & { release: () => void } {
  const prefetched = worker ? [worker.open(seeds, NOISE_STREAM.priorSteps), worker.open(seeds, NOISE_STREAM.decoderSteps)] : [];
  const [priorSteps = tileNoise(seeds, NOISE_STREAM.priorSteps), decoderSteps = tileNoise(seeds, NOISE_STREAM.decoderSteps)] = prefetched;
  return {
    priorInit: tileNoise(seeds, NOISE_STREAM.priorInit),
    priorSteps,
    decoderInit: tileNoise(seeds, NOISE_STREAM.decoderInit),
    decoderSteps,
    variation: tileNoise(seeds, NOISE_STREAM.variation),
    release: () => prefetched.forEach((stream) => stream.close()),
  };
}

/** `count` values of N(0, 1) from `source`. */
export function draw(source: NoiseSource, count: number): Float32Array {
  const out = new Float32Array(count);
  source.fill(out);
  return out;
}
