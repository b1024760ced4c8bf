/** A Poster that records what it was asked to show; optionally fails the first N deliveries. */
import type { Job, Platform } from '../../../core/job.js';
import type { JobMessage } from '../../../bot/message-model.js';
import type { Attachment, Poster } from '../../../bot/poster.js';

export interface RecordedDelivery {
  jobId: string;
  message: JobMessage;
  attachment?: Attachment;
  at: number;
}

export class RecordingPoster implements Poster {
  readonly deliveries: RecordedDelivery[] = [];
  /** Errors to throw, one per call, before succeeding. */
  readonly failures: Error[] = [];
  attempts = 0;

  constructor(readonly platform: Platform = 'web', readonly limitBytes = 10 * 1024 * 1024) {}

  attachmentLimitBytes(): number {
    return this.limitBytes;
  }

  async deliver(job: Job, message: JobMessage, attachment?: Attachment): Promise<void> {
    this.attempts++;
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.deliveries.push({ jobId: job.id, message, ...(attachment ? { attachment } : {}), at: Date.now() });
  }

  statuses(): string[] {
    return this.deliveries.map((d) => d.message.statusLine);
  }
}
