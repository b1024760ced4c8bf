/**
 * Image size → latent sizes (spec §1.2, official rule): h_c = ceil(H / priorCompression), h_b = ceil(H / decoderCompression),
 * never diffusers' int(h_c × 10.67), which gives odd Stage B sizes for many aspect ratios.
 */
import type { Manifest } from '../manifest.ts';

export interface LatentGeometry {
  width: number;
  height: number;
  /** Stage C latent [priorChannels, hC, wC]. */
  hC: number;
  wC: number;
  /** Stage B latent [decoderChannels, hB, wB]. */
  hB: number;
  wB: number;
}

export function latentGeometry(m: Manifest, width: number, height: number): LatentGeometry {
  const { priorCompression, decoderCompression } = m.geometry;
  return {
    width,
    height,
    hC: Math.ceil(height / priorCompression),
    wC: Math.ceil(width / priorCompression),
    hB: Math.ceil(height / decoderCompression),
    wB: Math.ceil(width / decoderCompression),
  };
}

/** Throws a specific error when a requested size is not one the bundle can make. */
export function checkImageSize(m: Manifest, width: number, height: number, what = 'image', maxSide = m.resolution.max): void {
  const { multiple, min } = m.resolution;
  const max = maxSide;
  for (const [side, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value % multiple !== 0 || value < min || value > max) {
      throw new RangeError(`${what} ${side} ${value} is not allowed by model ${m.name}: use a multiple of ${multiple} in [${min}, ${max}]`);
    }
  }
}
