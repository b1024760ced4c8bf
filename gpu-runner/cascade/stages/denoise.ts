/**
 * The denoising loop shared by Stage C and Stage B: one graph call per step over the whole batch, doubled for
 * classifier-free guidance as [cond; uncond] (spec §3.6), guidance (guidance.ts), then the sampler's update
 * (scheduler.ts) in place. Cancellation is checked before every step. After the first step nothing large is allocated.
 */
import { applyCfgBatch } from '../guidance.ts';
import type { TensorDtype } from '../manifest.ts';
import type { NoiseSource } from '../noise.ts';
import { tensor, type Tensor } from '../runtime.ts';
import type { GraphRunner } from '../sessions.ts';
import type { GdfSampler } from '../scheduler.ts';
import { FloatFeed, FloatFetch } from './io.ts';

export interface DenoiseOptions {
  sampler: GdfSampler;
  /** Initial latents of `batch` images, back to back. Not modified. */
  init: Float32Array;
  batch: number;
  /** Guidance scale; ≤ 1 runs the conditional half only (no batch doubling). */
  cfg: number;
  /** CFG rescale ρ (0 = plain lerp). */
  rho: number;
  /** Per-step noise for the whole batch (the sampler draws one tensor per step). */
  noise: NoiseSource;
  /**
   * Runs the graph on `rows` stacked samples (batch, or 2·batch when guided: conditional rows first) at time ratio `r`;
   * returns ε for those rows in a buffer that stays valid until the next call.
   */
  predict: (samples: Float32Array, rows: number, r: number) => Promise<Float32Array>;
  signal?: AbortSignal | undefined;
  /** After each step, with the sampler's x̂0 estimate (sampler-owned: copy to keep). */
  onStep?: ((step: number, predictedX0: Float32Array) => void | Promise<void>) | undefined;
}

/** An ε-predicting graph (Stage C or Stage B): its sample/timestep/output names and the feeds that never change. */
export interface EpsGraph {
  session: GraphRunner;
  dtype: TensorDtype;
  names: { sample: string; timestepRatio: string };
  output: string;
  /** [channels, height, width] of one latent row. */
  rowDims: readonly [number, number, number];
  /** Conditioning feeds built once per request (text, pooled, clip_img, effnet). */
  conditioning: Readonly<Record<string, Tensor>>;
}

/** The `predict` step for `denoise` over one graph; its buffers are reused across steps. */
export function epsPredictor(graph: EpsGraph, rows: number): DenoiseOptions['predict'] {
  const sampleFeed = new FloatFeed(graph.dtype);
  const timestep = new Float32Array(rows);
  const fetch = new FloatFetch(graph.dtype);
  return async (samples, n, r) => {
    timestep.fill(r);
    const dims = [n, ...graph.rowDims];
    await graph.session.run(
      {
        [graph.names.sample]: sampleFeed.tensor(samples, dims),
        [graph.names.timestepRatio]: tensor(timestep, [n]),
        ...graph.conditioning,
      },
      { [graph.output]: fetch.tensor(dims) },
    );
    return fetch.read();
  };
}

export function isGuided(cfg: number): boolean {
  return cfg > 1;
}

export async function denoise(o: DenoiseOptions): Promise<Float32Array> {
  const n = o.init.length;
  const guided = isGuided(o.cfg);
  const x = Float32Array.from(o.init);
  const stacked = guided ? new Float32Array(2 * n) : x;
  const guidedEps = guided ? new Float32Array(n) : undefined;
  // Every step draws n values: a drawing-ahead source prepares the first ones during the first graph call.
  o.noise.prefetch?.(n);
  for (let i = 0; i < o.sampler.steps; i++) {
    o.signal?.throwIfAborted();
    if (guided) {
      stacked.set(x, 0);
      stacked.set(x, n);
    }
    const eps = await o.predict(stacked, guided ? 2 * o.batch : o.batch, o.sampler.timestepRatio(i));
    if (eps.length !== (guided ? 2 * n : n)) {
      throw new Error(`denoise: the model returned ${eps.length} values for ${guided ? 2 * n : n} expected`);
    }
    // Per-image std for the rescale: a tile's result does not depend on which other tiles share its batch.
    const e = guidedEps ? applyCfgBatch(eps.subarray(0, n), eps.subarray(n), o.batch, o.cfg, o.rho, 'per-image', guidedEps) : eps;
    o.sampler.step(i, x, e, o.noise, x);
    await o.onStep?.(i, o.sampler.predictedX0);
  }
  return x;
}
