/**
 * Stage A: Stage B latents × scaleFactor → VQGAN decoder (no quantisation, spec §1.6) → [B, 3, H, W] in ~[0, 1] →
 * clamp, ×255, round → interleaved 8-bit RGB. Also the optional previewer (Stage C latent → small RGB).
 */
import type { RgbImage } from '../../generator.ts';
import type { Manifest } from '../manifest.ts';
import type { SessionPool } from '../sessions.ts';
import { asFloat32, FloatFeed } from './io.ts';

export interface FloatImages {
  /** [count, 3, height, width], values as the graph produced them (not clamped). */
  data: Float32Array;
  count: number;
  height: number;
  width: number;
}

export async function decodeLatents(pool: SessionPool, m: Manifest, latents: Float32Array, dims: readonly [number, number, number, number]): Promise<FloatImages> {
  const scaled = new Float32Array(latents.length);
  const scale = Math.fround(m.vqgan.scaleFactor);
  for (let k = 0; k < latents.length; k++) scaled[k] = Math.fround(latents[k]! * scale);
  const session = await pool.get('vqgan');
  const out = await session.run({ [m.vqgan.input]: new FloatFeed(m.vqgan.dtype).tensor(scaled, dims) });
  await pool.done('vqgan');
  return floatImages(out[m.vqgan.output]?.dims, out[m.vqgan.output] ? asFloat32(out[m.vqgan.output]!) : undefined, 'vqgan decoder');
}

export async function previewLatents(pool: SessionPool, m: Manifest, latents: Float32Array, dims: readonly [number, number, number, number]): Promise<RgbImage[]> {
  const pv = m.previewer;
  if (!pv) return [];
  const session = await pool.get('previewer');
  const out = await session.run({ [pv.input]: new FloatFeed(pv.dtype).tensor(latents, dims) });
  return toRgbImages(floatImages(out[pv.output]?.dims, out[pv.output] ? asFloat32(out[pv.output]!) : undefined, 'previewer'));
}

function floatImages(dims: readonly number[] | undefined, data: Float32Array | undefined, what: string): FloatImages {
  if (!dims || !data || dims.length !== 4 || dims[1] !== 3) {
    throw new Error(`${what} must return [B, 3, H, W] images, got [${dims?.join(', ') ?? 'nothing'}]`);
  }
  return { data, count: dims[0]!, height: dims[2]!, width: dims[3]! };
}

/** Planar float [0, 1] → interleaved uint8 RGB, optionally cropped to width × height (top-left). */
export function toRgbImages(images: FloatImages, width = images.width, height = images.height): RgbImage[] {
  const plane = images.height * images.width;
  const result: RgbImage[] = [];
  for (let b = 0; b < images.count; b++) {
    const data = new Uint8Array(width * height * 3);
    const base = b * 3 * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const src = base + y * images.width + x;
        const dst = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) {
          const v = images.data[src + c * plane]!;
          data[dst + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
        }
      }
    }
    result.push({ width, height, data });
  }
  return result;
}
