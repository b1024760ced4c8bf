/**
 * Standard-normal noise for the sampling loop, behind one small interface so that a test can swap the seeded source
 * for the exact tensors a reference run drew (spec §3.5 point 4).
 *
 * Seeded algorithm (fixed; changing it changes every image a seed has ever produced):
 * - Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; constants and round function
 *   as in Random123's philox.h, checked against its known-answer vectors in test/cascade/noise.test.ts) with
 *   key = (seed, stream) and counter = (n mod 2^32, floor(n / 2^32), 0, 0) for block n = 0, 1, 2, …
 * - Each block's four uint32 words (x0, x1, x2, x3) become four normals by Box–Muller in float64:
 *   u1 = (x0 + 0.5)·2^-32 ∈ (0, 1), u2 = x1·2^-32, ρ = sqrt(−2·ln u1), z0 = ρ·cos(2π·u2), z1 = ρ·sin(2π·u2);
 *   the same with (x2, x3) for z2, z3; each value is then rounded to float32.
 * - The normals form one sequence: `fill` continues where the previous call stopped, whatever the sizes asked.
 * Integer work is exact, and V8 computes Math.log/cos/sin with its own fdlibm port (not the platform libm), so the
 * numbers are the same on every machine and OS for a given Node major version; a golden test pins them.
 *
 * @example
 *   const noise = createSeededNoise(42);
 *   const latents = new Float32Array(16 * 24 * 24);
 *   noise.fill(latents); // N(0, 1) values, identical on every machine
 */
export interface NoiseSource {
  /** Fills `out` with independent N(0, 1) float32 values. */
  fill(out: Float32Array): void;
}

export interface ReplayNoiseSource extends NoiseSource {
  /** Recorded tensors not yet consumed. */
  readonly remaining: number;
}

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;
const TWO_PI = 2 * Math.PI;

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

/** Philox4x32-10 of `counter` (4 uint32) under `key` (2 uint32), written into `out`. */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): void {
  const word = (a: ArrayLike<number>, i: number) => (a[i] ?? 0) >>> 0;
  philoxRounds(word(counter, 0), word(counter, 1), word(counter, 2), word(counter, 3), word(key, 0), word(key, 1), out);
}

function checkUint32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new Error(`${name} must be an integer in [0, 2^32 − 1], got ${value}`);
  }
}

class PhiloxNormalSource implements NoiseSource {
  private block = 0;
  private readonly words = new Uint32Array(4);
  /** Normals of the current block not yet handed out (positions 4 − pending … 3). */
  private readonly spare = new Float64Array(4);
  private pending = 0;

  constructor(
    private readonly seed: number,
    private readonly stream: number,
  ) {}

  fill(out: Float32Array): void {
    let i = 0;
    const n = out.length;
    while (this.pending > 0 && i < n) out[i++] = this.spare[4 - this.pending--]!;
    const spare = this.spare;
    while (i < n) {
      this.nextBlock(spare);
      if (i + 4 <= n) {
        out[i] = spare[0]!;
        out[i + 1] = spare[1]!;
        out[i + 2] = spare[2]!;
        out[i + 3] = spare[3]!;
        i += 4;
      } else {
        let used = 0;
        while (i < n) out[i++] = spare[used++]!;
        this.pending = 4 - used;
      }
    }
  }

  private nextBlock(normals: Float64Array): void {
    const w = this.words;
    philoxRounds(this.block % TWO_POW_32, Math.floor(this.block / TWO_POW_32), 0, 0, this.seed, this.stream, w);
    this.block++;
    const r0 = Math.sqrt(-2 * Math.log((w[0]! + 0.5) * INV_TWO_POW_32));
    const a0 = TWO_PI * (w[1]! * INV_TWO_POW_32);
    const r1 = Math.sqrt(-2 * Math.log((w[2]! + 0.5) * INV_TWO_POW_32));
    const a1 = TWO_PI * (w[3]! * INV_TWO_POW_32);
    normals[0] = r0 * Math.cos(a0);
    normals[1] = r0 * Math.sin(a0);
    normals[2] = r1 * Math.cos(a1);
    normals[3] = r1 * Math.sin(a1);
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
  return new PhiloxNormalSource(seed, stream);
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
  return (seed + Math.imul(index, PHILOX_W0)) >>> 0;
}
