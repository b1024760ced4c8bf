/**
 * Per-request conditioning: prompt + negative prompt in one text-encoder call, then one conditional row per image.
 *
 * `chaos` (0–100) is our own, deterministic spread between the images of a grid. Each image's conditional text
 * embedding (every token of clip_text and the pooled vector) is blended with that image's own seeded Gaussian noise,
 * scaled to the embedding's standard deviation so the magnitude is kept:
 *     e_i = sqrt(1 − s²)·e + s·std(e)·n_i,   s = CHAOS_MAX_BLEND · chaos / 100,   n_i ~ N(0, 1) from seed_i, stream CHAOS.
 * At chaos 0 nothing changes (images differ only by their initial noise, and parity with the reference holds);
 * higher chaos moves each image's conditioning a different way, so compositions diverge more. The unconditional
 * (negative prompt) row is never perturbed, so guidance still pushes away from the same negative.
 */
import type { Manifest } from '../manifest.ts';
import type { SessionPool } from '../sessions.ts';
import type { ClipTokenizer } from '../tokenizer.ts';
import { NOISE_STREAM, tileNoise } from './seeds.ts';
import { embeddingRow, encodeText, type TextEmbeddings } from './text.ts';

/** Blend at chaos 100: the conditioning keeps sqrt(1 − 0.45²) ≈ 89 % of its direction. */
export const CHAOS_MAX_BLEND = 0.45;

export interface Conditioning {
  /** One row per image. */
  cond: TextEmbeddings;
  /** One row. */
  uncond: TextEmbeddings;
}

export async function encodeConditioning(
  pool: SessionPool,
  m: Manifest,
  tokenizer: ClipTokenizer,
  prompt: string,
  negativePrompt: string,
  seeds: readonly number[],
  chaos = 0,
): Promise<Conditioning> {
  if (!(chaos >= 0 && chaos <= 100)) throw new RangeError(`chaos must be in [0, 100], got ${chaos}`);
  const both = await encodeText(pool, m, tokenizer, [prompt, negativePrompt]);
  const prompted = embeddingRow(both, 0);
  const cond = repeatRows(prompted, seeds.length);
  if (chaos > 0) spread(cond, seeds, (CHAOS_MAX_BLEND * chaos) / 100);
  return { cond, uncond: embeddingRow(both, 1) };
}

function repeatRows(row: TextEmbeddings, times: number): TextEmbeddings {
  const hidden = new Float32Array(row.hidden.length * times);
  const pooled = new Float32Array(row.pooled.length * times);
  for (let k = 0; k < times; k++) {
    hidden.set(row.hidden, k * row.hidden.length);
    pooled.set(row.pooled, k * row.pooled.length);
  }
  return { ...row, count: times, hidden, pooled };
}

function std(values: Float32Array): number {
  let sum = 0;
  let sumSq = 0;
  for (const v of values) {
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / values.length;
  return Math.sqrt(Math.max(0, sumSq / values.length - mean * mean));
}

function spread(e: TextEmbeddings, seeds: readonly number[], blend: number): void {
  const keep = Math.sqrt(1 - blend * blend);
  const hiddenPer = e.tokens * e.hiddenSize;
  const hiddenStd = std(e.hidden.subarray(0, hiddenPer));
  const pooledStd = std(e.pooled.subarray(0, e.pooledSize));
  const hiddenNoise = new Float32Array(e.hidden.length);
  const pooledNoise = new Float32Array(e.pooled.length);
  tileNoise(seeds, NOISE_STREAM.chaos).fill(hiddenNoise);
  tileNoise(seeds, NOISE_STREAM.chaosPooled).fill(pooledNoise);
  for (let k = 0; k < e.hidden.length; k++) e.hidden[k] = keep * e.hidden[k]! + blend * hiddenStd * hiddenNoise[k]!;
  for (let k = 0; k < e.pooled.length; k++) e.pooled[k] = keep * e.pooled[k]! + blend * pooledStd * pooledNoise[k]!;
}
