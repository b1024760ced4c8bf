/**
 * gdf-style sampling loop of spec §3.5 (stub: API only, implementation follows).
 */
import type { NoiseSource } from './noise.js';

export interface SamplerConfig {
  steps: number;
  /** 1 for text-to-image; the img2img re-noising level otherwise. */
  tStart: number;
  shift: number;
  /** CFG rescale ρ, used by guidance (kept here so one object carries a stage's settings). */
  rho: number;
  rMode: 'gdf' | 'raw';
  final: 'x0' | 'mu';
  /** Optional explicit grid of steps + 1 times (e.g. torch's float32 linspace); default tStart·(1 − i/steps). */
  timesteps?: readonly number[];
}

export function alphaCumprod(t: number): number {
  void t;
  throw new Error('alphaCumprod: not implemented yet');
}

export function addNoise(
  x0: Float32Array,
  noise: Float32Array,
  t: number | readonly number[],
  shift = 1,
  out: Float32Array = new Float32Array(x0.length),
): Float32Array {
  void noise;
  void t;
  void shift;
  return out;
}

export class GdfSampler {
  readonly steps: number;
  constructor(readonly config: SamplerConfig) {
    this.steps = config.steps;
  }
  timestepRatio(i: number): number {
    void i;
    throw new Error('GdfSampler.timestepRatio: not implemented yet');
  }
  step(i: number, sample: Float32Array, eps: Float32Array, noise: NoiseSource): Float32Array {
    void i;
    void eps;
    void noise;
    return sample;
  }
}
