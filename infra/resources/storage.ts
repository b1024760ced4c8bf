/**
 * The private bucket: job records and outputs under jobs/ (expire after the retention), per-user
 * pending markers under pending/ (stale after an hour, removed after a day), dead-letter notice markers
 * under dead-letters/ (kept past the DLQ's retention), settings/ and the model
 * bundles under models/ (kept). SST blocks all public access and enforces HTTPS by default.
 */
import { STORAGE_PREFIXES } from '../../core/storage-layout.ts';
import type { InfraConfig } from '../config.ts';
import { DLQ_RETENTION_SECONDS } from './queues.ts';

/** Twice the DLQ retention: a notice marker always outlives the message it stands for. */
const DEAD_LETTER_NOTICE_DAYS = 2 * Math.ceil(DLQ_RETENTION_SECONDS / 86_400);

export function createStorage(config: InfraConfig) {
  const bucket = new sst.aws.Bucket('Images', {
    enforceHttps: true,
    lifecycle: [
      { id: 'expire-job-outputs', prefix: STORAGE_PREFIXES.jobs, expiresIn: `${config.storage.jobRetentionDays} days` },
      { id: 'expire-pending-markers', prefix: STORAGE_PREFIXES.pending, expiresIn: '1 day' },
      // A notice marker that expired before its DLQ message would make the runner announce the job again.
      { id: 'expire-dead-letter-notices', prefix: STORAGE_PREFIXES.deadLetters, expiresIn: `${DEAD_LETTER_NOTICE_DAYS} days` },
      // Only the claim of the newest header edit is ever read; an expired one is simply claimable again.
      { id: 'expire-board-header-claims', prefix: STORAGE_PREFIXES.boardHeaderClaims, expiresIn: '1 day' },
    ],
  });
  return { bucket };
}
