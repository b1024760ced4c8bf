/**
 * Classifier-free guidance with CFG rescale, spec §3.3, kept apart from the sampler (the loop calls it between the
 * model and `GdfSampler.step`). Port of the guidance lines of `GDF.sample` in
 * https://github.com/Stability-AI/StableCascade/blob/7a7d341f/gdf/__init__.py:
 *
 *   ε_cfg = lerp(ε_u, ε_c, scale) = ε_u + scale·(ε_c − ε_u)
 *   ρ > 0: ε = ρ·ε_cfg·std(ε_c)/(std(ε_cfg) + 1e-9) + (1 − ρ)·ε_cfg      (std: unbiased, over the whole tensor)
 *
 * Since both terms are multiples of ε_cfg, the rescale is a single factor per std scope. With ρ = 0 this is diffusers'
 * plain lerp. Arithmetic is float64, results float32; two passes over the data, no allocation when `out` is given.
 *
 * Batches. The model output of a CFG call is [cond ; uncond] along the batch, so for B images
 * `epsCond = output.subarray(0, half)` and `epsUncond = output.subarray(half)` (zero-copy). The reference takes the
 * std over everything in the half-batch, i.e. over all B images at once ('half-batch' scope = `applyCfg` on the whole
 * halves): an image's result then depends on its batch-mates. 'per-image' takes the std per image, so each image
 * equals what a batch-of-one run gives — what regenerating one tile of a grid on its own needs. Both coincide for B = 1.
 *
 * @example
 *   const half = output.length / 2;
 *   const eps = applyCfg(output.subarray(0, half), output.subarray(half), 4, 0.7, epsBuffer); // [B, C, H, W]
 */

export type CfgStdScope = 'half-batch' | 'per-image';

const STD_EPSILON = 1e-9;

/** Guided ε for one std scope: the whole of `epsCond`/`epsUncond` (one image, or a half-batch as the reference does). */
export function applyCfg(
  epsCond: Float32Array,
  epsUncond: Float32Array,
  scale: number,
  rho: number,
  out: Float32Array = new Float32Array(epsCond.length),
): Float32Array {
  checkSizes(epsCond, epsUncond, out);
  checkParameters(scale, rho);
  guideRange(epsCond, epsUncond, scale, rho, out, 0, epsCond.length);
  return out;
}

/**
 * Guided ε for `batch` images laid out back to back in each half; `stdScope` chooses where the rescale std is taken
 * (file header). 'half-batch' equals `applyCfg`.
 */
export function applyCfgBatch(
  epsCond: Float32Array,
  epsUncond: Float32Array,
  batch: number,
  scale: number,
  rho: number,
  stdScope: CfgStdScope,
  out: Float32Array = new Float32Array(epsCond.length),
): Float32Array {
  checkSizes(epsCond, epsUncond, out);
  checkParameters(scale, rho);
  if (!Number.isInteger(batch) || batch < 1 || epsCond.length % batch !== 0) {
    throw new Error(`applyCfgBatch: ${epsCond.length} values do not split into ${batch} images`);
  }
  if (stdScope === 'half-batch') {
    guideRange(epsCond, epsUncond, scale, rho, out, 0, epsCond.length);
    return out;
  }
  const per = epsCond.length / batch;
  for (let image = 0; image < batch; image++) guideRange(epsCond, epsUncond, scale, rho, out, image * per, (image + 1) * per);
  return out;
}

/** Unbiased standard deviation of values with the given count, sum and sum of squares (float64). */
function unbiasedStd(count: number, sum: number, sumSquares: number): number {
  if (count < 2) return Number.NaN; // torch.std of one element is NaN too
  const mean = sum / count;
  return Math.sqrt(Math.max(0, (sumSquares - sum * mean) / (count - 1)));
}

function guideRange(
  cond: Float32Array,
  uncond: Float32Array,
  scale: number,
  rho: number,
  out: Float32Array,
  start: number,
  end: number,
): void {
  // Values are shifted by the range's first element before summing squares, so the one-pass variance stays accurate
  // even if the data has a large common offset.
  const condShift = cond[start] ?? 0;
  let condSum = 0;
  let condSquares = 0;
  let cfgSum = 0;
  let cfgSquares = 0;
  let cfgShift = Number.NaN;
  for (let k = start; k < end; k++) {
    const c = cond[k]!;
    const u = uncond[k]!;
    out[k] = u + scale * (c - u);
    if (rho > 0) {
      const guided = out[k]!; // statistics of the float32 tensor, as the reference computes them
      if (k === start) cfgShift = guided;
      const dc = c - condShift;
      const dg = guided - cfgShift;
      condSum += dc;
      condSquares += dc * dc;
      cfgSum += dg;
      cfgSquares += dg * dg;
    }
  }
  if (rho <= 0) return;
  const count = end - start;
  const ratio = unbiasedStd(count, condSum, condSquares) / (unbiasedStd(count, cfgSum, cfgSquares) + STD_EPSILON);
  const factor = rho * ratio + (1 - rho);
  for (let k = start; k < end; k++) out[k] = out[k]! * factor;
}

function checkSizes(epsCond: Float32Array, epsUncond: Float32Array, out: Float32Array): void {
  if (epsUncond.length !== epsCond.length || out.length !== epsCond.length) {
    throw new Error(
      `CFG: epsCond has ${epsCond.length} values, epsUncond ${epsUncond.length}, out ${out.length}; they must match`,
    );
  }
}

function checkParameters(scale: number, rho: number): void {
  if (!Number.isFinite(scale)) throw new Error(`CFG: scale must be a finite number, got ${scale}`);
  if (!(rho >= 0 && rho <= 1)) throw new Error(`CFG: rho must be in [0, 1], got ${rho}`);
}
