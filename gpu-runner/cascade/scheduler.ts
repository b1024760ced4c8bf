/**
 * The denoising loop's arithmetic: the gdf formulation of spec §3.5 with switches, which reduces exactly to
 * diffusers' DDPMWuerstchenScheduler (shift 1, rMode 'raw', final 'mu'; guidance is separate, see guidance.ts).
 *
 * Sources (formulas restated from the spec, not copied):
 * - cosine schedule and DDPM step: https://github.com/huggingface/diffusers/blob/58eb52c0803ea9af3abec60841c2a093bdf1f951/src/diffusers/schedulers/scheduling_ddpm_wuerstchen.py
 * - shift, r mapping, DDPM sampler: https://github.com/Stability-AI/StableCascade/blob/7a7d341f/gdf/__init__.py,
 *   gdf/schedulers.py, gdf/noise_conditions.py (CosineTNoiseCond), gdf/samplers.py (DDPMSampler)
 *
 * Numbers are computed in float64 (per-step coefficients once, in the constructor) and stored as float32.
 *
 * Noise alignment: every `step` draws one noise tensor of the sample's size, the last step included (where it is
 * unused), exactly as diffusers and gdf draw one per step; a replay recording therefore holds `steps` tensors.
 *
 * Buffer ownership: `step` writes into `out` when given (it may be `sample` itself: the update is elementwise),
 * otherwise into a buffer the sampler owns and reuses, which stays valid until the next `step` call. `predictedX0`
 * is likewise sampler-owned. Nothing large is allocated after the first step (or after a size change).
 *
 * @example
 *   const sampler = new GdfSampler({ steps: 20, tStart: 1, shift: 2, rho: 0.7, rMode: 'gdf', final: 'x0' });
 *   let x = initialLatents; // N(0, 1)
 *   for (let i = 0; i < sampler.steps; i++) {
 *     const eps = await runPrior(x, sampler.timestepRatio(i)); // after CFG
 *     x = sampler.step(i, x, eps, noise); // last step: x̂0
 *   }
 */
import type { NoiseSource } from './noise.ts';

export interface SamplerConfig {
  /** Number of model calls N ≥ 1. */
  steps: number;
  /** Start of the time grid: 1 for text-to-image; the re-noising level for img2img (spec §4.2). */
  tStart: number;
  /** gdf shift (2 = official Stage C, 1 = unshifted, diffusers). */
  shift: number;
  /** CFG rescale ρ. Not used by the sampler itself; carried so one object holds a stage's settings (guidance.ts). */
  rho: number;
  /** 'gdf': r mapped back from the (shifted, clamped) noise level; 'raw': the grid value, as diffusers feeds it. */
  rMode: 'gdf' | 'raw';
  /** What the last step returns: gdf notebooks keep x̂0, diffusers the noise-free μ. */
  final: 'x0' | 'mu';
  /** Explicit grid of steps + 1 times (e.g. torch's float32 linspace values); default tStart·(1 − i/steps). */
  timesteps?: readonly number[];
}

/** s of the cosine schedule. */
const S = 0.008;
/** cos²(π/2 · s/(1+s)): normaliser so that ᾱ(0) = 1 before clamping. */
const COS_NORM = Math.cos((S / (1 + S)) * Math.PI * 0.5) ** 2;
const ALPHA_MIN = 0.0001;
const ALPHA_MAX = 0.9999;
/** logit(1e-4) and logit(0.9999): gdf's log-SNR clamp, computed once with shift 1. */
const LOG_SNR_MIN = Math.log(ALPHA_MIN / (1 - ALPHA_MIN));
const LOG_SNR_MAX = Math.log(ALPHA_MAX / (1 - ALPHA_MAX));

/** ᾱ(t) of the cosine schedule, clamped to [1e-4, 0.9999] (spec §3.1). */
export function alphaCumprod(t: number): number {
  const alpha = Math.cos(((t + S) / (1 + S)) * Math.PI * 0.5) ** 2 / COS_NORM;
  return Math.min(ALPHA_MAX, Math.max(ALPHA_MIN, alpha));
}

