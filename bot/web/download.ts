/**
 * A tile as a PNG file that says how it was made: the stored PNG with text chunks (withPngText, the same as a mood
 * board's zip) holding the prompt, negative prompt, seed, options, the line that reproduces it, model and job. Text
 * that is not ASCII goes in iTXt (UTF-8), so prompts with emoji or CJK survive; image viewers and exiftool list them.
 * The pixels are the stored tile's: nothing is re-encoded.
 *
 * @example
 *   const file = await tileDownload(blobs, 'j4f2…', 2);   // → { bytes, fileName: 'cascade-j4f2…-2.png', parameters: {…} } | { status: 404, error }
 */
import type { JobId } from '../../core/job.ts';
import type { BlobStore } from '../../core/ports.ts';
import { loadJob, loadResult } from '../job-records.ts';
import { describeOptions } from '../message-model.ts';
import { withPngText } from '../png-text.ts';

export interface TileParameters {
  prompt: string;
  negativePrompt: string;
  seed: number;
  width: number;
  height: number;
  options: string;
  /** The /imagine line that makes this image again (as tile 1). */
  reproduce: string;
  model: string;
  jobId: string;
  tile: number;
}

export type TileDownload = { bytes: Buffer; fileName: string; parameters: TileParameters } | { status: 404; error: string };

export async function tileDownload(blobs: BlobStore, jobId: JobId, index: number): Promise<TileDownload> {
  const [job, result] = await Promise.all([loadJob(blobs, jobId), loadResult(blobs, jobId)]);
  const tile = result?.images.find((image) => image.index === index);
  if (!job || !result || !tile) return { status: 404, error: `Job ${jobId} has no finished image ${index} (deleted, expired or not done yet).` };
  const image = await blobs.get(tile.key);
  if (!image) return { status: 404, error: `The image ${index} of job ${jobId} is no longer stored.` };
  const options = describeOptions({ ...job.request, seed: tile.seed });
  const parameters: TileParameters = {
    prompt: job.request.prompt,
    negativePrompt: job.request.negativePrompt,
    seed: tile.seed,
    width: tile.width,
    height: tile.height,
    options,
    reproduce: `/imagine ${job.request.prompt} ${options}`,
    model: `${result.model.name} (${result.model.variant})`,
    jobId,
    tile: index,
  };
  const bytes = withPngText(image, pngTextOf(parameters));
  return { bytes, fileName: `cascade-${jobId}-${index}.png`, parameters };
}

/** The text chunks of a tile's file, keyword → text; the keywords are those of a mood board's zip where they overlap. */
function pngTextOf(parameters: TileParameters): Record<string, string> {
  return {
    prompt: parameters.prompt,
    ...(parameters.negativePrompt ? { negative_prompt: parameters.negativePrompt } : {}),
    seed: String(parameters.seed),
    size: `${parameters.width}x${parameters.height}`,
    options: parameters.options,
    reproduce: parameters.reproduce,
    model: parameters.model,
    job: `${parameters.jobId} tile ${parameters.tile}`,
  };
}
