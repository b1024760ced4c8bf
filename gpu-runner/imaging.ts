/**
 * Pixels to files. The only module that imports sharp (style guide): PNG for images and grids,
 * JPEG for quick previews. Grids are composed here in plain TypeScript (row copies) and encoded once.
 */
import sharp from 'sharp';
import type { RgbImage } from './generator.js';

/**
 * zlib level for PNGs. Measured on the demo model's 256² tiles + 512² grid (bench/e2e-latency.ts, 2 cores):
 * level 6 (sharp's default) 20 ms / 868 KiB, level 2 16 ms / 896 KiB (+3 %), level 1 11 ms / 1223 KiB (+41 %,
 * too much for chat upload limits at 1024²); adaptive filtering −17 % size for +70 % time.
 */
const PNG_COMPRESSION_LEVEL = 2;
/**
 * The grid is the one long encode after generation (four tiles' pixels on one thread, the tiles beside it on
 * the others). Up to 1024² it uses level 1: on the demo model's 512² grid 10.7 → 6.9 ms alone, all five PNGs
 * at once 16.5 → 11.5 ms (2 cores), file 421 → 573 KiB (+36 %); a 1024² grid stays near 2.5 MiB, far under
 * chat upload limits (Discord 10 MiB). Larger grids (2048² from 1024² tiles) keep level 2.
 */
const QUICK_GRID_MAX_PIXELS = 1024 * 1024;
const QUICK_GRID_COMPRESSION_LEVEL = 1;

export async function encodePng(image: RgbImage, compressionLevel = PNG_COMPRESSION_LEVEL): Promise<Uint8Array> {
  checkImage(image);
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png({ compressionLevel }).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A grid from composeGrid as PNG: quicker zlib while the file stays small (see QUICK_GRID_MAX_PIXELS). */
export function encodeGridPng(grid: RgbImage): Promise<Uint8Array> {
  return encodePng(grid, grid.width * grid.height <= QUICK_GRID_MAX_PIXELS ? QUICK_GRID_COMPRESSION_LEVEL : PNG_COMPRESSION_LEVEL);
}

export async function encodeJpeg(image: RgbImage, quality = 80): Promise<Uint8Array> {
  checkImage(image);
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).jpeg({ quality }).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Decodes any image sharp reads into interleaved 8-bit RGB (used by tests and upscale checks). */
export async function decodeToRgb(bytes: Uint8Array): Promise<RgbImage> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/**
 * Tiles images of one size into a 2×2 grid (left to right, top to bottom); one image is returned as is.
 * Empty cells (2 or 3 images) stay black.
 */
export function composeGrid(images: readonly RgbImage[]): RgbImage {
  const first = images[0];
  if (!first) throw new Error('composeGrid needs at least one image');
  if (images.length > 4) throw new Error(`composeGrid takes at most 4 images, got ${images.length}`);
  for (const image of images) {
    checkImage(image);
    if (image.width !== first.width || image.height !== first.height) {
      throw new Error(`grid images must share one size: expected ${first.width}×${first.height}, got ${image.width}×${image.height}`);
    }
  }
  if (images.length === 1) return first;
  const width = first.width * 2;
  const height = first.height * 2;
  const data = new Uint8Array(width * height * 3);
  const rowBytes = first.width * 3;
  images.forEach((image, index) => {
    const left = (index % 2) * first.width;
    const top = Math.floor(index / 2) * first.height;
    for (let y = 0; y < first.height; y += 1) {
      data.set(image.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((top + y) * width + left) * 3);
    }
  });
  return { width, height, data };
}

function checkImage(image: RgbImage): void {
  const expected = image.width * image.height * 3;
  if (image.data.length !== expected) {
    throw new Error(`RGB image ${image.width}×${image.height} needs ${expected} bytes, got ${image.data.length}`);
  }
}
