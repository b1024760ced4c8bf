/**
 * ℹ️ and `/info <job>`: everything needed to reproduce or cite a job, with the values people copy on
 * mobile (prompt, the full `/imagine` line, seed, job id) as separate copyable items.
 *
 * @example
 *   (await jobInfo(deps, 'j1')).copyable[1] // → { label: 'Reproduce', value: 'a fox --ar 1:1 --seed 7' }
 */
import type { JobId } from '../../core/job.js';
import type { BlobStore } from '../../core/ports.js';
import { isCancelRequested, isDeleted, loadDelivered, loadJob, loadResult } from '../job-records.js';
import { describeOptions } from '../message-model.js';
import type { InfoReply, Rejected } from './context.js';
import { rejected } from './enqueue.js';

export function notFound(jobId: string, deleted: boolean): Rejected {
  return deleted
    ? rejected('not_found', `Job ${jobId} was deleted by its owner.`)
    : rejected('not_found', `There is no job ${jobId} (it may have expired).`);
}

export async function jobInfo(deps: { blobs: BlobStore }, jobId: JobId): Promise<InfoReply | Rejected> {
  const [job, result, deleted] = await Promise.all([loadJob(deps.blobs, jobId), loadResult(deps.blobs, jobId), isDeleted(deps.blobs, jobId)]);
  if (!job) return notFound(jobId, deleted);
  const { request } = job;
  const options = describeOptions(request);
  const status = result ? 'done' : (await loadDelivered(deps.blobs, jobId))?.phase ?? ((await isCancelRequested(deps.blobs, jobId)) ? 'cancelling' : 'in progress');
  const lines = [
    `Kind: ${job.kind}${job.kind === 'variation' ? ` (${job.strength})` : ''} · status: ${status}`,
    `Prompt: ${request.prompt}`,
    ...(request.negativePrompt ? [`Negative: ${request.negativePrompt}`] : []),
    `Options: ${options}`,
    ...(request.imagePrompts ? [`Image prompts: ${request.imagePrompts.map((p) => `${p.key} (weight ${p.weight})`).join(', ')}`] : []),
    ...(request.initImage ? [`Starts from: ${request.initImage.key} (strength ${request.initImage.strength})`] : []),
    ...(job.parent ? [`From: job ${job.parent.jobId}, tile ${job.parent.index}`] : []),
    ...(result ? [`Size: ${result.width}×${result.height} · model ${result.model.name} (${result.model.variant})`] : []),
    ...(result ? [`Seeds: ${result.images.map((image) => `${image.index}: ${image.seed}`).join(', ')}`] : []),
    `Created: ${job.createdAt}`,
  ];
  return {
    kind: 'info',
    title: `Job ${job.id}`,
    lines,
    copyable: [
      { label: 'Prompt', value: request.prompt },
      { label: 'Reproduce', value: `${request.prompt} ${options}` },
      { label: 'Seed', value: String(request.seed) },
      { label: 'Job id', value: job.id },
    ],
  };
}
