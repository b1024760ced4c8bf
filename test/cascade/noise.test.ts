/**
 * Noise sources: Philox known-answer vectors, golden normals (cross-checked against an independent C implementation
 * of the algorithm documented in noise.ts), distribution checks, stream/chunking invariance, replay and batch helpers.
 */
import { describe, expect, it } from 'vitest';
import {
  createBatchNoise,
  createReplayNoise,
  createSeededNoise,
  deriveSeed,
  philox4x32,
} from '../../gpu-runner/cascade/noise.ts';

/** Φ(x) via Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7, far below the KS threshold used). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

const hex = (words: Uint32Array) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

describe('philox4x32', () => {
  // Random123 kat_vectors, philox4x32 with 10 rounds.
  it.each([
    [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
  ])('GIVEN counter %j and key %j THEN the output is the Random123 answer', (counter, key, expected) => {
    const out = new Uint32Array(4);
    philox4x32(counter, key, out);
    expect(hex(out)).toBe(expected);
  });
});

describe('createSeededNoise', () => {
  it('GIVEN seed 42 THEN the first normals are the pinned cross-machine values', () => {
    const out = new Float32Array(8);
    createSeededNoise(42).fill(out);
    expect(Array.from(out)).toEqual([
      -2.723447322845459, 0.23379690945148468, 0.21209394931793213, 1.085877537727356, 0.32890719175338745,
      -1.723757028579712, 0.5684553980827332, -1.3235448598861694,
    ]);
  });

  it('GIVEN seed 2^32 − 1 and stream 7 THEN the first normals are the pinned values', () => {
    const out = new Float32Array(6);
    createSeededNoise(0xffffffff, 7).fill(out);
    expect(Array.from(out)).toEqual([
      -1.4376875162124634, -0.7155442833900452, 0.26695913076400757, 1.0008015632629395, 0.9139323234558105,
      -0.7874304056167603,
    ]);
  });

  it('GIVEN the same seed twice THEN the bytes are identical; another seed or stream differs', () => {
    const draw = (seed: number, stream = 0) => {
      const out = new Float32Array(1000);
      createSeededNoise(seed, stream).fill(out);
      return out;
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(7, 1)).not.toEqual(draw(7, 0));
  });

  it('GIVEN fills of odd sizes THEN the sequence equals one big fill (no numbers skipped)', () => {
    const whole = new Float32Array(103);
    createSeededNoise(5).fill(whole);
    const source = createSeededNoise(5);
    const pieces = [1, 2, 3, 5, 7, 11, 13, 17, 44].map((n) => {
      const part = new Float32Array(n);
      source.fill(part);
      return Array.from(part);
    });
    expect(pieces.flat()).toEqual(Array.from(whole));
  });

  it('GIVEN 2^20 draws of seed 1 THEN their sum is the value the C cross-check printed (rare paths included)', () => {
    const out = new Float32Array(1 << 20);
    createSeededNoise(1).fill(out);
    let sum = 0;
    for (const v of out) sum += v;
    expect(sum).toBe(755.12741493420026);
  });

  it('GIVEN 2^18 draws THEN moments, the ziggurat tail and the Kolmogorov–Smirnov distance fit N(0, 1)', () => {
    const n = 1 << 18;
    const out = new Float32Array(n);
    createSeededNoise(123).fill(out);
    let sum = 0;
    let squares = 0;
    let fourth = 0;
    let beyondR = 0;
    for (const v of out) {
      sum += v;
      squares += v * v;
      fourth += v ** 4;
      if (Math.abs(v) > 3.442619855899) beyondR++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(squares / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(fourth / n - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
    // P(|z| > R) = 5.76e-4: the bottom layer's tail path must produce about 151 values.
    const expectedTail = 5.7608e-4 * n;
    expect(Math.abs(beyondR - expectedTail)).toBeLessThan(5 * Math.sqrt(expectedTail));
    const sorted = Float64Array.from(out).sort();
    let distance = 0;
    sorted.forEach((v, i) => {
      const cdf = normalCdf(v);
      distance = Math.max(distance, Math.abs((i + 1) / n - cdf), Math.abs(i / n - cdf));
    });
    expect(distance).toBeLessThan(1.949 / Math.sqrt(n)); // KS critical value at α = 0.001
  });

  it('GIVEN a seed outside uint32 THEN it throws a specific error', () => {
    expect(() => createSeededNoise(-1)).toThrow(/noise seed/);
    expect(() => createSeededNoise(2 ** 32)).toThrow(/noise seed/);
    expect(() => createSeededNoise(1.5)).toThrow(/noise seed/);
  });
});

describe('createReplayNoise', () => {
  it('GIVEN recorded tensors THEN fills replay them in order and count down', () => {
    const replay = createReplayNoise([Float32Array.of(1, 2), Float32Array.of(3)]);
    const a = new Float32Array(2);
    const b = new Float32Array(1);
    replay.fill(a);
    expect(replay.remaining).toBe(1);
    replay.fill(b);
    expect(Array.from(a)).toEqual([1, 2]);
    expect(Array.from(b)).toEqual([3]);
    expect(replay.remaining).toBe(0);
  });
  it('GIVEN one request too many THEN it throws "exhausted"', () => {
    const replay = createReplayNoise([Float32Array.of(1)]);
    replay.fill(new Float32Array(1));
    expect(() => replay.fill(new Float32Array(1))).toThrow(/exhausted: request #2/);
  });
  it('GIVEN a size mismatch THEN it throws naming both sizes', () => {
    const replay = createReplayNoise([Float32Array.of(1, 2)]);
    expect(() => replay.fill(new Float32Array(3))).toThrow(/request #1: recorded 2 values, asked for 3/);
  });
});

describe('createBatchNoise and deriveSeed', () => {
  it('GIVEN per-tile seeds THEN a batched fill equals each tile drawn alone', () => {
    const seeds = [0, 1, 2, 3].map((i) => deriveSeed(1234, i));
    const batch = new Float32Array(4 * 10);
    createBatchNoise(seeds.map((s) => createSeededNoise(s))).fill(batch);
    seeds.forEach((seed, tile) => {
      const alone = new Float32Array(10);
      createSeededNoise(seed).fill(alone);
      expect(batch.subarray(tile * 10, tile * 10 + 10)).toEqual(alone);
    });
  });
  it('GIVEN index 0 THEN the seed itself; other indexes give distinct uint32 seeds', () => {
    expect(deriveSeed(1234, 0)).toBe(1234);
    const derived = [0, 1, 2, 3].map((i) => deriveSeed(0xfffffffe, i));
    expect(new Set(derived).size).toBe(4);
    for (const s of derived) expect(s >>> 0).toBe(s);
    expect(deriveSeed(5, 1)).not.toBe(deriveSeed(6, 0));
  });
  it('GIVEN a size that does not split evenly THEN batch noise throws', () => {
    expect(() => createBatchNoise([createSeededNoise(1), createSeededNoise(2)]).fill(new Float32Array(3))).toThrow(/equal items/);
  });
});
