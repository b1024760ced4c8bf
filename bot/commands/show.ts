/**
 * `/show <job>`: post a past job again, as a new message, from what S3 holds (the grid bytes are
 * re-uploaded: platform CDN links expire, S3 is the source of truth). Works across platforms
 * for the owner; others may show jobs of their own workspace on the same platform. A front end that
 * draws images from their store keys (the web playground) passes `'by-key'`: no grid is needed or read.
 */
import { JobIdSchema } from '../../core/job.ts';
import { loadAttachment } from '../attachment.ts';
import { isDeleted, loadJob, loadResult } from '../job-records.ts';
import { buildJobMessage } from '../message-model.ts';
import { isOwner } from '../permissions.ts';
import type { BotDeps, CommandContext, Rejected, ShowReply } from './context.ts';
import { rejected } from './enqueue.ts';
import { notFound } from './job-info.ts';

export async function show(deps: BotDeps, ctx: CommandContext, jobId: string, attachmentLimitBytes: number | 'by-key'): Promise<ShowReply | Rejected> {
  const parsedId = JobIdSchema.safeParse(jobId.trim().toLowerCase());
  if (!parsedId.success) return rejected('invalid_job_id', 'That is not a job id: copy it from ℹ️ on the image (it looks like j4f2…).');
  const id = parsedId.data;
  const job = await loadJob(deps.blobs, id);
  if (!job) return notFound(id, await isDeleted(deps.blobs, id));
  const sameWorkspace = job.requester.platform === ctx.requester.platform && job.requester.workspaceId === ctx.requester.workspaceId;
  if (!isOwner(ctx.requester, job) && !sameWorkspace) return rejected('not_allowed', `Job ${id} belongs to another workspace.`);
  const result = await loadResult(deps.blobs, id);
  if (!result) return rejected('not_finished', `Job ${id} has not finished yet; its own message shows its progress.`);
  const message = buildJobMessage(job, { phase: 'completed', result, updatedAt: Date.parse(result.finishedAt) });
  if (attachmentLimitBytes === 'by-key') return { kind: 'show', jobId: id, message };
  if (!result.grid) return rejected('no_grid', `Job ${id} was made in the web playground, which keeps its four images but no grid to post; open it there.`);
  const attachment = await loadAttachment(deps.blobs, result.grid.key, result.grid.contentType, `grid-${id}`, attachmentLimitBytes);
  if (!attachment) return rejected('not_found', `The images of job ${id} are no longer stored.`);
  return { kind: 'show', jobId: id, message, attachment };
}
