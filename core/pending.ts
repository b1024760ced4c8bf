/**
 * Per-user "pending job" markers in the object store, the source of truth for the per-user cap.
 *
 * One empty object per job that was accepted and has not reached a final state:
 * `pending/{platform}/{userId}/{createdAtMs}-{jobId}`. The submitter counts them with a single
 * LIST (the creation time is in the key, so no GETs); the runner removes the marker when the job
 * completes or fails for good. A marker older than `staleAfterMs` (the runner's maximum job age) is
 * ignored, so a crash between "final state" and "remove marker" can never lock a user out.
 */
import type { Job, Requester } from './job.ts';
import type { BlobStore } from './ports.ts';
import { parsePendingKey, pendingKeys } from './storage-layout.ts';

/**
 * Jobs older than this are never run (the runner refuses them: core/config JOB_MAX_AGE_SECONDS, default
 * 2 h), so their markers no longer count.
 */
export const DEFAULT_PENDING_STALE_MS = 2 * 60 * 60 * 1000;

export async function markPending(blobs: BlobStore, job: Job): Promise<void> {
  await blobs.put(pendingKeys.marker(job), new Uint8Array(0), 'application/octet-stream');
}

export async function clearPending(blobs: BlobStore, job: Job): Promise<void> {
  await blobs.delete([pendingKeys.marker(job)]);
}

/** Ids of the user's jobs that are still waiting or running, oldest first. */
export async function listPending(
  blobs: BlobStore,
  requester: Pick<Requester, 'platform' | 'userId'>,
  now: number,
  staleAfterMs = DEFAULT_PENDING_STALE_MS,
): Promise<string[]> {
  const live: Array<{ at: number; id: string }> = [];
  for (const key of await blobs.list(pendingKeys.user(requester))) {
    const marker = parsePendingKey(requester, key);
    if (marker && now - marker.createdAtMs < staleAfterMs) live.push({ at: marker.createdAtMs, id: marker.jobId });
  }
  return live.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((entry) => entry.id);
}
