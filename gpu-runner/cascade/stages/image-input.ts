/**
 * Pictures → the encoders' input tensors, with sharp, exactly as the manifest's encoder sections say (spec §1.3, §4.1):
 * - CLIP (`imageEncoder`): shortest side resized to `size` with bicubic (Catmull-Rom, antialiased when shrinking: PIL's
 *   BICUBIC, which CLIPImageProcessor uses), the long side to int(size · long / short) as transformers computes it,
 *   then a centre crop of size × size with the top/left offsets rounded down as transformers does;
 * - EfficientNet (`effnetEncoder`): resized to cover (cell·wC) × (cell·hC) with antialiased bilinear (torchvision's
 *   `resize(antialias=True)` in the official recipe), centre crop;
 * then RGB / 255 and (x − mean) / std per channel, planar [3, H, W]. Alpha is dropped, not composited (PIL's
 * `convert('RGB')`); the front ends store inputs as opaque PNGs anyway. Agreement with the references (transformers,
 * the PIL/torchvision filters): test/cascade/image-input.test.ts and test/cascade/image-parity.test.ts.
 */
import sharp from 'sharp';
import type { EncodedImage } from '../../generator.ts';
import type { EffnetEncoderSettings, ImageEncoderSettings } from '../manifest.ts';

/** Pixel limit of a picture given to the engine: front ends normalise uploads far below it; this bounds a forged key. */
export const MAX_INPUT_PIXELS = 40_000_000;

export interface PlanarImage {
  /** [3, height, width], normalised. */
  data: Float32Array;
  width: number;
  height: number;
}

/** CLIPImageProcessor's resize target: shortest side → size, the other int(size · long / short). */
export function clipResizeDims(width: number, height: number, size: number): { width: number; height: number } {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const scaledLong = Math.floor((size * long) / short);
  return width <= height ? { width: size, height: scaledLong } : { width: scaledLong, height: size };
}

/** Cover-resize dims for an exact target: the smallest scale at which both sides reach it. */
export function coverResizeDims(width: number, height: number, targetWidth: number, targetHeight: number): { width: number; height: number } {
  const scale = Math.max(targetWidth / width, targetHeight / height);
  return { width: Math.max(targetWidth, Math.round(width * scale)), height: Math.max(targetHeight, Math.round(height * scale)) };
}

export async function clipPixels(image: EncodedImage, s: Pick<ImageEncoderSettings, 'size' | 'mean' | 'std'>): Promise<PlanarImage> {
  return resizeCropNormalise(image, (w, h) => clipResizeDims(w, h, s.size), s.size, s.size, 'cubic', s.mean, s.std);
}

export async function effnetPixels(
  image: EncodedImage,
  s: Pick<EffnetEncoderSettings, 'cell' | 'mean' | 'std'>,
  latentHeight: number,
  latentWidth: number,
): Promise<PlanarImage> {
  const width = s.cell * latentWidth;
  const height = s.cell * latentHeight;
  return resizeCropNormalise(image, (w, h) => coverResizeDims(w, h, width, height), width, height, 'linear', s.mean, s.std);
}

/** Edge pixels copied around a picture before enlarging, so the interpolator never reads the black background. */
const ENLARGE_PAD = 3;

async function resizeCropNormalise(
  image: EncodedImage,
  resizeTo: (width: number, height: number) => { width: number; height: number },
  cropWidth: number,
  cropHeight: number,
  kernel: 'cubic' | 'linear',
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): Promise<PlanarImage> {
  // Pass 1: decode upright, sRGB, alpha dropped — to raw RGB, so no later step resamples premultiplied alpha.
  const decoded = await sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
    .rotate()
    .toColourspace('srgb')
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const { width, height } = decoded.info;
  const raw = { raw: { width, height, channels: 3 as const } };
  const resized = resizeTo(width, height);
  // Pass 2: resample. Shrinking: libvips' reduce with the kernel (antialiased, as PIL and torchvision's
  // antialias=True). Enlarging: libvips' resize samples pixel corners, PIL and torch pixel centres, so the picture is
  // enlarged with an affine transform whose offsets put centres on centres, over an edge-copied border.
  let pixels: Buffer;
  let stride: number;
  if (resized.width === width && resized.height === height) {
    pixels = decoded.data;
    stride = width;
  } else if (resized.width < width) {
    pixels = await sharp(decoded.data, raw).resize(resized.width, resized.height, { fit: 'fill', kernel }).raw().toBuffer();
    stride = resized.width;
  } else {
    const sx = resized.width / width;
    const sy = resized.height / height;
    const padded = await sharp(decoded.data, raw)
      .extend({ top: ENLARGE_PAD, bottom: ENLARGE_PAD, left: ENLARGE_PAD, right: ENLARGE_PAD, extendWith: 'copy' })
      .raw()
      .toBuffer();
    const enlarged = await sharp(padded, { raw: { width: width + 2 * ENLARGE_PAD, height: height + 2 * ENLARGE_PAD, channels: 3 } })
      .affine([sx, 0, 0, sy], {
        interpolator: kernel === 'cubic' ? sharp.interpolators.bicubic : sharp.interpolators.bilinear,
        odx: 0.5 * (sx - 1) - sx * ENLARGE_PAD,
        ody: 0.5 * (sy - 1) - sy * ENLARGE_PAD,
      })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (enlarged.info.width < resized.width || enlarged.info.height < resized.height) {
      throw new Error(`enlarging gave ${enlarged.info.width}×${enlarged.info.height}, expected at least ${resized.width}×${resized.height}`);
    }
    pixels = enlarged.data;
    stride = enlarged.info.width;
  }
  // Centre crop (offsets rounded down, as transformers' center_crop) and normalisation, into planar [3, H, W].
  const left = Math.floor((resized.width - cropWidth) / 2);
  const top = Math.floor((resized.height - cropHeight) / 2);
  const plane = cropWidth * cropHeight;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * std[c]!);
    const offset = mean[c]! / std[c]!;
    for (let y = 0; y < cropHeight; y++) {
      const row = ((y + top) * stride + left) * 3 + c;
      for (let x = 0; x < cropWidth; x++) out[c * plane + y * cropWidth + x] = pixels[row + x * 3]! * scale - offset;
    }
  }
  return { data: out, width: cropWidth, height: cropHeight };
}
