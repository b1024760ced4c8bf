/**
 * Stage B (decoder): denoising of the 4-channel latent [B, 4, hB, wB] conditioned on the pooled text embedding and
 * `effnet` = the Stage C latent (spec §1.5, §2.4). Unconditional rows: negative prompt's pooled embedding, zero effnet.
 * Stage B decodes any Stage C latent onto any canvas whose latent is a multiple of 16 (upscale, spec §4.4).
 */
import type { Manifest } from '../manifest.ts';
import type { SessionPool } from '../sessions.ts';
import { denoise, epsPredictor, isGuided, type DenoiseOptions } from './denoise.ts';
import type { LatentGeometry } from './geometry.ts';
import { FloatFeed } from './io.ts';
import { stackRows } from './prior.ts';
import type { TextEmbeddings } from './text.ts';

export interface DecoderInputs extends Omit<DenoiseOptions, 'predict' | 'batch'> {
  geometry: LatentGeometry;
  /** Stage C latents, one per image: [B, 16, effnetHeight, effnetWidth]. */
  effnet: Float32Array;
  effnetDims: readonly [number, number];
  cond: TextEmbeddings;
  uncond: TextEmbeddings;
}

export async function runDecoder(pool: SessionPool, m: Manifest, d: DecoderInputs): Promise<Float32Array> {
  const batch = d.cond.count;
  const { hB, wB } = d.geometry;
  const guided = isGuided(d.cfg);
  const rows = guided ? 2 * batch : batch;
  const names = m.decoder.inputs;
  const priorChannels = m.geometry.priorChannels;
  if (d.effnet.length !== batch * priorChannels * d.effnetDims[0] * d.effnetDims[1]) {
    throw new Error(`decoder: effnet has ${d.effnet.length} values, expected ${batch}×${priorChannels}×${d.effnetDims.join('×')}`);
  }
  const session = await pool.get('decoder');
  const effnetRows = guided ? stackRows(d.effnet, new Float32Array(d.effnet.length / batch), batch) : d.effnet;
  const effnet = new FloatFeed(m.decoder.dtype).tensor(effnetRows, [rows, priorChannels, ...d.effnetDims]);
  const pooled = new FloatFeed(m.decoder.dtype).tensor(guided ? stackRows(d.cond.pooled, d.uncond.pooled, batch) : d.cond.pooled, [rows, 1, d.cond.pooledSize]);
  const result = await denoise({
    ...d,
    batch,
    predict: epsPredictor(
      {
        session,
        dtype: m.decoder.dtype,
        names,
        output: m.decoder.output,
        rowDims: [m.geometry.decoderChannels, hB, wB],
        conditioning: { [names.clipTextPooled]: pooled, [names.effnet]: effnet },
      },
      rows,
    ),
  });
  await pool.done('decoder');
  return result;
}
