/**
 * Sampler: diffusers DDPMWuerstchen vectors (test/fixtures/vectors/wuerstchen-scheduler; missing means failing), spec Appendix A.1 schedule tables,
 * and the gdf switches (final x0/μ, shift, tStart, noise alignment, buffer reuse).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createReplayNoise, createSeededNoise } from '../../gpu-runner/cascade/noise.ts';
import { GdfSampler, addNoise, alphaCumprod, noiseLevel, type SamplerConfig } from '../../gpu-runner/cascade/scheduler.ts';

const VECTORS = path.resolve(import.meta.dirname, '../fixtures/vectors/wuerstchen-scheduler/cases.json');

interface StepRecord {
  index: number;
  t: number;
  t_prev: number;
  alpha_cumprod: number;
  alpha_cumprod_prev: number;
  sample: number[];
  model_output: number[];
  noise: number[];
  prev_sample: number[];
}
interface StepCase {
  num_inference_steps: number;
  timesteps: number[];
  x_T: number[];
  steps: StepRecord[];
  final_sample: number[];
}
interface SchedulerVectors {
  alpha_cumprod: { t: number[]; value: number[] };
  step_cases: StepCase[];
  add_noise_cases: { shape: number[]; t: number[]; original: number[]; noise: number[]; noisy: number[] }[];
}

/** Largest |actual − expected| / (1 + |expected|). */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    worst = Math.max(worst, Math.abs(actual[k]! - expected[k]!) / (1 + Math.abs(expected[k]!)));
  }
  return worst;
}

const DIFFUSERS = { tStart: 1, shift: 1, rho: 0, rMode: 'raw', final: 'mu' } as const;

describe('GdfSampler against diffusers DDPMWuerstchenScheduler', () => {
  const vectors = JSON.parse(readFileSync(VECTORS, 'utf8')) as SchedulerVectors;
  const stepCases = vectors.step_cases;

  it('GIVEN the vector file THEN it holds the step cases for 2 and 10 steps', () => {
    expect(stepCases.map((c) => c.num_inference_steps)).toEqual([2, 10]);
  });

  it('GIVEN the 101 alpha_cumprod points THEN alphaCumprod matches within 3e-6', () => {
    const { t, value } = vectors.alpha_cumprod;
    expect(t).toHaveLength(101);
    expect(maxRelativeError(t.map(alphaCumprod), value)).toBeLessThan(3e-6);
  });

  it.each(stepCases.map((c) => [c.num_inference_steps, c] as const))(
    'GIVEN %i steps fed the recorded sample each step THEN every prev_sample is within 3e-6·(1+|expected|)',
    (n, c) => {
      const sampler = new GdfSampler({ ...DIFFUSERS, steps: n, timesteps: c.timesteps });
      const noise = createReplayNoise(c.steps.map((s) => Float32Array.from(s.noise)));
      for (const record of c.steps) {
        expect(Math.fround(sampler.timestepRatio(record.index))).toBe(Math.fround(record.t));
        expect(sampler.levels[record.index]!.alphaBar).toBeCloseTo(record.alpha_cumprod, 6);
        expect(sampler.levels[record.index + 1]!.alphaBar).toBeCloseTo(record.alpha_cumprod_prev, 6);
        const next = sampler.step(record.index, Float32Array.from(record.sample), Float32Array.from(record.model_output), noise);
        expect(maxRelativeError(next, record.prev_sample)).toBeLessThan(3e-6);
      }
      expect(noise.remaining).toBe(0);
    },
  );

  it.each(stepCases.map((c) => [c.num_inference_steps, c] as const))(
    'GIVEN %i steps chained from x_T on the default grid THEN the final sample is within 2e-5·(1+|expected|)',
    (n, c) => {
      const sampler = new GdfSampler({ ...DIFFUSERS, steps: n });
      sampler.grid.forEach((t, i) => expect(Math.abs(t - c.timesteps[i]!)).toBeLessThan(1e-7));
      const noise = createReplayNoise(c.steps.map((s) => Float32Array.from(s.noise)));
      let x: Float32Array = Float32Array.from(c.x_T);
      for (const record of c.steps) x = sampler.step(record.index, x, Float32Array.from(record.model_output), noise);
      expect(maxRelativeError(x, c.final_sample)).toBeLessThan(2e-5);
    },
  );

  it('GIVEN the add_noise cases THEN addNoise matches within 3e-6·(1+|expected|)', () => {
    expect(vectors.add_noise_cases.length).toBeGreaterThan(0);
    for (const c of vectors.add_noise_cases) {
      const noisy = addNoise(Float32Array.from(c.original), Float32Array.from(c.noise), c.t);
      expect(maxRelativeError(noisy, c.noisy)).toBeLessThan(3e-6);
    }
  });
});

