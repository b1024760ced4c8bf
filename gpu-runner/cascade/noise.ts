/**
 * Standard-normal noise sources (stub: API only, implementation follows).
 */
export interface NoiseSource {
  /** Fills `out` with independent N(0, 1) float32 values. */
  fill(out: Float32Array): void;
}

export interface ReplayNoiseSource extends NoiseSource {
  /** Recorded tensors not yet consumed. */
  readonly remaining: number;
}

export function createSeededNoise(seed: number): NoiseSource {
  void seed;
  throw new Error('createSeededNoise: not implemented yet');
}

export function createReplayNoise(tensors: readonly Float32Array[]): ReplayNoiseSource {
  void tensors;
  throw new Error('createReplayNoise: not implemented yet');
}

/** Seed of item `index` (tile, stage) derived from one uint32 seed; index 0 returns the seed itself. */
export function deriveSeed(seed: number, index: number): number {
  void index;
  return seed;
}