export interface NoiseLevel {
  /** ᾱ after shift and clamp: x_t = a·x0 + b·ε with a = sqrt(ᾱ). */
  alphaBar: number;
  a: number;
  b: number;
  /** r the model sees in rMode 'gdf' (CosineTNoiseCond of the shifted log-SNR). */
  rGdf: number;
}

/** Noise level of time t under `shift` (spec §3.5 point 2). */
export function noiseLevel(t: number, shift = 1): NoiseLevel {
  const base = alphaCumprod(t);
  const logSnr = Math.min(LOG_SNR_MAX, Math.max(LOG_SNR_MIN, Math.log(base / (1 - base)) + 2 * Math.log(1 / shift)));
  const alphaBar = 1 / (1 + Math.exp(-logSnr));
  const oneMinus = 1 / (1 + Math.exp(logSnr));
  const rGdf = (Math.acos(Math.sqrt(alphaBar * COS_NORM)) / (Math.PI * 0.5)) * (1 + S) - S;
  return { alphaBar, a: Math.sqrt(alphaBar), b: Math.sqrt(oneMinus), rGdf };
}

/**
 * Forward noising for img2img: `a·x0 + b·noise` at time t (spec §4.2; the official recipe noises with shift 1).
 * `t` may give one time per batch item; the tensors are then split into that many equal contiguous items.
 */
export function addNoise(
  x0: Float32Array,
  noise: Float32Array,
  t: number | readonly number[],
  shift = 1,
  out: Float32Array = new Float32Array(x0.length),
): Float32Array {
  if (noise.length !== x0.length || out.length !== x0.length) {
    throw new Error(`addNoise: x0 has ${x0.length} values, noise ${noise.length}, out ${out.length}; they must match`);
  }
  const times = typeof t === 'number' ? [t] : t;
  if (times.length === 0 || x0.length % times.length !== 0) {
    throw new Error(`addNoise: ${x0.length} values do not split into ${times.length} batch items`);
  }
  const per = x0.length / times.length;
  times.forEach((time, item) => {
    const { a, b } = noiseLevel(time, shift);
    for (let k = item * per, end = k + per; k < end; k++) out[k] = a * x0[k]! + b * noise[k]!;
  });
  return out;
}

function validate(cfg: SamplerConfig): void {
  const problems: string[] = [];
  if (!Number.isInteger(cfg.steps) || cfg.steps < 1) problems.push(`steps must be an integer ≥ 1, got ${cfg.steps}`);
  if (!(cfg.tStart > 0 && cfg.tStart <= 1)) problems.push(`tStart must be in (0, 1], got ${cfg.tStart}`);
  if (!(cfg.shift > 0)) problems.push(`shift must be > 0, got ${cfg.shift}`);
  if (!(cfg.rho >= 0 && cfg.rho <= 1)) problems.push(`rho must be in [0, 1], got ${cfg.rho}`);
  if (cfg.timesteps && cfg.timesteps.length !== cfg.steps + 1) {
    problems.push(`timesteps must hold steps + 1 = ${cfg.steps + 1} values, got ${cfg.timesteps.length}`);
  }
  if (problems.length) throw new Error(`invalid sampler config: ${problems.join('; ')}`);
}

export class GdfSampler {
  readonly steps: number;
  readonly config: Readonly<SamplerConfig>;
  /** Time grid, steps + 1 values. */
  readonly grid: readonly number[];
  /** Noise levels of the grid points, steps + 1 values. */
  readonly levels: readonly NoiseLevel[];
  // Per step i: x0 = (x − b_i·ε)/a_i; next = a_{i+1}·x0 + epsScale_i·ε + sigma_i·z.
  private readonly invA: Float64Array;
  private readonly bOverA: Float64Array;
  private readonly nextA: Float64Array;
  private readonly epsScale: Float64Array;
  private readonly sigma: Float64Array;
  private outBuffer = new Float32Array(0);
  private x0Buffer = new Float32Array(0);
  private noiseBuffer = new Float32Array(0);

