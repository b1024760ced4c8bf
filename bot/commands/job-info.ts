/**
 * ℹ️ and `/info <job>`: everything needed to reproduce or cite a job, with the values people copy on
 * mobile (prompt, the full `/imagine` line, seed, job id) as separate copyable items.
 *
 * @example
 *   (await jobInfo(deps, 'j1')).copyable[1] // → { label: 'Reproduce', value: 'a fox --ar 1:1 --seed 7' }
 */
import type { GenerationRequest, Job, JobId, Requester } from '../../core/job.ts';
import type { BlobStore } from '../../core/ports.ts';
import { isCancelRequested, isDeleted, loadDelivered, loadJob, loadResult } from '../job-records.ts';
import { describeOptions, pictureSettings } from '../message-model.ts';
import { isOwner } from '../permissions.ts';
import type { InfoPicture, InfoReply, Rejected } from './context.ts';
import { rejected } from './enqueue.ts';

export function notFound(jobId: string, deleted: boolean): Rejected {
  return deleted
    ? rejected('not_found', `Job ${jobId} was deleted by its owner.`)
    : rejected('not_found', `There is no job ${jobId} (it may have expired).`);
}

/** How long the ℹ️ reply's picture links work: the reply is private and read at once. */
export const PICTURE_LINK_SECONDS = 15 * 60;

/**
 * Who asks for ℹ️ and how pictures are shown to them: `signed` links (Discord, Slack) only when the asker can see the
 * job (its owner, or someone in the channel it was made in; `/info <id>` elsewhere lists the pictures without links);
 * `by-key` (the playground, one shared channel) gives keys only, served by its /api/image to a session.
 */
export interface InfoViewer {
  asker: Pick<Requester, 'platform' | 'userId' | 'channelId'>;
  links: 'signed' | 'by-key';
}

export function picturesOf(request: GenerationRequest): InfoPicture[] {
  return pictureSettings(request).map((p, i) => ({ key: p.key, label: `Picture ${i + 1} · ${p.setting}` }));
}

function seesJob(asker: InfoViewer['asker'], job: Job): boolean {
  return isOwner(asker, job) || (asker.platform === job.requester.platform && asker.channelId === job.requester.channelId);
}

async function linkedPictures(blobs: BlobStore, job: Job, viewer: InfoViewer | undefined): Promise<InfoPicture[]> {
  const pictures = picturesOf(job.request);
  if (viewer?.links !== 'signed' || !seesJob(viewer.asker, job)) return pictures;
  return Promise.all(pictures.map(async (p) => ({ ...p, url: await blobs.presignedUrl(p.key, PICTURE_LINK_SECONDS) })));
}

export async function jobInfo(deps: { blobs: BlobStore }, jobId: JobId, viewer?: InfoViewer): Promise<InfoReply | Rejected> {
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
  const pictures = await linkedPictures(deps.blobs, job, viewer);
  return {
    kind: 'info',
    title: `Job ${job.id}`,
    lines,
    ...(pictures.length ? { pictures } : {}),
    copyable: [
      { label: 'Prompt', value: request.prompt },
      { label: 'Reproduce', value: `${request.prompt} ${options}` },
      { label: 'Seed', value: String(request.seed) },
      { label: 'Job id', value: job.id },
    ],
  };
}
