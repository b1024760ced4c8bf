/**
 * The playground's past: the web jobs still in the object store, rebuilt from their records with
 * bot/job-history.ts and the same message model the live messages use. Nothing comes from process
 * memory, so the channel and its gallery survive a restart (locally the store itself is kept on
 * disk: local/s3-disk-mirror.ts).
 */
import type { BlobStore } from '../../core/ports.js';
import { listJobs, loadJobSnapshot } from '../job-history.js';
import { buildJobMessage } from '../message-model.js';
import { webMessageOf, type WebMessage } from './web-message.js';

/** The newest `limit` web jobs, oldest first (chat order). */
export async function loadHistory(blobs: BlobStore, limit = 100): Promise<WebMessage[]> {
  const jobs = await listJobs(blobs, { filter: (job) => job.requester.platform === 'web', limit });
  const snapshots = await Promise.all(jobs.map((job) => loadJobSnapshot(blobs, job.id)));
  return snapshots
    .flatMap((snapshot) => (snapshot ? [webMessageOf(snapshot.job, buildJobMessage(snapshot.job, snapshot.state), 0, snapshot.state.result)] : []))
    .reverse();
}
