/**
 * Standard-normal noise for the sampling loop, behind one small interface so that a test can swap the seeded source
 * for the exact tensors a reference run drew (spec §3.5 point 4).
 *
 * Seeded algorithm (fixed; changing it changes every image a seed has ever produced):
 * 1. State: the four words of Philox4x32-10 (Salmon et al., SC'11; Random123 philox.h, checked against its
 *    known-answer vectors) of counter (0, 0, 0, 0) under key (seed, stream); an all-zero result becomes (1, 0, 0, 0).
 * 2. Uniform words: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c) on that state.
 * 3. Normals: Doornik's ZIGNOR ziggurat ("An Improved Ziggurat Method to Generate Normal Random Samples", 2005),
 *    128 layers, R = 3.442619855899, V = 9.91256303526217e-3, tables built in float64 as in the paper:
 *    X[0] = V/f(R), X[1] = R, X[i] = sqrt(−2·ln(V/X[i−1] + f(X[i−1]))) for i = 2..127, X[128] = 0, f(x) = exp(−x²/2),
 *    ratio[i] = X[i+1]/X[i]. Each attempt takes one word w: layer i = w & 127 (low 7 bits) and, from the disjoint top
 *    25 bits, u = ((w >>> 7) + 0.5)·2^−24 − 1 ∈ (−1, 1) (disjoint bits avoid Marsaglia–Tsang's index/value coupling).
 *    |u| < ratio[i] → u·X[i]. Else i = 0 → tail: repeat { x = ln(U)/R, y = ln(U) } until −2y ≥ x², each U = (w + 0.5)·2^−32
 *    of the next word, result (R − x) with the sign of u. Else wedge: x = u·X[i], f0 = exp(−(X[i]² − x²)/2),
 *    f1 = exp(−(X[i+1]² − x²)/2), U from the next word, accept x if f1 + U·(f0 − f1) < 1, otherwise a new attempt.
 *    The float64 result is rounded to float32.
 * 4. The normals form one sequence: `fill` continues where the previous call stopped, whatever the sizes asked.
 * Integer work is exact; ~99 % of values need only multiplications, and V8 computes Math.exp/log with its own fdlibm
 * port (not the platform libm), so the numbers are the same on every machine for a given Node major version. A golden
 * test pins them; they were cross-checked against an independent C implementation of this text.
 * Why not Box–Muller on Philox alone: that measured ~40 ns per value in V8, ~10× this, and Stage B draws 1 M values
 * per step for a 4-image grid. onnxruntime-node runs sessions on the JS thread, so the engine draws the per-step
 * streams ahead on a worker thread during the graph calls (noise-worker.ts, same numbers).
 *
 * @example
 *   const noise = createSeededNoise(42);
 *   const latents = new Float32Array(16 * 24 * 24);
 *   noise.fill(latents); // N(0, 1) values, identical on every machine
 */
export interface NoiseSource {
  /** Fills `out` with independent N(0, 1) float32 values. */
  fill(out: Float32Array): void;
  /**
   * Optional hint: the next `fill` will likely ask `count` values, so a source that draws ahead (noise-worker.ts) can
   * start now. Never changes the numbers.
   */
  prefetch?(count: number): void;
}

export interface ReplayNoiseSource extends NoiseSource {
  /** Recorded tensors not yet consumed. */
  readonly remaining: number;
}

/**
 * The seeded generator (file header, steps 1–3) as ONE self-contained function: it reads nothing from module scope, so
 * noise-worker.ts can ship its source text (`toString()`) to a worker thread, in the sources and in the esbuild bundle
 * alike, and the worker draws with the very code the main thread would.
 */
