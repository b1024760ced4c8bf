/**
 * The playground's past, one page at a time: which web jobs exist (an index of id and creation
 * time) and, for a page of them, each job's message — the live one this process delivered, else
 * rebuilt from its records with bot/job-history.ts and the same message model. Nothing the page
 * shows comes only from process memory, so the channel survives a restart (locally the store itself
 * is kept on disk: local/s3-disk-mirror.ts).
 *
 * The index is read from the store once (every job record, on the first request), then kept
 * current by the deliveries and removals the poster publishes, so a page request reads only the
 * records of the messages it returns, however long the channel is. A finished job's message cannot
 * change any more (a deletion is published as a removal), so it is read once and kept (LRU).
 *
 * @example
 *   const page = await history.page({ limit: 50 });             // the newest 50, oldest first
 *   await history.page({ limit: 50, before: page.older! });     // the 50 before those
 */
import { LRUCache } from 'lru-cache';
import type { BlobStore } from '../../core/ports.ts';
import { listJobs, loadJobSnapshot } from '../job-history.ts';
import { buildJobMessage } from '../message-model.ts';
import type { WebPoster } from './poster.ts';
import { webMessageOf, type WebMessage } from './web-message.ts';

export const DEFAULT_PAGE_SIZE = 30;
export const MAX_PAGE_SIZE = 100;
/** More web jobs than any store keeps (jobs expire); the index never grows past it. */
const MAX_INDEXED_JOBS = 100_000;
/** Finished messages kept in memory: a few pages' worth for every reader (≈ 3 KB each). */
const KEPT_FINISHED = 2_000;
const CURSOR_PATTERN = /^(\d{4}-\d\d-\d\dT[\d:.]+Z)~(j[0-9a-z-]{1,63})$/;

export interface HistoryPage {
  /** Oldest first (chat order). */
  messages: WebMessage[];
  /** Cursor for the page before this one; absent when this page reaches the oldest job. */
  older?: string;
}

interface IndexEntry {
  jobId: string;
  createdAt: string;
}

export class ChannelHistory {
  readonly #blobs: BlobStore;
  readonly #poster: WebPoster;
  /** jobId → createdAt, for every web job known to exist. */
  readonly #index = new Map<string, string>();
  /** Removed while the first read was under way: that read must not bring them back. */
  readonly #removedDuringLoad = new Set<string>();
  readonly #finished = new LRUCache<string, WebMessage>({ max: KEPT_FINISHED });
  #loaded: Promise<void> | undefined;
  #loadDone = false;

  constructor(blobs: BlobStore, poster: WebPoster) {
    this.#blobs = blobs;
    this.#poster = poster;
    poster.subscribe((event) => {
      if (event.type === 'message') this.#set(event.message.jobId, event.message.createdAt);
      else if (event.type === 'removed') this.#remove(event.jobId);
    });
  }

  /** A job this process just accepted, listed at once (its first delivery then gives its exact creation time). */
  noteAccepted(jobId: string, at = new Date()): void {
    if (!this.#index.has(jobId)) this.#set(jobId, at.toISOString());
  }

  #set(jobId: string, createdAt: string): void {
    if (this.#index.size >= MAX_INDEXED_JOBS && !this.#index.has(jobId)) this.#dropOldest();
    this.#index.set(jobId, createdAt);
  }

  static isCursor(value: string): boolean {
    return CURSOR_PATTERN.test(value);
  }

  /** Reads the index now (at start), so the first page view does not wait for it; a failure is retried by the next page. */
  warm(): void {
    (this.#loaded ??= this.#load()).catch(() => undefined);
  }

  async page(options: { limit: number; before?: string }): Promise<HistoryPage> {
    await (this.#loaded ??= this.#load());
    const entries = [...this.#index].map(([jobId, createdAt]) => ({ jobId, createdAt })).sort(compareEntries);
    const end = options.before ? entries.findIndex((entry) => cursorOf(entry) >= options.before!) : entries.length;
    const stop = end < 0 ? entries.length : end;
    const start = Math.max(0, stop - options.limit);
    const chosen = entries.slice(start, stop);
    const messages = await Promise.all(chosen.map((entry) => this.#messageOf(entry.jobId)));
    return {
      messages: messages.filter((message): message is WebMessage => message !== null),
      ...(start > 0 ? { older: cursorOf(chosen[0]!) } : {}),
    };
  }

  async #messageOf(jobId: string): Promise<WebMessage | null> {
    const live = this.#poster.latest(jobId);
    if (live) return live;
    const known = this.#finished.get(jobId);
    if (known) return known;
    const snapshot = await loadJobSnapshot(this.#blobs, jobId);
    if (!snapshot) {
      this.#index.delete(jobId); // deleted (or its record is gone): not part of the channel any more
      return null;
    }
    const message = webMessageOf(snapshot.job, buildJobMessage(snapshot.job, snapshot.state), 0, snapshot.state.result);
    // Not kept if removed meanwhile (the removal would otherwise be undone by this read).
    if (message.message.final && this.#index.has(jobId)) this.#finished.set(jobId, message);
    return message;
  }

  async #load(): Promise<void> {
    try {
      const jobs = await listJobs(this.#blobs, { filter: (job) => job.requester.platform === 'web', limit: MAX_INDEXED_JOBS });
      for (const job of jobs) if (!this.#removedDuringLoad.has(job.id) && !this.#index.has(job.id)) this.#set(job.id, job.createdAt);
      this.#loadDone = true;
      this.#removedDuringLoad.clear();
    } catch (error) {
      this.#loaded = undefined; // the next request tries again
      throw error;
    }
  }

  #remove(jobId: string): void {
    this.#index.delete(jobId);
    this.#finished.delete(jobId);
    if (!this.#loadDone) this.#removedDuringLoad.add(jobId);
  }

  #dropOldest(): void {
    let oldest: IndexEntry | undefined;
    for (const [jobId, createdAt] of this.#index) if (!oldest || compareEntries({ jobId, createdAt }, oldest) < 0) oldest = { jobId, createdAt };
    if (oldest) this.#index.delete(oldest.jobId);
  }
}

function cursorOf(entry: IndexEntry): string {
  return `${entry.createdAt}~${entry.jobId}`;
}

/** Code-unit order, as the cursor strings compare (ISO times all have the same length). */
function compareEntries(a: IndexEntry, b: IndexEntry): number {
  const left = cursorOf(a);
  const right = cursorOf(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
