/**
 * Reading a job's records back from the object store: `jobs/{id}/job.json`, `result.json`, and the
 * bot's own markers (`delivered.json`, `cancel.json`, `deleted.json`); keys from core/storage-layout.ts.
 * Everything read is validated with the wire schemas; a record that does not parse is reported as a
 * CorruptRecordError naming the key, never half-used.
 */
import { z } from 'zod';
import { JobSchema, ResultSchema, type Job, type JobId, type Result } from '../core/job.ts';
import type { BlobStore } from '../core/ports.ts';
import { jobKeys } from '../core/storage-layout.ts';
import { readRecord, writeRecord } from '../core/stored-records.ts';

export const DeliveredMarkerSchema = z.strictObject({
  v: z.literal(1),
  phase: z.enum(['completed', 'failed', 'cancelled']),
  at: z.number().int().nonnegative(),
  /** Why it failed or stopped, as shown to the user, so a page reload or /show can say it again. */
  failure: z.strictObject({ code: z.string().min(1).max(64), reason: z.string().min(1).max(500) }).optional(),
});
export type DeliveredMarker = z.infer<typeof DeliveredMarkerSchema>;

export const CancelRequestSchema = z.strictObject({
  v: z.literal(1),
  /** `platform:userId` of who cancelled. */
  by: z.string().min(1),
  at: z.number().int().nonnegative(),
});
export type CancelRequest = z.infer<typeof CancelRequestSchema>;

/** `deleted.json`: when the owner deleted the job. */
export const DeletedMarkerSchema = z.strictObject({ v: z.literal(1), at: z.number().int().nonnegative() });

export function loadJob(blobs: BlobStore, id: JobId): Promise<Job | null> {
  return readRecord(blobs, jobKeys.job(id), JobSchema);
}

export function loadResult(blobs: BlobStore, id: JobId): Promise<Result | null> {
  return readRecord(blobs, jobKeys.result(id), ResultSchema);
}

export function loadDelivered(blobs: BlobStore, id: JobId): Promise<DeliveredMarker | null> {
  return readRecord(blobs, jobKeys.delivered(id), DeliveredMarkerSchema);
}

export function markDelivered(blobs: BlobStore, id: JobId, marker: DeliveredMarker): Promise<void> {
  return writeRecord(blobs, jobKeys.delivered(id), DeliveredMarkerSchema, marker);
}

export function isDeleted(blobs: BlobStore, id: JobId): Promise<boolean> {
  return blobs.exists(jobKeys.deleted(id));
}

export function isCancelRequested(blobs: BlobStore, id: JobId): Promise<boolean> {
  return blobs.exists(jobKeys.cancel(id));
}

export function requestCancel(blobs: BlobStore, id: JobId, request: CancelRequest): Promise<void> {
  return writeRecord(blobs, jobKeys.cancel(id), CancelRequestSchema, request);
}

/**
 * Deletes every object of the job (images, latents, grid, records) and leaves only the `deleted.json`
 * marker so late events and old buttons answer "deleted" instead of failing obscurely.
 */
export async function deleteJobObjects(blobs: BlobStore, id: JobId, at: number): Promise<number> {
  const keys = (await blobs.list(jobKeys.prefix(id))).filter((key) => key !== jobKeys.deleted(id));
  await writeRecord(blobs, jobKeys.deleted(id), DeletedMarkerSchema, { v: 1, at });
  if (keys.length > 0) await blobs.delete(keys);
  return keys.length;
}
