/**
 * JSON records in the object store, read and written through their schema: what is read back is
 * validated (a record that does not parse is never half-used), and what is written is checked first
 * (a bad record is never stored). Keys come from core/storage-layout.ts.
 *
 * @example
 *   const job = await readRecord(blobs, jobKeys.job(id), JobSchema);            // Job | null; throws CorruptRecordError
 *   const user = await readRecord(blobs, key, UserSettingsSchema, { ifCorrupt: 'absent' }); // damaged = not there
 *   await writeRecord(blobs, jobKeys.cancel(id), CancelRequestSchema, { v: 1, by, at });
 */
import { z } from 'zod';
import { CodedError } from './errors.ts';
import type { BlobStore } from './ports.ts';

/** A stored record that is not JSON or does not match its schema; the message names the key, never the content. */
export class CorruptRecordError extends CodedError<'corrupt_record'> {
  readonly key: string;
  constructor(key: string, detail: string) {
    super('corrupt_record', `${key} is not a valid record: ${detail}`, { key });
    this.key = key;
  }
}

export interface ReadRecordOptions {
  /**
   * 'throw' (default): a damaged record is an error (CorruptRecordError). 'absent': it reads as null, for
   * records whose loss only costs a default (settings, a remembered message id) and must not block the caller.
   */
  ifCorrupt?: 'throw' | 'absent';
}

/** The record at `key` parsed with `schema`; null when there is no object there. */
export async function readRecord<S extends z.ZodType>(blobs: BlobStore, key: string, schema: S, options: ReadRecordOptions = {}): Promise<z.output<S> | null> {
  const bytes = await blobs.get(key);
  if (!bytes) return null;
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    if (options.ifCorrupt === 'absent') return null;
    throw new CorruptRecordError(key, error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  if (options.ifCorrupt === 'absent') return null;
  throw new CorruptRecordError(key, z.prettifyError(parsed.error));
}

/** Stores `record` at `key` as JSON after checking it against `schema` (throws ZodError rather than store a bad record). */
export async function writeRecord<S extends z.ZodType>(blobs: BlobStore, key: string, schema: S, record: z.input<S>): Promise<void> {
  await blobs.put(key, JSON.stringify(schema.parse(record)), 'application/json');
}
