/**
 * The playground's `Poster`: the dispatcher calls `deliver` exactly as it calls Discord's and Slack's,
 * and this pushes the message to every open page (one shared channel, like a chat channel). Images
 * are not pushed: the page loads them through the server (`/api/image`), which reads the object store.
 * The newest message per job is kept so a page opened later (or reloaded) sees live jobs as they are.
 */
import type { Job } from '../../core/job.js';
import type { BlobStore } from '../../core/ports.js';
import { loadResult } from '../job-records.js';
import type { JobMessage } from '../message-model.js';
import type { Attachment, KnownRecords, Poster } from '../poster.js';
import { webMessageOf, type WebEvent, type WebMessage } from './web-message.js';

export type WebListener = (event: WebEvent) => void;

/** Far above any grid: the page fetches originals, so the dispatcher never needs to shrink one. */
const NO_LIMIT_BYTES = 512 * 1024 * 1024;
const KEPT_MESSAGES = 500;

export class WebPoster implements Poster {
  readonly platform = 'web' as const;
  /** The page loads the grid's tiles through /api/image: the dispatcher need not download the grid. */
  readonly showsGridByKey = true;
  readonly #blobs: BlobStore;
  readonly #listeners = new Set<WebListener>();
  readonly #latest = new Map<string, WebMessage>();
  #seq = 0;

  constructor(blobs: BlobStore) {
    this.#blobs = blobs;
  }

  attachmentLimitBytes(): number {
    return NO_LIMIT_BYTES;
  }

  async deliver(job: Job, message: JobMessage, attachment?: Attachment, known?: KnownRecords): Promise<void> {
    const result = message.grid ? (known?.result ?? (await loadResult(this.#blobs, job.id))) : null;
    const seq = ++this.#seq;
    const previewVersion = message.previewKey && attachment ? seq : this.#latest.get(job.id)?.previewVersion;
    const web = webMessageOf(job, message, seq, result, previewVersion);
    this.#remember(web);
    this.publish({ type: 'message', message: web });
  }

  /** Messages delivered by this process, newest state per job. */
  live(): WebMessage[] {
    return [...this.#latest.values()];
  }

  /** Tells every open page; also used for removals (🗑️), which the dispatcher does not deliver. */
  publish(event: WebEvent): void {
    if (event.type === 'removed') this.#latest.delete(event.jobId);
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(listener: WebListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #remember(message: WebMessage): void {
    this.#latest.delete(message.jobId);
    this.#latest.set(message.jobId, message);
    if (this.#latest.size > KEPT_MESSAGES) {
      const oldest = this.#latest.keys().next().value;
      if (oldest !== undefined) this.#latest.delete(oldest);
    }
  }
}