  constructor(cfg: SamplerConfig) {
    validate(cfg);
    this.config = Object.freeze({ ...cfg });
    const n = cfg.steps;
    this.steps = n;
    this.grid = cfg.timesteps ? [...cfg.timesteps] : Array.from({ length: n + 1 }, (_, i) => cfg.tStart * (1 - i / n));
    this.levels = this.grid.map((t) => noiseLevel(t, cfg.shift));
    this.invA = new Float64Array(n);
    this.bOverA = new Float64Array(n);
    this.nextA = new Float64Array(n);
    this.epsScale = new Float64Array(n);
    this.sigma = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const { a, b } = this.levels[i]!;
      const { a: a1, b: b1 } = this.levels[i + 1]!;
      const sigma = (b1 / b) * Math.sqrt(Math.max(0, 1 - (a * a) / (a1 * a1)));
      this.invA[i] = 1 / a;
      this.bOverA[i] = b / a;
      this.nextA[i] = a1;
      this.epsScale[i] = Math.sqrt(Math.max(0, b1 * b1 - sigma * sigma));
      this.sigma[i] = sigma;
    }
  }

  /** r fed to the model at step i (fill the [B] float32 `timestep_ratio` with it). */
  timestepRatio(i: number): number {
    this.checkIndex(i);
    return this.config.rMode === 'gdf' ? this.levels[i]!.rGdf : this.grid[i]!;
  }

  /** x̂0 predicted by the latest step (for previews); sampler-owned, overwritten by the next step. */
  get predictedX0(): Float32Array {
    return this.x0Buffer;
  }

  /**
   * One update from grid point i to i + 1 given the (guided) ε prediction. Draws one noise tensor from `noise` on every
   * step. Returns the next sample; on the last step x̂0 (final 'x0') or the noise-free μ (final 'mu').
   */
  step(i: number, sample: Float32Array, eps: Float32Array, noise: NoiseSource, out?: Float32Array): Float32Array {
    this.checkIndex(i);
    const n = sample.length;
    if (eps.length !== n || (out && out.length !== n)) {
      throw new Error(`GdfSampler.step: sample has ${n} values, eps ${eps.length}${out ? `, out ${out.length}` : ''}; they must match`);
    }
    if (this.x0Buffer.length !== n) {
      this.x0Buffer = new Float32Array(n);
      this.noiseBuffer = new Float32Array(n);
    }
    const z = this.noiseBuffer;
    noise.fill(z);
    const x0 = this.x0Buffer;
    const invA = this.invA[i]!;
    const bOverA = this.bOverA[i]!;
    const last = i === this.steps - 1;
    if (last && this.config.final === 'x0') {
      const target = out ?? x0;
      for (let k = 0; k < n; k++) target[k] = sample[k]! * invA - eps[k]! * bOverA;
      if (target !== x0) x0.set(target);
      return target;
    }
    const target = out ?? this.ownedOutput(n);
    const nextA = this.nextA[i]!;
    const epsScale = this.epsScale[i]!;
    const sigma = last ? 0 : this.sigma[i]!;
    for (let k = 0; k < n; k++) {
      const e = eps[k]!;
      const predicted = sample[k]! * invA - e * bOverA;
      x0[k] = predicted;
      target[k] = nextA * predicted + epsScale * e + sigma * z[k]!;
    }
    return target;
  }

  private ownedOutput(n: number): Float32Array {
    if (this.outBuffer.length !== n) this.outBuffer = new Float32Array(n);
    return this.outBuffer;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.steps) {
      throw new Error(`step index must be an integer in [0, ${this.steps - 1}], got ${i}`);
    }
  }
}
