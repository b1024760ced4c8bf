/**
 * Spacing of non-final edits per channel. Platforms limit message edits per channel (Discord: about
 * 5 per 5 s, shared by every message in it), so several jobs in one channel take turns; a slot is
 * reserved synchronously when an edit is started, so jobs scheduled in the same tick see it taken.
 */
import type { Job } from '../core/job.ts';

export class ChannelPacer {
  readonly #freeAt = new Map<string, number>();
  readonly intervalMs: number;

  constructor(intervalMs: number) {
    this.intervalMs = intervalMs;
  }

  /** Earliest time (ms since epoch) the job's channel may take another non-final edit. */
  freeAt(job: Job): number {
    return this.#freeAt.get(channelKey(job)) ?? 0;
  }

  reserve(job: Job, now = Date.now()): void {
    for (const [key, freeAt] of this.#freeAt) if (freeAt <= now) this.#freeAt.delete(key);
    this.#freeAt.set(channelKey(job), now + this.intervalMs);
  }
}

function channelKey(job: Job): string {
  return `${job.delivery.platform}:${job.requester.channelId}`;
}
