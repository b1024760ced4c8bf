/**
 * `/cancel [job]` and the ❌ button: writes `jobs/{id}/cancel.json`; the runner checks it before and
 * during work and ends the job with a `failed` event coded `cancelled`, which the dispatcher shows.
 * Without a job id, cancels the actor's newest job still in progress. Owner only.
 */
import type { JobId } from '../../core/job.ts';
import { listPending } from '../../core/pending.ts';
import { isDeleted, loadJob, loadResult, requestCancel } from '../job-records.ts';
import { isOwner } from '../permissions.ts';
import type { BotDeps, CommandContext, DoneReply, Rejected } from './context.ts';
import { rejected } from './enqueue.ts';
import { notFound } from './job-info.ts';

export async function cancel(deps: BotDeps, ctx: CommandContext, jobId?: JobId): Promise<DoneReply | Rejected> {
  const now = (deps.now ?? Date.now)();
  const id = jobId ?? (await listPending(deps.blobs, ctx.requester, now)).at(-1);
  if (!id) return rejected('not_found', 'You have no images in progress to cancel.');
  const job = await loadJob(deps.blobs, id);
  if (!job) return notFound(id, await isDeleted(deps.blobs, id));
  if (!isOwner(ctx.requester, job)) return rejected('not_allowed', 'Only the person who asked for this image can cancel it.');
  if (await loadResult(deps.blobs, id)) return rejected('already_finished', `Job ${id} has already finished.`);
  await requestCancel(deps.blobs, id, { v: 1, by: `${ctx.requester.platform}:${ctx.requester.userId}`, at: now });
  return { kind: 'done', action: 'cancelled', jobId: id, message: `Cancelling job ${id}. Its message will say when it stopped.` };
}
