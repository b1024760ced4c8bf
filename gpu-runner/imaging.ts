/**
 * Pixels to files for the runner: PNG for images and grids, JPEG for quick previews. Grids are composed
 * here in plain TypeScript (row copies) and encoded once. (The bot side uses sharp on its own, for
 * attachment sizes, board collages and exports.)
 */
import sharp from 'sharp';
import type { RgbImage } from './generator.ts';

/**
 * zlib level for PNGs up to 1024² pixels (every tile of the demo model and of Stable Cascade at its base size, and
 * the 2×2 grid of 512² tiles): the encodes right after the model are on the path to the user's grid. Level 1 against
 * level 2 on the demo model's 256² tiles: four at once 7.1–7.9 → 4.7–5.3 ms (2 cores), +37 % bytes; the 512² grid
 * alone 10.7 → 6.9 ms, 421 → 573 KiB; a 1024² grid stays near 2.5 MiB, far under chat upload limits (Discord
 * 10 MiB). bench/e2e-latency.ts, eight interleaved pairs with tiles at level 1: not model compute 51.4 → 45.5 ms,
 * submit → grid 495 → 488 ms.
 */
const QUICK_MAX_PIXELS = 1024 * 1024;
const QUICK_COMPRESSION_LEVEL = 1;
/**
 * Larger images (a 2048² grid of 1024² tiles, upscales) keep level 2. Measured on the demo model's 256² tiles +
 * 512² grid: level 6 (sharp's default) 20 ms / 868 KiB, level 2 16 ms / 896 KiB (+3 %), level 1 11 ms / 1223 KiB;
 * adaptive filtering −17 % size for +70 % time.
 */
const LARGE_COMPRESSION_LEVEL = 2;

function compressionLevelFor(image: RgbImage): number {
  return image.width * image.height <= QUICK_MAX_PIXELS ? QUICK_COMPRESSION_LEVEL : LARGE_COMPRESSION_LEVEL;
}

/** Lossless; the zlib level follows the image's size (above) unless given. */
export async function encodePng(image: RgbImage, compressionLevel = compressionLevelFor(image)): Promise<Uint8Array> {
  checkImage(image);
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png({ compressionLevel }).toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
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
