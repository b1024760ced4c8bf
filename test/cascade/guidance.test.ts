/** CFG and CFG rescale (spec §3.3): lerp, whole-tensor unbiased std, half-batch vs per-image scope. */
import { describe, expect, it } from 'vitest';
import { createSeededNoise } from '../../gpu-runner/cascade/noise.ts';
import { applyCfg, applyCfgBatch } from '../../gpu-runner/cascade/guidance.ts';

function normals(seed: number, n: number, scale = 1, offset = 0): Float32Array {
  const out = new Float32Array(n);
  createSeededNoise(seed).fill(out);
  return out.map((v) => v * scale + offset);
}

/** Straightforward two-pass reference of the gdf formula, float64 throughout. */
function referenceCfg(cond: ArrayLike<number>, uncond: ArrayLike<number>, scale: number, rho: number): number[] {
  const guided = Array.from(cond, (c, k) => uncond[k]! + scale * (c - uncond[k]!));
  const std = (values: number[]) => {
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
  };
  const ratio = std(Array.from(cond)) / (std(guided) + 1e-9);
  return guided.map((g) => rho * g * ratio + (1 - rho) * g);
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let k = 0; k < expected.length; k++) worst = Math.max(worst, Math.abs(actual[k]! - expected[k]!) / (1 + Math.abs(expected[k]!)));
  return worst;
}

describe('applyCfg', () => {
  it('GIVEN rho 0 THEN it is the plain lerp ε_u + scale·(ε_c − ε_u)', () => {
    const cond = normals(1, 100);
    const uncond = normals(2, 100);
    const out = applyCfg(cond, uncond, 4, 0);
    out.forEach((v, k) => expect(v).toBe(Math.fround(uncond[k]! + 4 * (cond[k]! - uncond[k]!))));
  });

  it('GIVEN a hand example THEN the rescale factor is ρ·std(c)/std(cfg) + 1 − ρ', () => {
    // cfg = 2·cond, so std(cond)/std(cfg) = 0.5 and the factor is 0.7·0.5 + 0.3 = 0.65.
    const out = applyCfg(Float32Array.of(1, 2, 3, 4), new Float32Array(4), 2, 0.7);
    expect(Array.from(out)).toEqual([1.3, 2.6, 3.9, 5.2].map(Math.fround));
  });

  it('GIVEN random data with an offset THEN it equals the two-pass float64 reference within 1e-6', () => {
    const cond = normals(3, 4096, 1.3, 5);
    const uncond = normals(4, 4096, 0.9, 5);
    expect(maxRelativeError(applyCfg(cond, uncond, 4, 0.7), referenceCfg(cond, uncond, 4, 0.7))).toBeLessThan(1e-6);
  });

  it('GIVEN constant predictions (std 0) THEN the 1e-9 guard keeps the result finite: only (1 − ρ)·ε_cfg remains', () => {
    expect(Array.from(applyCfg(Float32Array.of(1, 1), Float32Array.of(1, 1), 4, 0.7))).toEqual([0.3, 0.3].map(Math.fround));
  });

  it('GIVEN out aliasing epsCond THEN the result is the same as with a separate buffer', () => {
    const cond = normals(5, 64);
    const uncond = normals(6, 64);
    const separate = applyCfg(cond, uncond, 3, 0.7);
    const inPlace = Float32Array.from(cond);
    applyCfg(inPlace, uncond, 3, 0.7, inPlace);
    expect(inPlace).toEqual(separate);
  });

  it('GIVEN mismatched sizes or a bad rho THEN it throws a specific error', () => {
    expect(() => applyCfg(new Float32Array(4), new Float32Array(3), 4, 0)).toThrow(/epsUncond 3/);
    expect(() => applyCfg(new Float32Array(4), new Float32Array(4), 4, 1.5)).toThrow(/rho/);
  });
});

describe('applyCfgBatch', () => {
  // Four images whose predictions differ in scale, so a shared std and per-image stds disagree.
  const per = 256;
  const cond = new Float32Array(4 * per);
  const uncond = new Float32Array(4 * per);
  [0.5, 1, 2, 4].forEach((scale, image) => {
    cond.set(normals(10 + image, per, scale), image * per);
    uncond.set(normals(20 + image, per, scale), image * per);
  });

  it('GIVEN half-batch scope THEN it equals applyCfg over the whole half-batch (the reference)', () => {
    expect(applyCfgBatch(cond, uncond, 4, 4, 0.7, 'half-batch')).toEqual(applyCfg(cond, uncond, 4, 0.7));
  });

  it('GIVEN per-image scope THEN each image equals a batch-of-one run, and differs from the half-batch result', () => {
    const perImage = applyCfgBatch(cond, uncond, 4, 4, 0.7, 'per-image');
    const shared = applyCfgBatch(cond, uncond, 4, 4, 0.7, 'half-batch');
    for (let image = 0; image < 4; image++) {
      const range = [image * per, (image + 1) * per] as const;
      expect(perImage.subarray(...range)).toEqual(applyCfg(cond.subarray(...range), uncond.subarray(...range), 4, 0.7));
    }
    expect(maxRelativeError(perImage, shared)).toBeGreaterThan(1e-3);
  });

  it('GIVEN one image THEN both scopes agree', () => {
    const c = cond.subarray(0, per);
    const u = uncond.subarray(0, per);
    expect(applyCfgBatch(c, u, 1, 4, 0.7, 'per-image')).toEqual(applyCfgBatch(c, u, 1, 4, 0.7, 'half-batch'));
  });

  it('GIVEN a size that does not split into the batch THEN it throws', () => {
    expect(() => applyCfgBatch(new Float32Array(10), new Float32Array(10), 3, 4, 0.7, 'per-image')).toThrow(/3 images/);
  });
});
