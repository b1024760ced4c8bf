/**
 * The one platform-neutral way every front end (Discord, Slack, web) enqueues a job.
 *
 * Order matters for "nothing lost": the per-user pending marker, then the job record (`jobs/{id}/job.json`,
 * written while the cap is checked again, for concurrent submits) land before the queue message, so a runner never receives a job whose record is
 * missing; the `queued` event goes last. Submitting the same job id twice (a platform retry of the
 * same interaction) sends nothing new and answers like the first time. If the queue send throws, the
 * record and the marker are removed again (best effort, logged), so the failure costs the user no cap slot
 * and the same request may be tried again at once; the same when job.json cannot be written.
 *
 * The first checks (is this a duplicate? is the user at the cap?) need only the job's id and requester: a caller
 * still reading what goes into the job (saved defaults) starts them with `checkAdmission` and passes them in, so they
 * cost no round trip of their own.
 *
 * @example
 *   const outcome = await submitJob({ queue, events, blobs }, job);
 *   if (!outcome.accepted) reply(outcome.message);   // "You already have 3 images in progress (the limit is 3). …"
 *   else reply(`Queued (position ${outcome.position ?? '?'})`);
 */
import { JobSchema, WIRE_VERSION, type Job, type JobId, type Requester } from '../core/job.ts';
import { jobKeys, pendingKeys } from '../core/storage-layout.ts';
import { writeRecord } from '../core/stored-records.ts';
import type { BlobStore, EventBus, JobQueue } from '../core/ports.ts';
import { listPending, markPending } from '../core/pending.ts';
import { TooManyPendingError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/log.ts';

export const DEFAULT_MAX_PENDING_PER_USER = 3;

export interface SubmitDeps {
  queue: JobQueue;
  events: EventBus;
  blobs: BlobStore;
  /** Jobs one user may have waiting or running at once (default 3). */
  maxPendingPerUser?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Where a failed send and its clean-up are reported (default: stderr). */
  log?: Logger;
}

const defaultLog = createLogger({ fields: { part: 'submit' } });

export type SubmitOutcome =
  | {
      accepted: true;
      jobId: JobId;
      /** 1-based place in the queue when it could be read (approximate, as SQS counts are). */
      position?: number;
      /** True when this job id had been submitted before; nothing was sent again. */
      duplicate: boolean;
    }
  | {
      accepted: false;
      code: 'too_many_pending';
      /** A sentence for the user. */
      message: string;
      pending: number;
      limit: number;
    };

/** What submitJob checks first; `checkAdmission` starts them ahead of the job record. */
export interface AdmissionChecks {
  jobId: JobId;
  /** The job's record exists: an earlier submit of the same id got through. */
  duplicate: boolean;
  /** The requester's jobs waiting or running (their pending markers). */
  pending: string[];
}

/** The duplicate check and the cap check: independent of each other, so one round trip for both. */
export async function checkAdmission(deps: SubmitDeps, jobId: JobId, requester: Pick<Requester, 'platform' | 'userId'>): Promise<AdmissionChecks> {
  const now = deps.now ?? Date.now;
  const [duplicate, pending] = await Promise.all([deps.blobs.exists(jobKeys.job(jobId)), listPending(deps.blobs, requester, now())]);
  return { jobId, duplicate, pending };
}

/**
 * Validates and enqueues a job. Refusals the user can act on are returned; infrastructure failures throw.
 * `checks`: checkAdmission for this job, started earlier by the caller (else they are made here).
 */
export async function submitJob(deps: SubmitDeps, input: Job, checks?: Promise<AdmissionChecks>): Promise<SubmitOutcome> {
  const job = JobSchema.parse(input);
  const now = deps.now ?? Date.now;
  const limit = deps.maxPendingPerUser ?? DEFAULT_MAX_PENDING_PER_USER;

  const { jobId, duplicate, pending } = await (checks ?? checkAdmission(deps, job.id, job.requester));
  if (jobId !== job.id) throw new Error(`submitJob: admission checks for ${jobId} passed with job ${job.id}`);
  if (duplicate) return { accepted: true, jobId: job.id, duplicate: true };
  if (pending.length >= limit) {
    const refusal = new TooManyPendingError(pending.length, limit);
    return { accepted: false, code: 'too_many_pending', message: refusal.message, pending: pending.length, limit };
  }

  // Two submits from one user at the same moment both pass the first check; after both markers are
  // written, each sees the other, and only the oldest `limit` jobs go ahead. (Narrows the race rather
  // than closing it: an exact cap needs a conditional put, which the emulator does not enforce.)
  await markPending(deps.blobs, job);
  // job.json is written while the cap is checked again; both are done before the queue message.
  const [recorded, listed] = await Promise.allSettled([writeRecord(deps.blobs, jobKeys.job(job.id), JobSchema, job), listPending(deps.blobs, job.requester, now())]);
  if (recorded.status === 'rejected' || listed.status === 'rejected') {
    const error: unknown = recorded.status === 'rejected' ? recorded.reason : (listed as PromiseRejectedResult).reason;
    await releaseUnsentJob(deps, job, error);
    throw error;
  }
  const ahead = listed.value;
  const place = ahead.indexOf(job.id);
  if (place >= limit) {
    await deps.blobs.delete([pendingKeys.marker(job), jobKeys.job(job.id)]);
    const refusal = new TooManyPendingError(ahead.length - 1, limit);
    return { accepted: false, code: 'too_many_pending', message: refusal.message, pending: ahead.length - 1, limit };
  }
  try {
    await deps.queue.send(job);
  } catch (error) {
    await releaseUnsentJob(deps, job, error);
    throw error;
  }

  const position = await readPosition(deps.queue);
  await deps.events.publish({ v: WIRE_VERSION, type: 'queued', jobId: job.id, at: now(), ...(position === undefined ? {} : { position }) });
  return { accepted: true, jobId: job.id, duplicate: false, ...(position === undefined ? {} : { position }) };
}

/**
 * Gives back what was written for a job whose queue send threw (or whose job.json write or second cap check failed): the pending marker (the user's cap
 * slot) and job.json (which would make a retry of the same request look like a duplicate). Best
 * effort: a failed clean-up is logged, and the marker still stops counting after the queue retention.
 * If the send did reach the queue despite the error (a timed-out response), the job still runs but is
 * not delivered (no job.json); the user was told it failed and a retry makes a new job.
 */
async function releaseUnsentJob(deps: SubmitDeps, job: Job, cause: unknown): Promise<void> {
  const log = deps.log ?? defaultLog;
  try {
    await deps.blobs.delete([pendingKeys.marker(job), jobKeys.job(job.id)]);
    log.warn('job_not_enqueued', { jobId: job.id, error: cause, released: true });
  } catch (cleanupError) {
    log.error('job_not_enqueued', { jobId: job.id, error: cause, released: false, cleanupError });
  }
}

/** Everything waiting plus everything running is ahead of or equal to the new job; a failed read only loses the hint. */
async function readPosition(queue: JobQueue): Promise<number | undefined> {
  try {
    const depth = await queue.depth();
    return Math.max(1, depth.visible + depth.inFlight);
  } catch {
    return undefined;
  }
}