// Spec Appendix A.1: i, r, r fed to model, ᾱ, a, b.
const TABLE_SHIFT_1 = [
  [0, 1.0, 0.9936, 0.0001, 0.01, 0.99995],
  [1, 0.95, 0.95, 0.00606, 0.07784, 0.99697],
  [2, 0.9, 0.9, 0.024092, 0.15522, 0.98788],
  [5, 0.75, 0.75, 0.144272, 0.37983, 0.92506],
  [10, 0.5, 0.5, 0.493844, 0.70274, 0.71145],
  [15, 0.25, 0.25, 0.847012, 0.92033, 0.39114],
  [19, 0.05, 0.05, 0.992007, 0.996, 0.0894],
  [20, 0.0, 0.0023, 0.9999, 0.99995, 0.01],
] as const;
const TABLE_SHIFT_2 = [
  [0, 1.0, 0.9936, 0.0001, 0.01, 0.99995],
  [1, 0.95, 0.975, 0.001522, 0.03901, 0.99924],
  [2, 0.9, 0.9497, 0.006134, 0.07832, 0.99693],
  [5, 0.75, 0.8701, 0.040444, 0.20111, 0.97957],
  [10, 0.5, 0.7056, 0.196089, 0.44282, 0.89661],
  [15, 0.25, 0.4441, 0.580557, 0.76194, 0.64764],
  [19, 0.05, 0.1063, 0.968778, 0.98427, 0.1767],
  [20, 0.0, 0.0071, 0.9996, 0.9998, 0.02],
] as const;

describe('GdfSampler schedule (spec Appendix A.1)', () => {
  it.each([
    [1, TABLE_SHIFT_1],
    [2, TABLE_SHIFT_2],
  ] as const)('GIVEN 20 steps at shift %i THEN r fed to the model, ᾱ, a, b match the table', (shift, table) => {
    const sampler = new GdfSampler({ steps: 20, tStart: 1, shift, rho: 0.7, rMode: 'gdf', final: 'x0' });
    for (const [i, r, rModel, alphaBar, a, b] of table) {
      expect(sampler.grid[i]).toBeCloseTo(r, 12);
      const level = sampler.levels[i]!;
      expect(Math.abs(level.rGdf - rModel)).toBeLessThanOrEqual(5e-5);
      if (i < 20) expect(Math.abs(sampler.timestepRatio(i) - rModel)).toBeLessThanOrEqual(5e-5);
      expect(Math.abs(level.alphaBar - alphaBar)).toBeLessThanOrEqual(5e-7);
      expect(Math.abs(level.a - a)).toBeLessThanOrEqual(5e-6);
      expect(Math.abs(level.b - b)).toBeLessThanOrEqual(5e-6);
    }
  });

  it('GIVEN 10 steps at shift 1 (Stage B) THEN ᾱ follows the table and raw r is the grid', () => {
    const expected = [1e-4, 0.0241, 0.094, 0.2031, 0.3408, 0.4938, 0.6475, 0.7869, 0.8987, 0.9721];
    const sampler = new GdfSampler({ steps: 10, tStart: 1, shift: 1, rho: 0, rMode: 'raw', final: 'mu' });
    expected.forEach((alphaBar, i) => {
      expect(Math.abs(sampler.levels[i]!.alphaBar - alphaBar)).toBeLessThanOrEqual(5e-5);
      expect(sampler.timestepRatio(i)).toBeCloseTo(1 - i / 10, 12);
    });
  });

  it('GIVEN img2img at noise level 0.8 (spec §4.2) THEN addNoise uses ᾱ 0.0940 and the shift-2 sampler starts at ᾱ 0.0253', () => {
    expect(noiseLevel(0.8).alphaBar).toBeCloseTo(0.094, 4);
    expect(noiseLevel(0.8).a).toBeCloseTo(0.3067, 4);
    expect(noiseLevel(0.8).b).toBeCloseTo(0.9518, 4);
    const sampler = new GdfSampler({ steps: 16, tStart: 0.8, shift: 2, rho: 0.7, rMode: 'gdf', final: 'x0' });
    expect(sampler.grid[0]).toBeCloseTo(0.8, 12);
    expect(sampler.grid[16]).toBe(0);
    expect(sampler.levels[0]!.alphaBar).toBeCloseTo(0.0253, 4);
    const x0 = Float32Array.of(1, -2);
    const z = Float32Array.of(0.5, 0.25);
    const { a, b } = noiseLevel(0.8);
    expect(Array.from(addNoise(x0, z, 0.8))).toEqual([Math.fround(a * 1 + b * 0.5), Math.fround(a * -2 + b * 0.25)]);
    const shifted = noiseLevel(0.8, 2);
    expect(Array.from(addNoise(x0, z, 0.8, 2))).toEqual([Math.fround(shifted.a + shifted.b * 0.5), Math.fround(-2 * shifted.a + shifted.b * 0.25)]);
  });
});

