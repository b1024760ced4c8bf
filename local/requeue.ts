/**
 * Jobs that were waiting or running when `npm start` last stopped. The local queues live in memory
 * (only S3 objects are kept on disk), so without this a restart would silently drop them. Every
 * job record (`jobs/{id}/job.json`) without a result, a delivered final message, a cancel request
 * or a delete marker is sent to the jobs queue again; the job id is the dedup id, and a runner
 * that finds result.json already written skips the work, so sending twice is harmless.
 */
import { type Job } from '../core/job.ts';
import { jobIdOfRecordKey, jobKeys, STORAGE_PREFIXES } from '../core/storage-layout.ts';
import type { BlobStore, JobQueue } from '../core/ports.ts';
import { loadJob } from '../bot/job-records.ts';

/** Keys whose presence means the job needs no more work. */
const FINISHED_MARKERS = (id: string) => [jobKeys.result(id), jobKeys.cancel(id), jobKeys.delivered(id), jobKeys.deleted(id)];

/** Re-enqueues unfinished jobs, oldest first; returns their ids. */
export async function requeueUnfinished(ports: { blobs: BlobStore; queue: JobQueue }): Promise<string[]> {
  const keys = new Set(await ports.blobs.list(STORAGE_PREFIXES.jobs));
  const unfinished: Job[] = [];
  for (const key of keys) {
    const id = jobIdOfRecordKey(key);
    if (id === undefined) continue;
    if (FINISHED_MARKERS(id).some((marker) => keys.has(marker))) continue;
    const job = await loadJob(ports.blobs, id);
    if (job) unfinished.push(job);
  }
  unfinished.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const job of unfinished) await ports.queue.send(job);
  return unfinished.map((job) => job.id);
}
