/**
 * Stores what the generator made at the job's fixed keys: every image, the latents (one object), the grid (for
 * deliveries that attach one: storesGridImage), and `result.json` LAST — its presence means "done",
 * so a crash mid-upload leaves a job that is simply computed again, never a result that points at
 * missing files.
 */
import { ResultSchema, storesGridImage, WIRE_VERSION, type Job, type Result } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import { writeRecord } from '../core/stored-records.ts';
import type { BlobStore } from '../core/ports.ts';
import type { GenerateOutput, GenerateRequest } from './generator.ts';
import { composeGrid, encodePng } from './imaging.ts';
import { encodeLatents } from './worker-request.ts';

export interface StoreOutputsInput {
  job: Job;
  request: GenerateRequest;
  output: GenerateOutput;
  model: { name: string; variant: string; imagePrompts?: boolean };
  runnerId: string;
  /** Notes for the user about what the model could not draw (core/model-notes.ts). */
  notes?: string[];
  /** Timings measured by the worker (ms), merged with the generator's. */
  timings: Record<string, number>;
  /** Wraps each store call (the worker retries connection failures). */
  attempt: <T>(what: string, operation: () => Promise<T>) => Promise<T>;
}

export async function storeOutputs(blobs: BlobStore, input: StoreOutputsInput): Promise<Result> {
  const { job, request, output } = input;
  checkOutput(request, output);
  const started = performance.now();
  // Encode and upload concurrently (sharp works on libuv's thread pool); only result.json waits for all.
  const gridKey = jobKeys.grid(job.id, 'png');
  const grid = storesGridImage(job.delivery) ? composeGrid(output.images) : undefined;
  const storeGrid = grid && encodePng(grid).then((png) => input.attempt(`upload ${gridKey}`, () => blobs.put(gridKey, png, 'image/png')));
  // The latents go up while the images are encoded, so that after the encodes this thread has only the images' uploads to do.
  const latentsKey = jobKeys.latents(job.id);
  const latents = encodeLatents(output.latents);
  const storeLatents = input.attempt(`upload ${latentsKey}`, () => blobs.put(latentsKey, latents.bytes, 'application/octet-stream'));
  const storeImages = output.images.map(async (image, offset) => {
    const index = offset + 1;
    const imageKey = jobKeys.image(job.id, index);
    const png = await encodePng(image);
    await input.attempt(`upload ${imageKey}`, () => blobs.put(imageKey, png, 'image/png'));
    const latent = { key: latentsKey, dims: output.latents[offset]!.dims, dtype: 'float32' as const, offset: latents.offsets[offset]! };
    return { index, key: imageKey, width: image.width, height: image.height, seed: request.seeds[offset]!, latent };
  });
  // One Promise.all over every upload: a failure fails the job, and none rejects later unobserved.
  const [images] = await Promise.all([Promise.all(storeImages), storeLatents, storeGrid]);

  const result = ResultSchema.parse({
    v: WIRE_VERSION,
    jobId: job.id,
    kind: job.kind,
    width: request.width,
    height: request.height,
    ...(grid ? { grid: { key: gridKey, width: grid.width, height: grid.height, contentType: 'image/png' } } : {}),
    images,
    model: input.model,
    timings: { ...output.timings, ...input.timings, upload: performance.now() - started },
    finishedAt: new Date().toISOString(),
    runnerId: input.runnerId,
    ...(input.notes && input.notes.length > 0 ? { notes: input.notes } : {}),
  });
  await input.attempt(`upload ${jobKeys.result(job.id)}`, () => writeRecord(blobs, jobKeys.result(job.id), ResultSchema, result));
  return result;
}

/** The generator is another team's code: check its output against the request before storing anything. */
function checkOutput(request: GenerateRequest, output: GenerateOutput): void {
  const expected = request.seeds.length;
  if (output.images.length !== expected || output.latents.length !== expected) {
    throw new Error(`generator returned ${output.images.length} images and ${output.latents.length} latents, expected ${expected} of each`);
  }
  for (const image of output.images) {
    if (image.width !== request.width || image.height !== request.height) {
      throw new Error(`generator returned a ${image.width}×${image.height} image, expected ${request.width}×${request.height}`);
    }
  }
  for (const latent of output.latents) {
    const [c, h, w] = latent.dims;
    if (latent.data.length !== c * h * w) throw new Error(`latent dims ${latent.dims.join('×')} do not match its ${latent.data.length} values`);
  }
}
