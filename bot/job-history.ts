/**
 * Past jobs read back from the object store alone, for pages and commands that show history
 * without having seen the events: a gallery (newest first), one job's current snapshot after a page
 * reload or a restart, and a job's lineage up to the original /imagine.
 *
 * @example
 *   const snapshot = await loadJobSnapshot(blobs, 'j4f2');   // → { job, state: { phase: 'completed', result, … } }
 *   buildJobMessage(snapshot.job, snapshot.state)            // the same message the dispatcher last delivered
 */
import type { Job, JobId } from '../core/job.ts';
import type { BlobStore } from '../core/ports.ts';
import { jobIdOfRecordKey, STORAGE_PREFIXES } from '../core/storage-layout.ts';
import { isDeleted, loadDelivered, loadJob, loadResult } from './job-records.ts';
import type { JobState } from './job-state.ts';

export interface JobSnapshot {
  job: Job;
  /** Completed (with result), failed/cancelled (with the reason shown), or queued when still in progress (progress is not stored). */
  state: JobState;
}

export async function loadJobSnapshot(blobs: BlobStore, id: JobId): Promise<JobSnapshot | null> {
  const [job, result, delivered, deleted] = await Promise.all([loadJob(blobs, id), loadResult(blobs, id), loadDelivered(blobs, id), isDeleted(blobs, id)]);
  if (!job || deleted) return null;
  if (result) return { job, state: { phase: 'completed', result, progress: { fraction: 1 }, updatedAt: Date.parse(result.finishedAt) } };
  if (delivered && delivered.phase !== 'completed') {
    const failure = delivered.failure ? { failure: { ...delivered.failure, willRetry: false } } : {};
    return { job, state: { phase: delivered.phase, updatedAt: delivered.at, ...failure } };
  }
  return { job, state: { phase: 'queued', updatedAt: Date.parse(job.createdAt) } };
}

export interface ListJobsOptions {
  /** Keep only these (e.g. one web session's, one user's). */
  filter?: (job: Job) => boolean;
  /** Newest first; default 50. */
  limit?: number;
}

/** Reads every stored job record (one LIST, then GETs in small parallel batches); unreadable records are skipped. */
export async function listJobs(blobs: BlobStore, options: ListJobsOptions = {}): Promise<Job[]> {
  const ids = (await blobs.list(STORAGE_PREFIXES.jobs)).map(jobIdOfRecordKey).filter((id) => id !== undefined);
  const jobs: Job[] = [];
  const batch = 16;
  for (let i = 0; i < ids.length; i += batch) {
    const loaded = await Promise.all(ids.slice(i, i + batch).map((id) => loadJob(blobs, id).catch(() => null)));
    for (const job of loaded) if (job && (!options.filter || options.filter(job))) jobs.push(job);
  }
  jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id));
  return jobs.slice(0, options.limit ?? 50);
}

/** The job and its ancestors, the job first, up to the original /imagine (or the first one no longer stored). */
export async function loadLineage(blobs: BlobStore, id: JobId, maxDepth = 20): Promise<Job[]> {
  const chain: Job[] = [];
  let next: JobId | undefined = id;
  while (next && chain.length < maxDepth && !chain.some((job) => job.id === next)) {
    const job: Job | null = await loadJob(blobs, next);
    if (!job) break;
    chain.push(job);
    next = job.parent?.jobId;
  }
  return chain;
}

/** Ids of the jobs made from `id` (its children), newest first, from the stored records. */
export async function listChildren(blobs: BlobStore, id: JobId): Promise<Job[]> {
  return listJobs(blobs, { filter: (job) => job.parent?.jobId === id, limit: 100 });
}

