/**
 * The optional encoders (manifest `imageEncoder`, `effnetEncoder`): pictures → Stage C conditioning or a Stage C latent.
 *
 * Image prompts (spec §2.3, §4.3): each picture's projected CLIP embedding becomes one group of Stage C's clip_img
 * ([B, n, D], n = 1..5 pictures, 4 tokens each after the prior's mapper); the unconditional rows get zeros of the same
 * shape (spec §3.6). A picture's WEIGHT SCALES ITS EMBEDDING: clip_img_i = w_i · image_embeds_i. Why scaling and not
 * repeating the group: the prior maps clip_img linearly and layer-normalises each token, so w = 0 is exactly the
 * "no image" null Stage C was trained with (zeros, spec §2.3), 0 < w < 1 moves continuously toward it, w > 1 pushes
 * further along the picture's direction and saturates (the token norm is normalised away); any real weight works
 * (--iw 0.5), the token count does not change with the weight, and a weight-0 picture costs no extra attention.
 * Repeating a group k times instead multiplies its share of attention by k, only in integer steps, and grows the
 * prior's key/value length with every repeat. Measured on the parity fixture's torch-made encoders
 * (bench/image-prompt-weight.ts, relative L2 distance of Stage C's output to the text-only output): scaling
 * w = 0 / 0.5 / 1 / 2 / 3 → 0 / 0.026 / 0.040 / 0.048 / 0.050 (monotone, saturating); repeating ×1 / ×2 / ×3 / ×5 →
 * 0.040 / 0.071 / 0.098 / 0.145 (unbounded, integer steps). A weight should be a bounded dial with an exact "off", so
 * the engine scales. It is also diffusers' only way to weight pictures: `image_embeds=` with embeddings the caller
 * scaled (test/cascade/image-parity.test.ts, case clip-weighted, matches it).
 */
import { MissingGraphError } from '../bundle.ts';
import type { Manifest } from '../manifest.ts';
import type { SessionPool } from '../sessions.ts';
import type { EncodedImage, ImagePrompt } from '../../generator.ts';
import { clipPixels, effnetPixels } from './image-input.ts';
import { asFloat32, FloatFeed } from './io.ts';

export const MAX_IMAGE_PROMPTS = 5;
/** Image weights above this saturate anyway (see above); the cap keeps forged values finite. */
export const MAX_IMAGE_WEIGHT = 3;

/** The conditional clip_img groups of one request: `count` embeddings of `size` values each, already weighted. */
export interface ClipImageGroups {
  count: number;
  size: number;
  embeds: Float32Array;
}

export function checkImagePrompts(prompts: readonly ImagePrompt[]): void {
  if (prompts.length > MAX_IMAGE_PROMPTS) throw new RangeError(`at most ${MAX_IMAGE_PROMPTS} image prompts, got ${prompts.length}`);
  for (const p of prompts) {
    if (!(p.weight >= 0 && p.weight <= MAX_IMAGE_WEIGHT)) throw new RangeError(`an image weight must be in [0, ${MAX_IMAGE_WEIGHT}], got ${p.weight}`);
  }
}

/** One image-encoder call for all pictures; returns the unweighted embeddings [n, D]. */
export async function encodeImages(pool: SessionPool, m: Manifest, images: readonly EncodedImage[]): Promise<Float32Array> {
  const enc = m.imageEncoder;
  if (!enc) throw new MissingGraphError('imageEncoder', m.name, 'image prompts');
  const plane = 3 * enc.size * enc.size;
  const pixels = new Float32Array(images.length * plane);
  const prepared = await Promise.all(images.map((image) => clipPixels(image, enc)));
  prepared.forEach((p, i) => pixels.set(p.data, i * plane));
  const session = await pool.get('imageEncoder');
  const out = await session.run({ [enc.input]: new FloatFeed(enc.dtype).tensor(pixels, [images.length, 3, enc.size, enc.size]) });
  await pool.done('imageEncoder');
  const embeds = out[enc.output];
  if (!embeds || embeds.dims.length !== 2 || embeds.dims[0] !== images.length || embeds.dims[1] !== enc.embedSize) {
    throw new Error(`image encoder returned [${embeds?.dims.join(', ') ?? 'nothing'}], expected [${images.length}, ${enc.embedSize}]`);
  }
  return Float32Array.from(asFloat32(embeds));
}

export async function encodeImagePrompts(pool: SessionPool, m: Manifest, prompts: readonly ImagePrompt[]): Promise<ClipImageGroups> {
  checkImagePrompts(prompts);
  const embeds = await encodeImages(pool, m, prompts.map((p) => p.image));
  const size = m.prior.clipImageSize;
  prompts.forEach((p, i) => {
    for (let k = i * size; k < (i + 1) * size; k++) embeds[k] = embeds[k]! * p.weight;
  });
  return fitClipImageGroups({ count: prompts.length, size, embeds }, m.prior.clipImageGroups);
}

/**
 * The groups as the prior takes them: unchanged for a dynamic group axis; for a prior exported with exactly one group
 * (the demo's), the weighted embeddings summed into it. A sum, not a mean, so each picture keeps its weight's meaning (a
 * weight-0 picture adds nothing, 2 : 1 stays 2 : 1) and one picture is unchanged; the prior layer-normalises the token,
 * so the larger norm of a sum mostly cancels (see the weight note above).
 */
export function fitClipImageGroups(groups: ClipImageGroups, fixedGroups: 1 | undefined): ClipImageGroups {
  if (fixedGroups === undefined || groups.count <= fixedGroups) return groups;
  const summed = new Float32Array(groups.size);
  for (let i = 0; i < groups.count; i++) {
    for (let k = 0; k < groups.size; k++) summed[k] = summed[k]! + groups.embeds[i * groups.size + k]!;
  }
  return { count: 1, size: groups.size, embeds: summed };
}

/** A picture → its Stage C latent [channels, hC, wC] (spec §4.1), for image-to-image. */
export async function encodeInitImage(pool: SessionPool, m: Manifest, image: EncodedImage, hC: number, wC: number): Promise<Float32Array> {
  const enc = m.effnetEncoder;
  if (!enc) throw new MissingGraphError('effnetEncoder', m.name, 'image-to-image from a picture');
  const pixels = await effnetPixels(image, enc, hC, wC);
  const session = await pool.get('effnetEncoder');
  const out = await session.run({ [enc.input]: new FloatFeed(enc.dtype).tensor(pixels.data, [1, 3, pixels.height, pixels.width]) });
  await pool.done('effnetEncoder');
  const latent = out[enc.output];
  const want = [1, enc.channels, hC, wC];
  if (!latent || latent.dims.join() !== want.join()) {
    throw new Error(`EfficientNet encoder returned [${latent?.dims.join(', ') ?? 'nothing'}] for a ${pixels.width}×${pixels.height} picture, expected [${want.join(', ')}]`);
  }
  return Float32Array.from(asFloat32(latent));
}