export function seededNormalKit(): {
  philoxRounds: (c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array) => void;
  /** The normal source of (seed, stream); both already checked as uint32. */
  create: (seed: number, stream: number) => NoiseSource;
} {
  const PHILOX_M0 = 0xd2511f53;
  const PHILOX_M1 = 0xcd9e8d57;
  const PHILOX_W0 = 0x9e3779b9;
  const PHILOX_W1 = 0xbb67ae85;
  const TWO_POW_32 = 4294967296;
  const INV_TWO_POW_32 = 1 / TWO_POW_32;

  /** High 32 bits of the 64-bit product of two uint32, exact (16-bit halves keep every partial product below 2^32). */
  function mulHi32(a: number, b: number): number {
    const al = a & 0xffff;
    const ah = a >>> 16;
    const bl = b & 0xffff;
    const bh = b >>> 16;
    const lh = al * bh;
    const hl = ah * bl;
    const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
    return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
  }

  /** Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1), written into `out` (4 uint32). */
  function philoxRounds(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
    for (let round = 0; round < 10; round++) {
      if (round > 0) {
        k0 = (k0 + PHILOX_W0) >>> 0;
        k1 = (k1 + PHILOX_W1) >>> 0;
      }
      const hi0 = mulHi32(PHILOX_M0, c0);
      const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
      const hi1 = mulHi32(PHILOX_M1, c2);
      const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
      c0 = (hi1 ^ c1 ^ k0) >>> 0;
      c1 = lo1;
      c2 = (hi0 ^ c3 ^ k1) >>> 0;
      c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }

  const ZIG_LAYERS = 128;
  const ZIG_R = 3.442619855899;
  const ZIG_V = 9.91256303526217e-3;
  const INV_TWO_POW_24 = 1 / 16777216;

  /** ZIGNOR tables: layer right edges X[0..128] and inner ratios X[i+1]/X[i] (file header, step 3). */
  function ziggurat(): { edge: Float64Array; ratio: Float64Array } {
    const edge = new Float64Array(ZIG_LAYERS + 1);
    let f = Math.exp(-0.5 * ZIG_R * ZIG_R);
    edge[0] = ZIG_V / f;
    edge[1] = ZIG_R;
    edge[ZIG_LAYERS] = 0;
    for (let i = 2; i < ZIG_LAYERS; i++) {
      edge[i] = Math.sqrt(-2 * Math.log(ZIG_V / edge[i - 1]! + f));
      f = Math.exp(-0.5 * edge[i]! * edge[i]!);
    }
    const ratio = new Float64Array(ZIG_LAYERS);
    for (let i = 0; i < ZIG_LAYERS; i++) ratio[i] = edge[i + 1]! / edge[i]!;
    return { edge, ratio };
  }
  const ZIG = ziggurat();

  class ZigguratNormalSource {
    // xoshiro128** state, as int32.
    private s0: number;
    private s1: number;
    private s2: number;
    private s3: number;

    constructor(seed: number, stream: number) {
      const state = new Uint32Array(4);
      philoxRounds(0, 0, 0, 0, seed, stream, state);
      if ((state[0]! | state[1]! | state[2]! | state[3]!) === 0) state[0] = 1;
      this.s0 = state[0]! | 0;
      this.s1 = state[1]! | 0;
      this.s2 = state[2]! | 0;
      this.s3 = state[3]! | 0;
    }

    /** Next xoshiro128** word as uint32. */
    private nextWord(): number {
      const s1 = this.s1;
      const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      this.s2 ^= this.s0;
      this.s3 ^= s1;
      this.s1 = s1 ^ this.s2;
      this.s0 ^= this.s3;
      this.s2 ^= t;
      this.s3 = rotl(this.s3, 11);
      return result;
    }

    fill(out: Float32Array): void {
      const { edge, ratio } = ZIG;
      // The fast path keeps the xoshiro state in locals (inlined nextWord); the rare paths sync it through the fields.
      let s0 = this.s0;
      let s1 = this.s1;
      let s2 = this.s2;
      let s3 = this.s3;
      for (let k = 0; k < out.length; k++) {
        for (;;) {
          const t = s1 << 9;
          const word = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl(s3, 11);
          const u = ((word >>> 7) + 0.5) * INV_TWO_POW_24 - 1;
          const layer = word & (ZIG_LAYERS - 1);
          if (Math.abs(u) < ratio[layer]!) {
            out[k] = u * edge[layer]!;
            break;
          }
          this.s0 = s0;
          this.s1 = s1;
          this.s2 = s2;
          this.s3 = s3;
          const value = layer === 0 ? this.tail(u < 0) : this.wedge(u * edge[layer]!, layer);
          s0 = this.s0;
          s1 = this.s1;
          s2 = this.s2;
          s3 = this.s3;
          if (value !== undefined) {
            out[k] = value;
            break;
          }
        }
      }
      this.s0 = s0;
      this.s1 = s1;
      this.s2 = s2;
      this.s3 = s3;
    }

    /** Wedge of `layer` at abscissa x: x when a uniform point of the layer at x lies under the density, else undefined. */
    private wedge(x: number, layer: number): number | undefined {
      const { edge } = ZIG;
      const f0 = Math.exp(-0.5 * (edge[layer]! * edge[layer]! - x * x));
      const f1 = Math.exp(-0.5 * (edge[layer + 1]! * edge[layer + 1]! - x * x));
      return f1 + this.uniform() * (f0 - f1) < 1 ? x : undefined;
    }

    /** U in (0, 1) from one word. */
    private uniform(): number {
      return (this.nextWord() + 0.5) * INV_TWO_POW_32;
    }

    /** Marsaglia's tail beyond R (the bottom layer's overhang). */
    private tail(negative: boolean): number {
      let x: number;
      let y: number;
      do {
        x = Math.log(this.uniform()) / ZIG_R;
        y = Math.log(this.uniform());
      } while (-2 * y < x * x);
      return negative ? x - ZIG_R : ZIG_R - x;
    }
  }

  function rotl(x: number, k: number): number {
    return (x << k) | (x >>> (32 - k));
  }

  return { philoxRounds, create: (seed: number, stream: number): NoiseSource => new ZigguratNormalSource(seed, stream) };
}
const KIT = seededNormalKit();
/** 2^32 / φ: the stride between derived tile seeds (the same constant as Philox's first key increment). */
const GOLDEN_STRIDE = 0x9e3779b9;

/** Philox4x32-10 of `counter` (4 uint32) under `key` (2 uint32), written into `out`. */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): void {
  const word = (a: ArrayLike<number>, i: number) => (a[i] ?? 0) >>> 0;
  KIT.philoxRounds(word(counter, 0), word(counter, 1), word(counter, 2), word(counter, 3), word(key, 0), word(key, 1), out);
}

function checkUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`${name} must be an integer in [0, 2^32 − 1], got ${value}`);
  }
}

/**
 * Seeded N(0, 1) source (algorithm in the file header). `stream` selects an independent sequence for the same seed
 * (e.g. one for the initial latents, one for the per-step noise), so a change in one stage's step count cannot shift
 * the numbers another stage sees.
 */
export function createSeededNoise(seed: number, stream = 0): NoiseSource {
  checkUint32('noise seed', seed);
  checkUint32('noise stream', stream);
  return KIT.create(seed, stream);
}

/**
 * Replays recorded noise: the k-th `fill` copies `tensors[k]`, whose length must equal the request.
 * Throws, naming the call, when the recording runs out or a size differs (a misaligned replay is a test bug).
 */
export function createReplayNoise(tensors: readonly Float32Array[]): ReplayNoiseSource {
  let next = 0;
  return {
    get remaining() {
      return tensors.length - next;
    },
    fill(out: Float32Array): void {
      const recorded = tensors[next];
      if (!recorded) {
        throw new Error(`replay noise exhausted: request #${next + 1} for ${out.length} values, only ${tensors.length} tensors were recorded`);
      }
      if (recorded.length !== out.length) {
        throw new Error(`replay noise size mismatch at request #${next + 1}: recorded ${recorded.length} values, asked for ${out.length}`);
      }
      out.set(recorded);
      next++;
    },
  };
}

/**
 * One source per batch item: `fill(out)` splits `out` into `sources.length` equal contiguous chunks (row-major batch
 * layout) and fills chunk b from `sources[b]`. A batched run then sees, per image, exactly the numbers a run of that
 * image alone would, so tile i of a grid can be regenerated on its own from `deriveSeed(seed, i)`.
 */
export function createBatchNoise(sources: readonly NoiseSource[]): NoiseSource {
  if (sources.length === 0) throw new Error('createBatchNoise needs at least one source');
  return {
    fill(out: Float32Array): void {
      if (out.length % sources.length !== 0) {
        throw new Error(`batch noise: ${out.length} values do not split into ${sources.length} equal items`);
      }
      const per = out.length / sources.length;
      sources.forEach((source, b) => source.fill(out.subarray(b * per, (b + 1) * per)));
    },
  };
}

/**
 * Seed of item `index` (grid tile) derived from one uint32 seed: `(seed + index·0x9E3779B9) mod 2^32`.
 * Index 0 is the seed itself; the golden-ratio stride keeps the tiles of seed s and of seed s + 1 apart.
 */
export function deriveSeed(seed: number, index: number): number {
  checkUint32('seed', seed);
  if (!Number.isInteger(index) || index < 0) throw new Error(`seed index must be a non-negative integer, got ${index}`);
  return (seed + Math.imul(index, GOLDEN_STRIDE)) >>> 0;
}
