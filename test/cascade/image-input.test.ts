/**
 * Picture preprocessing (sharp) against reference tensors made by tools/export/make_preprocess_refs.py:
 * transformers' CLIPImageProcessor (PIL backend: shortest side → size bicubic, centre crop, CLIP mean/std) and the
 * EfficientNet recipe (antialiased bilinear cover-resize on [0, 1] floats, centre crop, ImageNet mean/std).
 *
 * Tolerances, in normalised units (1/255 of a pixel is 0.015 for CLIP, 0.017 for ImageNet):
 * - when no resampling happens (the picture already has the encoder's size) the tensors agree to float rounding (1e-5);
 * - with resampling, sharp works on 8-bit samples and libvips' reduce (a box pre-shrink, then the kernel) is not PIL's
 *   filter bit for bit: the mean absolute difference stays under 1.5 levels (0.025; observed 0.001–0.019, the largest
 *   for a 6× shrink) and the largest under 0.4 (observed up to 0.29, on the checkered pattern's edges); a wrong kernel,
 *   size, crop offset, alignment, channel order or normalisation gives 0.03–2 on average (corner-aligned enlarging:
 *   0.13), so these bounds catch them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { clipPixels, clipResizeDims, coverResizeDims, effnetPixels } from '../../gpu-runner/cascade/stages/image-input.ts';

const DIR = fileURLToPath(new URL('../fixtures/image-preprocess', import.meta.url));
const index = JSON.parse(readFileSync(`${DIR}/refs.json`, 'utf8')) as {
  clipMean: [number, number, number];
  clipStd: [number, number, number];
  imagenetMean: [number, number, number];
  imagenetStd: [number, number, number];
  tensors: Record<string, { offset: number; dims: number[] }>;
};
const bytes = readFileSync(`${DIR}/refs.bin`);
const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
function reference(name: string): { data: Float32Array; dims: number[] } {
  const entry = index.tensors[name];
  if (!entry) throw new Error(`no reference ${name}`);
  const count = entry.dims.reduce((a, b) => a * b, 1);
  return { data: values.subarray(entry.offset, entry.offset + count), dims: entry.dims };
}
const picture = (name: string) => new Uint8Array(readFileSync(`${DIR}/${name}.png`));
const clip = { mean: index.clipMean, std: index.clipStd };
const imagenet = { mean: index.imagenetMean, std: index.imagenetStd };

function differences(ours: Float32Array, ref: Float32Array): { mean: number; max: number } {
  expect(ours.length).toBe(ref.length);
  let sum = 0;
  let max = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i]! - ref[i]!);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / ours.length, max };
}

describe('GIVEN pictures and the reference preprocessing', () => {
  const clipCases = Object.keys(index.tensors).filter((k) => k.startsWith('clip'));
  for (const key of clipCases) {
    const [kind, name] = key.split('/') as [string, string];
    const size = Number(kind.slice('clip'.length));
    it(`WHEN ${name}.png is prepared for CLIP at ${size} THEN it matches CLIPImageProcessor`, async () => {
      const ref = reference(key);
      const ours = await clipPixels(picture(name), { size, ...clip });
      expect([3, ours.height, ours.width]).toEqual(ref.dims);
      const d = differences(ours.data, ref.data);
      expect(d.mean).toBeLessThan(0.025);
      expect(d.max).toBeLessThan(0.4);
    });
  }

  const effnetCases = Object.keys(index.tensors).filter((k) => k.startsWith('effnet'));
  for (const key of effnetCases) {
    const [kind, name] = key.split('/') as [string, string];
    const [cell, hC, wC] = kind.slice('effnet'.length).split('x').map(Number) as [number, number, number];
    it(`WHEN ${name}.png is prepared for EfficientNet (cell ${cell}, latent ${hC}×${wC}) THEN it matches the recipe`, async () => {
      const ref = reference(key);
      const ours = await effnetPixels(picture(name), { cell, ...imagenet }, hC, wC);
      expect([3, ours.height, ours.width]).toEqual(ref.dims);
      const d = differences(ours.data, ref.data);
      expect(d.mean).toBeLessThan(0.025);
      expect(d.max).toBeLessThan(0.4);
    });
  }

  it('WHEN the picture already has the encoder size THEN no resampling happens and the values are exact', async () => {
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 10, g: 128, b: 250 } } }).png().toBuffer();
    const ours = await clipPixels(new Uint8Array(png), { size: 32, ...clip });
    for (const [c, v] of [10, 128, 250].entries()) {
      const expected = (v / 255 - clip.mean[c]!) / clip.std[c]!;
      expect(Math.abs(ours.data[c * 32 * 32 + 500]! - expected)).toBeLessThan(1e-5);
    }
  });

  it('WHEN a picture is sideways by EXIF orientation THEN it is used upright', async () => {
    // A 40×20 picture, left half red, stored with orientation 6 (rotate 90° clockwise to view): upright it is 20×40
    // with red on top.
    const raw = new Uint8Array(40 * 20 * 3);
    for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) raw[(y * 40 + x) * 3] = 255;
    const jpeg = await sharp(raw, { raw: { width: 40, height: 20, channels: 3 } }).withMetadata({ orientation: 6 }).png().toBuffer();
    const ours = await effnetPixels(new Uint8Array(jpeg), { cell: 4, mean: [0, 0, 0], std: [1, 1, 1] }, 10, 5);
    expect([ours.width, ours.height]).toEqual([20, 40]);
    const red = (x: number, y: number) => ours.data[y * 20 + x]!;
    expect(red(10, 5)).toBeGreaterThan(0.9);
    expect(red(10, 35)).toBeLessThan(0.1);
  });

  it('THEN the resize targets follow transformers (short side → size, long side floored) and cover-resize', () => {
    expect(clipResizeDims(397, 261, 224)).toEqual({ width: 340, height: 224 });
    expect(clipResizeDims(150, 320, 224)).toEqual({ width: 224, height: 477 });
    expect(coverResizeDims(397, 261, 96, 192)).toEqual({ width: 292, height: 192 });
    expect(coverResizeDims(20, 28, 24, 40)).toEqual({ width: 29, height: 40 });
  });
});
