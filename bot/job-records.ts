/**
 * Reading a job's records back from the object store: `jobs/{id}/job.json`, `result.json`, and the
 * bot's own markers (`delivered.json`, `cancel.json`, `deleted.json`). Everything read is validated
 * with the wire schemas; a record that does not parse is reported as an error naming the key,
 * never half-used.
 */
import { z } from 'zod';
import { JobSchema, ResultSchema, jobKeys, type Job, type JobId, type Result } from '../core/job.js';
import type { BlobStore } from '../core/ports.js';

/** Keys the bot layer owns next to the runner's. */
export const botKeys = {
  /** Written after the final message (completed/failed/cancelled) reached the platform: a duplicate event does not deliver twice. */
  delivered: (id: JobId) => `jobs/${id}/delivered.json`,
  /** Written when the owner deletes the job; the objects are gone, the marker stops late events from re-posting. */
  deleted: (id: JobId) => `jobs/${id}/deleted.json`,
} as const;

/** A job's delivered.json or deleted.json: written by the bot side only (never by a runner). */
export function isBotMarkerKey(key: string): boolean {
  const id = /^jobs\/([^/]+)\/[a-z]+\.json$/.exec(key)?.[1];
  return id !== undefined && (key === botKeys.delivered(id) || key === botKeys.deleted(id));
}

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

export class CorruptRecordError extends Error {
  readonly code = 'corrupt_record' as const;
  constructor(readonly key: string, detail: string) {
    super(`${key} is not a valid record: ${detail}`);
    this.name = 'CorruptRecordError';
  }
}

/** Reads and validates one JSON record; null when absent, CorruptRecordError naming the key when it does not parse. */
export async function readRecord<T>(blobs: BlobStore, key: string, schema: z.ZodType<T>): Promise<T | null> {
  const bytes = await blobs.get(key);
  if (!bytes) return null;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new CorruptRecordError(key, error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new CorruptRecordError(key, z.prettifyError(parsed.error));
  return parsed.data;
}

export function loadJob(blobs: BlobStore, id: JobId): Promise<Job | null> {
  return readRecord(blobs, jobKeys.job(id), JobSchema);
}

export function loadResult(blobs: BlobStore, id: JobId): Promise<Result | null> {
  return readRecord(blobs, jobKeys.result(id), ResultSchema);
}

export function loadDelivered(blobs: BlobStore, id: JobId): Promise<DeliveredMarker | null> {
  return readRecord(blobs, botKeys.delivered(id), DeliveredMarkerSchema);
}

export async function markDelivered(blobs: BlobStore, id: JobId, marker: DeliveredMarker): Promise<void> {
  await blobs.put(botKeys.delivered(id), JSON.stringify(DeliveredMarkerSchema.parse(marker)), 'application/json');
}

export function isDeleted(blobs: BlobStore, id: JobId): Promise<boolean> {
  return blobs.exists(botKeys.deleted(id));
}

export function isCancelRequested(blobs: BlobStore, id: JobId): Promise<boolean> {
  return blobs.exists(jobKeys.cancel(id));
}

export async function requestCancel(blobs: BlobStore, id: JobId, request: CancelRequest): Promise<void> {
  await blobs.put(jobKeys.cancel(id), JSON.stringify(CancelRequestSchema.parse(request)), 'application/json');
}

/**
 * Deletes every object of the job (images, latents, grid, records) and leaves only the `deleted.json`
 * marker so late events and old buttons answer "deleted" instead of failing obscurely.
 */
export async function deleteJobObjects(blobs: BlobStore, id: JobId, at: number): Promise<number> {
  const keys = (await blobs.list(jobKeys.prefix(id))).filter((key) => key !== botKeys.deleted(id));
  await blobs.put(botKeys.deleted(id), JSON.stringify({ v: 1, at }), 'application/json');
  if (keys.length > 0) await blobs.delete(keys);
  return keys.length;
}
