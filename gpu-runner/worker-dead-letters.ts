/**
 * Tells users about jobs that reached the DLQ without a final `failed` event: a job that crashed the
 * runner on every attempt (out of memory, a native abort, kill -9) leaves no chance to publish one
 * itself. The idle runner looks at the DLQ now and then; for each job without a result and without a
 * notice marker it publishes `failed` (poison_message), clears the user's pending marker and writes
 * the marker, so a job is announced once. Messages stay in the DLQ for the operators.
 */
import { z } from 'zod';
import { JobIdSchema, WIRE_VERSION } from '../core/job.ts';
import type { BlobStore, EventBus, JobQueue } from '../core/ports.ts';
import type { Logger } from '../core/log.ts';
import { clearPending } from '../core/pending.ts';
import { deadLetterKeys, jobKeys } from '../core/storage-layout.ts';
import { writeRecord } from '../core/stored-records.ts';

/** `dead-letters/{jobId}.json`: only its presence is checked; the content is for operators. */
export const DeadLetterNoticeSchema = z.strictObject({ jobId: JobIdSchema, at: z.iso.datetime() });

/** Record that the user has been told (by the runner's own final failure, or by the notifier). */
export async function markDeadLetterNotified(blobs: BlobStore, jobId: string): Promise<void> {
  await writeRecord(blobs, deadLetterKeys.notice(jobId), DeadLetterNoticeSchema, { jobId, at: new Date().toISOString() });
}

export interface DeadLetterDeps {
  deadLetters: JobQueue;
  events: EventBus;
  blobs: BlobStore;
  log: Logger;
}

/** Seconds a DLQ message we have read stays hidden, so one pass walks past it to the others. */
const LOOK_AWAY_SECONDS = 300;

/** One pass over (up to 10 of) the DLQ's messages; returns how many users were told. */
export async function notifyDeadLetters(deps: DeadLetterDeps): Promise<number> {
  let notified = 0;
  for (let read = 0; read < 10; read += 1) {
    const message = await deps.deadLetters.receive({ waitSeconds: 0, visibilitySeconds: LOOK_AWAY_SECONDS });
    if (!message) break;
    const jobId = message.job?.id ?? idFromBody(message.body);
    if (!jobId) continue;
    if ((await deps.blobs.exists(deadLetterKeys.notice(jobId))) || (await deps.blobs.exists(jobKeys.result(jobId)))) continue;
    await deps.events.publish({
      v: WIRE_VERSION,
      type: 'failed',
      jobId,
      at: Date.now(),
      code: 'poison_message',
      reason: 'The image could not be made: the job stopped the GPU machine every time it was tried. It was set aside for the operators to look at.',
      willRetry: false,
    });
    if (message.job) await clearPending(deps.blobs, message.job);
    await markDeadLetterNotified(deps.blobs, jobId);
    deps.log.warn('told the user about a dead-lettered job', { jobId, receiveCount: message.receiveCount });
    notified += 1;
  }
  return notified;
}

function idFromBody(body: string): string | undefined {
  try {
    const parsed = JobIdSchema.safeParse((JSON.parse(body) as { id?: unknown }).id);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
