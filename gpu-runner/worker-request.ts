/**
 * From a Job to the generator's request: output size, one seed per image, the styled prompt, and
 * for variations and upscales the parent's stored latent, for image prompts and image-to-image the pictures' bytes.
 * Pure apart from reading the parent and the pictures.
 */
import { ResultSchema, type Job, type Result } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import type { BlobStore } from '../core/ports.ts';
import { resolveDimensions } from '../core/dimensions.ts';
import type { ModelGuide } from '../core/model-notes.ts';
import { applyStyle } from '../core/styles.ts';
import { ParentMissingError } from '../core/errors.ts';
import { CorruptRecordError, readRecord } from '../core/stored-records.ts';
import { deriveSeed } from './cascade/noise.ts';
import type { GenerateRequest, Latent } from './generator.ts';

/** The parent image a variation or upscale starts from. */
export interface ParentTile {
  result: Result;
  width: number;
  height: number;
  seed: number;
  latent: Latent;
}

export async function loadParentTile(blobs: BlobStore, parent: { jobId: string; index: number }): Promise<ParentTile> {
  const result = await readRecord(blobs, jobKeys.result(parent.jobId), ResultSchema).catch((error: unknown) => {
    throw error instanceof CorruptRecordError ? new ParentMissingError(parent.jobId, 'its stored result is unreadable') : error;
  });
  if (!result) throw new ParentMissingError(parent.jobId, 'its result is not stored (expired, or it never finished)');
  const image = result.images.find((candidate) => candidate.index === parent.index);
  if (!image) throw new ParentMissingError(parent.jobId, `it has no image ${parent.index}`);
  const bytes = await blobs.get(image.latent.key);
  if (!bytes) throw new ParentMissingError(parent.jobId, `the latent of image ${parent.index} is not stored`);
  const [c, h, w] = image.latent.dims;
  const start = image.latent.offset ?? 0;
  const end = start + c * h * w * 4;
  // The job's shared latents object holds the others too; an object of its own (results from before) holds exactly this one.
  const fits = image.latent.offset === undefined ? bytes.byteLength === end : bytes.byteLength >= end;
  if (!fits) {
    throw new ParentMissingError(parent.jobId, `the latent of image ${parent.index} needs bytes ${start}–${end} of ${image.latent.key}, which has ${bytes.byteLength}`);
  }
  return { result, width: image.width, height: image.height, seed: image.seed, latent: { dims: [c, h, w], data: decodeLatent(bytes.subarray(start, end)) } };
}

/** The bytes of the pictures a request names (image prompts, image-to-image start), read from its keys. */
export interface RequestImages {
  imagePrompts?: { image: Uint8Array; weight: number }[];
  init?: { image: Uint8Array; strength: number };
}

/**
 * Reads the request's pictures. Keys were checked by the job schema (only uploads and tiles can be named); a picture
 * that is gone (expired, or its job deleted) ends the job like a missing parent: retrying cannot bring it back.
 */
export async function loadRequestImages(blobs: BlobStore, job: Job): Promise<RequestImages> {
  const { imagePrompts, initImage } = job.request;
  const read = async (key: string): Promise<Uint8Array> => {
    const bytes = await blobs.get(key);
    if (!bytes) throw new ParentMissingError(key.split('/')[1] ?? job.id, `the picture ${key} given with the request is not stored (expired or deleted)`);
    return bytes;
  };
  const [prompts, init] = await Promise.all([
    imagePrompts ? Promise.all(imagePrompts.map(async (p) => ({ image: await read(p.key), weight: p.weight }))) : undefined,
    initImage ? read(initImage.key).then((image) => ({ image, strength: initImage.strength })) : undefined,
  ]);
  return { ...(prompts ? { imagePrompts: prompts } : {}), ...(init ? { init } : {}) };
}

/** Upscales decode the stored latent onto a canvas twice as wide and tall. */
export const UPSCALE_FACTOR = 2;

export function buildGenerateRequest(job: Job, baseResolution: number, parent?: ParentTile, guide?: ModelGuide, images: RequestImages = {}): GenerateRequest {
  const { prompt, negativePrompt } = applyStyle(job.request, guide?.styles);
  const seedsFrom = (seed: number, count: number) => Array.from({ length: count }, (_, index) => deriveSeed(seed, index));
  switch (job.kind) {
    case 'imagine': {
      const { width, height } = resolveDimensions(job.request.aspect, job.request.size, baseResolution);
      return {
        kind: 'imagine', width, height, prompt, negativePrompt, chaos: job.request.chaos,
        seeds: seedsFrom(job.request.seed, job.request.count),
        ...(job.request.steps === undefined ? {} : { steps: job.request.steps }),
        ...(job.request.cfg === undefined ? {} : { cfg: job.request.cfg }),
        ...images,
      };
    }
    case 'variation': {
      const source = requireParent(job, parent);
      return {
        kind: 'variation', width: source.width, height: source.height, prompt, negativePrompt, source: source.latent, strength: job.strength,
        seeds: seedsFrom(job.request.seed, job.request.count),
        ...(job.request.steps === undefined ? {} : { steps: job.request.steps }),
        ...(job.request.cfg === undefined ? {} : { cfg: job.request.cfg }),
      };
    }
    case 'upscale': {
      const source = requireParent(job, parent);
      return { kind: 'upscale', width: source.width * UPSCALE_FACTOR, height: source.height * UPSCALE_FACTOR, prompt, negativePrompt, source: source.latent, seeds: [source.seed] };
    }
  }
}

function requireParent(job: Job, parent: ParentTile | undefined): ParentTile {
  if (!parent) throw new Error(`${job.kind} job ${job.id} needs its parent tile loaded first`);
  return parent;
}

/**
 * Latents back to back in one buffer (a job's latents share one object), float32 little-endian whatever the host's
 * byte order; `offsets[i]` is where latent i starts, in bytes.
 */
export function encodeLatents(latents: readonly Latent[]): { bytes: Uint8Array; offsets: number[] } {
  const offsets: number[] = [];
  let size = 0;
  for (const latent of latents) {
    offsets.push(size);
    size += latent.data.length * 4;
  }
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  latents.forEach((latent, which) => latent.data.forEach((value, index) => view.setFloat32(offsets[which]! + index * 4, value, true)));
  return { bytes, offsets };
}

export function decodeLatent(bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(bytes.byteLength / 4);
  for (let index = 0; index < values.length; index += 1) values[index] = view.getFloat32(index * 4, true);
  return values;
}
