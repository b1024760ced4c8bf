/**
 * Stage C (prior): text-conditional denoising of the 16-channel latent [B, 16, hC, wC] (spec §1.3, §3.6).
 * Conditional rows take each image's text embedding and the request's clip_img groups (zeros [1, D] without image
 * prompts); unconditional rows the negative prompt's embedding and zeros of the same [n, D] (spec §3.6).
 * Static feeds (text, clip_img) are built once per request, not per step.
 */
import type { Manifest } from '../manifest.ts';
import type { SessionPool } from '../sessions.ts';
import { denoise, epsPredictor, isGuided, type DenoiseOptions } from './denoise.ts';
import type { LatentGeometry } from './geometry.ts';
import { FloatFeed } from './io.ts';
import type { ClipImageGroups } from './encoders.ts';
import type { TextEmbeddings } from './text.ts';

export interface PriorInputs extends Omit<DenoiseOptions, 'predict' | 'batch'> {
  geometry: LatentGeometry;
  /** One row per image (rows may differ, e.g. with chaos). */
  cond: TextEmbeddings;
  /** One row: the negative prompt. */
  uncond: TextEmbeddings;
  /** Image prompts (weighted CLIP image embeddings), the same for every image of the request. */
  clipImage?: ClipImageGroups | undefined;
}

/** Repeats `row` (one item) `times` times after `head` into one buffer. */
export function stackRows(head: Float32Array, row: Float32Array, times: number): Float32Array {
  const out = new Float32Array(head.length + row.length * times);
  out.set(head, 0);
  for (let k = 0; k < times; k++) out.set(row, head.length + k * row.length);
  return out;
}

export async function runPrior(pool: SessionPool, m: Manifest, p: PriorInputs): Promise<Float32Array> {
  const batch = p.cond.count;
  const { hC, wC } = p.geometry;
  const channels = m.geometry.priorChannels;
  const guided = isGuided(p.cfg);
  const rows = guided ? 2 * batch : batch;
  const names = m.prior.inputs;
  const session = await pool.get('prior');
  const feed = (dtype = m.prior.dtype) => new FloatFeed(dtype);
  const clipText = feed().tensor(guided ? stackRows(p.cond.hidden, p.uncond.hidden, batch) : p.cond.hidden, [rows, p.cond.tokens, p.cond.hiddenSize]);
  const pooled = feed().tensor(guided ? stackRows(p.cond.pooled, p.uncond.pooled, batch) : p.cond.pooled, [rows, 1, p.cond.pooledSize]);
  const groups = p.clipImage?.count ?? 1;
  const clipImgRow = p.clipImage?.embeds ?? new Float32Array(m.prior.clipImageSize);
  // Conditional rows: the groups; unconditional rows (after them): zeros.
  const clipImgValues = new Float32Array(rows * groups * m.prior.clipImageSize);
  for (let k = 0; k < batch; k++) clipImgValues.set(clipImgRow, k * clipImgRow.length);
  const clipImg = feed().tensor(clipImgValues, [rows, groups, m.prior.clipImageSize]);
  const result = await denoise({
    ...p,
    batch,
    predict: epsPredictor(
      {
        session,
        dtype: m.prior.dtype,
        names,
        output: m.prior.output,
        rowDims: [channels, hC, wC],
        conditioning: { [names.clipTextPooled]: pooled, [names.clipText]: clipText, [names.clipImg]: clipImg },
      },
      rows,
    ),
  });
  await pool.done('prior');
  return result;
}
