/**
 * The playground's `Poster`: the dispatcher calls `deliver` exactly as it calls Discord's and Slack's,
 * and this pushes the message to every open page (one shared channel, like a chat channel). Images
 * are not pushed: a completed message's tiles carry presigned URLs, so the page loads them straight from
 * the object store; anything else (and a tile URL that does not load) goes through the server's `/api/image`.
 * The newest message per job is kept so a page opened later (or reloaded) sees live jobs as they are.
 */
import type { BoardHeader, BoardSummary } from '../boards/board-message.ts';
import type { BoardRecord } from '../boards/model.ts';
import { type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { BlobStore } from '../../core/ports.ts';
import { loadResult } from '../job-records.ts';
import type { JobMessage } from '../message-model.ts';
import type { Attachment, KnownRecords, Poster } from '../poster.ts';
import { webMessageOf, type WebEvent, type WebMessage, type WebTile } from './web-message.ts';

export type WebListener = (event: WebEvent) => void;

/** Far above any grid: the page fetches originals, so the dispatcher never needs to shrink one. */
const NO_LIMIT_BYTES = 512 * 1024 * 1024;
const KEPT_MESSAGES = 500;
/** How many recent job durations the estimate is the median of. */
const RECENT_DURATIONS = 20;
/**
 * Tile links live this long (a page re-rendering later falls back to /api/image). Loading the four tiles
 * straight from the store instead of through this server: 15–18 → 5–6 ms per job (bench/e2e-latency.ts, demo model 256²).
 */
const TILE_URL_SECONDS = 3600;

export class WebPoster implements Poster {
  readonly platform = 'web' as const;
  /** The page loads the grid's tiles through /api/image: the dispatcher need not download the grid. */
  readonly showsGridByKey = true;
  readonly #blobs: BlobStore;
  readonly #listeners = new Set<WebListener>();
  readonly #latest = new Map<string, WebMessage>();
  /**
   * Tile links signed while a job runs (its tile keys follow from the job), so the completed message does not
   * wait for four signatures (~3 ms on the one thread that also serves the tiles).
   */
  readonly #signedTiles = new Map<string, Promise<Map<string, string>>>();
  #seq = 0;
  /** When each running job was first seen running (ms), for its duration when it completes. */
  readonly #startedAt = new Map<string, number>();
  /** Recent jobs' durations, start of running to completed (ms), newest last. */
  readonly #durations: number[] = [];
  readonly #now: () => number;

  constructor(blobs: BlobStore, now: () => number = Date.now) {
    this.#blobs = blobs;
    this.#now = now;
  }

  attachmentLimitBytes(): number {
    return NO_LIMIT_BYTES;
  }

  async deliver(job: Job, message: JobMessage, attachment?: Attachment, known?: KnownRecords): Promise<void> {
    const result = message.status === 'completed' ? (known?.result ?? (await loadResult(this.#blobs, job.id))) : null;
    const seq = ++this.#seq;
    const previewVersion = message.previewKey && attachment ? seq : this.#latest.get(job.id)?.previewVersion;
    const web = webMessageOf(job, message, seq, result, previewVersion);
    const etaSeconds = this.#estimate(job.id, message);
    if (etaSeconds !== undefined) web.etaSeconds = etaSeconds;
    if (message.status === 'running' && !this.#signedTiles.has(job.id)) {
      this.#signedTiles.set(job.id, this.#signTiles(job));
      const oldest = this.#signedTiles.keys().next().value;
      if (this.#signedTiles.size > KEPT_MESSAGES && oldest !== undefined) this.#signedTiles.delete(oldest);
    }
    if (web.tiles) {
      const signed = (await this.#signedTiles.get(job.id)) ?? new Map<string, string>();
      web.tiles = await Promise.all(web.tiles.map(async (tile) => ({ ...tile, ...(await this.#urlFor(tile.key, signed)) })));
    }
    if (message.status !== 'queued' && message.status !== 'waking' && message.status !== 'running') this.#signedTiles.delete(job.id);
    this.#remember(web);
    this.publish({ type: 'message', message: web });
  }

  /** Mood boards: the side panel re-reads /api/boards; the playground has no header message to keep. */
  async deliverBoardHeader(board: BoardRecord, header: BoardHeader): Promise<undefined> {
    this.publish({ type: 'board', boardId: board.id, text: header.text });
    return undefined;
  }

  async postBoardSummary(board: BoardRecord, summary: BoardSummary): Promise<void> {
    this.publish({ type: 'board', boardId: board.id, text: summary.title, summary: summary.text });
  }

  /** The newest message this process delivered for the job (undefined: none, or long ago). */
  latest(jobId: string): WebMessage | undefined {
    return this.#latest.get(jobId);
  }

  /** Tells every open page; also used for removals (🗑️), which the dispatcher does not deliver. */
  publish(event: WebEvent): void {
    if (event.type === 'removed') {
      this.#latest.delete(event.jobId);
      this.#signedTiles.delete(event.jobId);
    }
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(listener: WebListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Seconds until the job is done, from the median of the last RECENT_DURATIONS durations: a queued job at place p
   * (jobs ahead of it and running, itself included) waits about p of them, a running one the rest of one.
   * Undefined until one job has completed here, and for finished jobs.
   */
  #estimate(jobId: string, message: JobMessage): number | undefined {
    const now = this.#now();
    if (message.status === 'running' && !this.#startedAt.has(jobId)) {
      this.#startedAt.set(jobId, now);
      if (this.#startedAt.size > KEPT_MESSAGES) this.#startedAt.delete(this.#startedAt.keys().next().value!);
    }
    if (message.final) {
      const started = this.#startedAt.get(jobId);
      this.#startedAt.delete(jobId);
      if (message.status === 'completed' && started !== undefined) {
        this.#durations.push(now - started);
        if (this.#durations.length > RECENT_DURATIONS) this.#durations.shift();
      }
      return undefined;
    }
    if (this.#durations.length === 0) return undefined;
    const sorted = [...this.#durations].sort((a, b) => a - b);
    const typical = sorted[Math.floor(sorted.length / 2)]! / 1000;
    if (message.status === 'running') return Math.max(1, Math.round(typical * (1 - (message.progress?.fraction ?? 0))));
    return message.position === undefined ? undefined : Math.max(1, Math.round(typical * message.position));
  }

  /** Links for the tiles the job will have: jobs/{id}/image-1.png … (one for an upscale), made before they exist. */
  async #signTiles(job: Job): Promise<Map<string, string>> {
    const count = job.kind === 'upscale' ? 1 : job.request.count;
    const keys = Array.from({ length: count }, (_, offset) => jobKeys.image(job.id, offset + 1));
    const signed = new Map<string, string>();
    await Promise.all(keys.map(async (key) => {
      const link = await this.#urlFor(key, signed);
      if (link.url) signed.set(key, link.url);
    }));
    return signed;
  }

  /** The tile's link ({} when it cannot be made: the page then uses /api/image). */
  async #urlFor(key: string, signed: Map<string, string>): Promise<Pick<WebTile, 'url'>> {
    const known = signed.get(key);
    if (known) return { url: known };
    try {
      return { url: await this.#blobs.presignedUrl(key, TILE_URL_SECONDS) };
    } catch {
      return {};
    }
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