describe('GdfSampler step switches', () => {
  const config: SamplerConfig = { steps: 4, tStart: 1, shift: 2, rho: 0.7, rMode: 'gdf', final: 'x0' };
  const size = 64;
  const fakeEps = (i: number) => Float32Array.from({ length: size }, (_, k) => Math.sin(k * 0.37 + i));
  const initial = () => {
    const x = new Float32Array(size);
    createSeededNoise(9, 1).fill(x);
    return x;
  };

  it('GIVEN final x0 THEN the last step returns (x − b·ε)/a of that step', () => {
    const sampler = new GdfSampler(config);
    const noise = createSeededNoise(3);
    let x: Float32Array = initial();
    for (let i = 0; i < 3; i++) x = Float32Array.from(sampler.step(i, x, fakeEps(i), noise));
    const { a, b } = sampler.levels[3]!;
    const result = sampler.step(3, x, fakeEps(3), noise);
    const expected = Array.from(x, (v, k) => Math.fround((v - b * fakeEps(3)[k]!) / a));
    expect(maxRelativeError(result, expected)).toBeLessThan(1e-6);
    expect(sampler.predictedX0).toBe(result);
  });

  it('GIVEN final mu THEN the last step adds no noise (result independent of the noise drawn) and equals a·x̂0 + c·ε', () => {
    const run = (seed: number) => {
      const sampler = new GdfSampler({ ...config, final: 'mu' });
      const x = initial();
      const out = sampler.step(3, x, fakeEps(3), createSeededNoise(seed));
      return Array.from(out);
    };
    expect(run(1)).toEqual(run(2));
    const sampler = new GdfSampler({ ...config, final: 'mu' });
    const { a: a3, b: b3 } = sampler.levels[3]!;
    const { a: a4, b: b4 } = sampler.levels[4]!;
    const sigma = (b4 / b3) * Math.sqrt(1 - (a3 * a3) / (a4 * a4));
    const c = Math.sqrt(b4 * b4 - sigma * sigma);
    const x = initial();
    const expected = Array.from(x, (v, k) => a4 * ((v - b3 * fakeEps(3)[k]!) / a3) + c * fakeEps(3)[k]!);
    expect(maxRelativeError(run(1), expected)).toBeLessThan(1e-6);
  });

  it('GIVEN an intermediate step THEN the noise enters with σ and changes the result', () => {
    const step = (seed: number) => Array.from(new GdfSampler(config).step(1, initial(), fakeEps(1), createSeededNoise(seed)));
    expect(step(1)).not.toEqual(step(2));
  });

  it('GIVEN a full run THEN exactly one noise tensor is drawn per step, the last included', () => {
    const tensors = [0, 1, 2, 3].map(() => new Float32Array(size).fill(0.5));
    const replay = createReplayNoise(tensors);
    const sampler = new GdfSampler(config);
    let x: Float32Array = initial();
    for (let i = 0; i < 4; i++) x = sampler.step(i, x, fakeEps(i), replay);
    expect(replay.remaining).toBe(0);
    const short = createReplayNoise(tensors.slice(0, 3));
    const again = new GdfSampler(config);
    let y: Float32Array = initial();
    for (let i = 0; i < 3; i++) y = again.step(i, y, fakeEps(i), short);
    expect(() => again.step(3, y, fakeEps(3), short)).toThrow(/exhausted/);
  });

  it('GIVEN repeated steps THEN the sampler reuses its buffer, and out/in-place give identical numbers', () => {
    const owned = new GdfSampler(config);
    const first = owned.step(0, initial(), fakeEps(0), createSeededNoise(4));
    const copy = Array.from(first);
    const second = owned.step(1, first, fakeEps(1), createSeededNoise(4));
    expect(second).toBe(first);
    const inPlace = initial();
    const result = new GdfSampler(config).step(0, inPlace, fakeEps(0), createSeededNoise(4), inPlace);
    expect(result).toBe(inPlace);
    expect(Array.from(inPlace)).toEqual(copy);
  });

  it('GIVEN bad input THEN errors name the problem', () => {
    expect(() => new GdfSampler({ ...config, steps: 0 })).toThrow(/steps must be an integer/);
    expect(() => new GdfSampler({ ...config, tStart: 1.5 })).toThrow(/tStart/);
    expect(() => new GdfSampler({ ...config, shift: 0 })).toThrow(/shift/);
    expect(() => new GdfSampler({ ...config, timesteps: [1, 0] })).toThrow(/steps \+ 1 = 5/);
    const sampler = new GdfSampler(config);
    expect(() => sampler.timestepRatio(4)).toThrow(/\[0, 3\]/);
    expect(() => sampler.step(0, new Float32Array(4), new Float32Array(5), createSeededNoise(1))).toThrow(/eps 5/);
    expect(() => addNoise(new Float32Array(6), new Float32Array(6), [0.1, 0.2, 0.3, 0.4])).toThrow(/4 batch items/);
  });
});
