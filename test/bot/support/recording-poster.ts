/** A Poster that records what it was asked to show; optionally fails the first N deliveries. */
import type { Job, Platform } from '../../../core/job.ts';
import type { JobMessage } from '../../../bot/message-model.ts';
import type { Attachment, Poster } from '../../../bot/poster.ts';

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
  readonly platform: Platform;
  readonly limitBytes: number;

  constructor(platform: Platform = 'web', limitBytes = 10 * 1024 * 1024) {
    this.platform = platform;
    this.limitBytes = limitBytes;
  }

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
