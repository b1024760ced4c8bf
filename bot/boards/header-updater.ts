/**
 * `board_changed` events → the board's header and collage, through the dispatcher (it hands the events here).
 *
 * - At most one header edit per `minIntervalMs` (30 s) per board: changes in between are coalesced and the
 *   latest state is shown when the interval ends; the time of the last edit is stored
 *   (boards/{id}/header-edited.json), so a restart or another dispatcher instance keeps the pace too.
 * - Many instances (Lambda copies of the dispatcher) never edit twice in an interval: the edit after the one at T
 *   is made by whoever creates board-header-claims/{id}/{T}-{attempt} (a conditional PUT, S3 `If-None-Match: *`;
 *   an instance that failed its render keeps its claim and retries it). A claim older than `staleClaimMs` with no
 *   edit after it (its instance died) lets attempt + 1 be claimed. The edited record also says when its render
 *   started reading the board (`readFrom`): a change published before that (by more than CLOCK_SKEW_MS) is shown.
 * - `changed()` serves a long-lived process (npm start): timers wait out the pace. `renderIfDue()` serves the
 *   dispatcher Lambda, which keeps no timers: one attempt, and "not yet, in N ms" when the pace or another
 *   instance's claim says so, so the event goes back to SQS for that long (functions/dispatch.ts). The debounce
 *   state is durable (S3) and conditional, never in one instance's memory.
 * - Each render writes the board's current version (a new frozen code when anything changed).
 * - A board whose deadline passed is ended here (reason `deadline`) if nobody ended it.
 * - An ended board gets its exports written and its summary posted once (boards/{id}/summary.json marks it).
 * - A header that can never be delivered again (thread or channel deleted) ends the board with reason
 *   `place_gone`, so the page and the exports stay available; anything else is retried after a back-off.
 * Page links for `link` boards use the board's one shared token (board-store.ts sharedLinkToken), the same from
 * every instance; private boards show none.
 */
import { randomBytes } from 'node:crypto';
import type { BlobStore } from '../../core/ports.ts';
import { boardKeys } from '../../core/storage-layout.ts';
import { readRecord, writeRecord } from '../../core/stored-records.ts';
import { z } from 'zod';
import { DeliveryError, type Attachment, type PosterRegistry } from '../poster.ts';
import { WorkGate } from '../work-gate.ts';
import { closedReason, currentVersion, loadBoardState, loadHeader, markEnded, saveHeader, sharedLinkToken } from './board-store.ts';
import { boardCollage, loadPinImages, writeExports } from './board-media.ts';
import { buildBoardHeader, buildBoardSummary } from './board-message.ts';
import { boardCode, type BoardRecord } from './model.ts';

/** `readFrom`: when that render began reading the board; every change published before it is in that edit. */
const EditedSchema = z.strictObject({ v: z.literal(1), at: z.number().int().nonnegative(), readFrom: z.number().int().nonnegative().optional() });
const SummarySchema = z.strictObject({ v: z.literal(1), at: z.number().int().nonnegative() });
const ClaimSchema = z.strictObject({ v: z.literal(1), at: z.number().int().nonnegative(), by: z.string().min(1).max(64) });

/** Two instances' clocks (Lambda hosts are NTP-synchronised) differ by less than this. */
const CLOCK_SKEW_MS = 2000;
/** After losing a claim, an instance looks for the winner's edit this often. */
const LOST_CLAIM_POLL_MS = 2000;

export type RenderAttempt = { kind: 'shown' } | { kind: 'later'; inMs: number };

export interface BoardUpdaterOptions {
  blobs: BlobStore;
  posters: PosterRegistry;
  /** Default 30 000. */
  minIntervalMs?: number;
  /** `{base}/boards/{id}?t=…` when set (the playground's URL locally, the page function's URL in AWS). */
  pageBaseUrl?: string;
  /** How long the exports' presigned links work (default 7 days, S3's maximum for SigV4). */
  exportLinkSeconds?: number;
  /** A claim this old without an edit after it belonged to an instance that died (default 90 s: above the dispatcher's 60 s timeout). */
  staleClaimMs?: number;
  log?: (event: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

/** A caller of `changed()`: resolved once a render that saw its change is out, rejected when the board's renders gave up. */
interface Waiter {
  at: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Pace {
  timer?: ReturnType<typeof setTimeout>;
  /** 'waiting': a render is coming (it will read the latest state); 'running': one is under way, a change now needs another. */
  phase: 'waiting' | 'running';
  dirty: boolean;
  attempts: number;
  /** Changes not yet seen by a render. */
  waiters: Waiter[];
}

export class BoardHeaderUpdater {
  readonly #options: BoardUpdaterOptions;
  readonly #paces = new Map<string, Pace>();
  readonly #tokens = new Map<string, string>();
  readonly #work = new WorkGate();
  readonly #interval: number;
  /** Names this instance's header claims, so a retry after a failed render takes its own claim again. */
  readonly #instanceId = randomBytes(8).toString('hex');
  #stopped = false;

  constructor(options: BoardUpdaterOptions) {
    this.#options = options;
    this.#interval = options.minIntervalMs ?? 30_000;
  }

  /** Where board pages are served, once known (the playground's URL after it listens). */
  setPageBaseUrl(url: string): void {
    this.#options.pageBaseUrl = url;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /**
   * A board changed (at `at`, the time its change was published): its header is re-rendered as soon as its pace
   * allows. Resolves when a render that saw the change is out (here or by another instance); rejects when this
   * instance gave up on the board (the caller leaves its event for redelivery).
   */
  changed(boardId: string, at: number = this.#now()): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { at, resolve, reject };
      const pace = this.#paces.get(boardId);
      if (pace) {
        pace.waiters.push(waiter);
        if (pace.phase === 'running') pace.dirty = true;
        return;
      }
      const fresh: Pace = { phase: 'waiting', dirty: false, attempts: 0, waiters: [waiter] };
      this.#paces.set(boardId, fresh);
      void this.#work.track(this.#schedule(boardId, fresh));
    });
  }

  /** Resolves when nothing is scheduled or running (tests, Lambda, shutdown). */
  idle(): Promise<void> {
    return this.#work.idle();
  }

  stop(): void {
    this.#stopped = true;
    for (const pace of this.#paces.values()) {
      if (pace.timer) {
        clearTimeout(pace.timer);
        pace.timer = undefined;
        this.#work.release();
      }
    }
    this.#paces.clear();
  }

  /** Never rejects: a store that cannot be read forgets the board's pace (its next change schedules it again) and rejects its waiters. */
  async #schedule(boardId: string, pace: Pace, extraDelayMs = 0): Promise<void> {
    try {
      await this.#scheduleOnce(boardId, pace, extraDelayMs);
    } catch (error) {
      this.#giveUp(boardId, pace, error);
    }
  }

  #giveUp(boardId: string, pace: Pace, error: unknown): void {
    if (this.#paces.get(boardId) === pace) this.#paces.delete(boardId);
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#log('board_header_failed', { boardId, error: text });
    for (const waiter of pace.waiters.splice(0)) waiter.reject(new Error(`board ${boardId}: header not rendered (${text})`));
  }

  async #scheduleOnce(boardId: string, pace: Pace, extraDelayMs: number): Promise<void> {
    if (this.#stopped) return;
    pace.phase = 'waiting';
    // How long the pace still asks to wait is read when the time comes (#claim), as late as possible.
    const wait = extraDelayMs;
    if (wait <= 0) return this.#run(boardId, pace);
    this.#work.hold();
    pace.timer = setTimeout(() => {
      pace.timer = undefined;
      void this.#work.track(this.#run(boardId, pace));
      this.#work.release();
    }, wait);
  }

  async #run(boardId: string, pace: Pace): Promise<void> {
    try {
      await this.#runOnce(boardId, pace);
    } catch (error) {
      this.#giveUp(boardId, pace, error);
    }
  }

  async #runOnce(boardId: string, pace: Pace): Promise<void> {
    if (this.#stopped) return;
    pace.phase = 'running';
    pace.dirty = false;
    const oldest = Math.min(...pace.waiters.map((waiter) => waiter.at));
    const claim = await this.#claim(boardId, Number.isFinite(oldest) ? oldest : undefined);
    if (claim.kind === 'shown') {
      for (const waiter of pace.waiters.splice(0)) waiter.resolve();
      if (!pace.dirty) return void this.#paces.delete(boardId);
      return this.#schedule(boardId, pace);
    }
    if (claim.kind === 'wait') return this.#schedule(boardId, pace, claim.ms);
    // Lost to another instance: look again soon, for its edit (which may show these changes) or a stale claim.
    if (claim.kind === 'lost') return this.#schedule(boardId, pace, LOST_CLAIM_POLL_MS);
    const seen = pace.waiters.splice(0);
    let retryInMs: number | undefined;
    try {
      await this.render(boardId);
      pace.attempts = 0;
      for (const waiter of seen) waiter.resolve();
    } catch (error) {
      pace.waiters.unshift(...seen);
      pace.attempts++;
      retryInMs = this.#retryDelay(error, pace.attempts);
      this.#log('board_header_retry', { boardId, attempt: pace.attempts, retryInMs, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      if (pace.attempts >= 8) return this.#giveUp(boardId, pace, error);
    }
    if (retryInMs !== undefined) return this.#schedule(boardId, pace, retryInMs);
    if (pace.dirty || pace.waiters.length > 0) return this.#schedule(boardId, pace);
    this.#paces.delete(boardId);
  }

  #retryDelay(error: unknown, attempt: number): number {
    const retryAfter = error instanceof DeliveryError ? error.retryAfterMs ?? 0 : 0;
    return Math.max(retryAfter, Math.min(300_000, 2000 * 2 ** (attempt - 1)));
  }

  /**
   * One attempt for a change published at `changedAt`, with no timer left behind (the dispatcher Lambda): 'shown'
   * when this render or an earlier one shows it, else 'later' with how long to wait (the pace, another instance's
   * claim, or a failed delivery's back-off, `attempt` being how often this change was tried).
   */
  async renderIfDue(boardId: string, changedAt: number, attempt = 1): Promise<RenderAttempt> {
    const claim = await this.#claim(boardId, changedAt);
    if (claim.kind === 'shown') return { kind: 'shown' };
    if (claim.kind === 'wait') return { kind: 'later', inMs: claim.ms };
    if (claim.kind === 'lost') return { kind: 'later', inMs: LOST_CLAIM_POLL_MS };
    try {
      await this.render(boardId);
      return { kind: 'shown' };
    } catch (error) {
      const inMs = this.#retryDelay(error, attempt);
      this.#log('board_header_retry', { boardId, attempt, retryInMs: inMs, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      return { kind: 'later', inMs };
    }
  }

  /**
   * The right to make the next edit: 'shown' (the last edit read the board after `changedAt`), 'won' (render now),
   * 'lost' (another live instance claimed it), or 'wait' (the last edit, maybe another instance's, is less than
   * an interval ago).
   */
  async #claim(boardId: string, changedAt: number | undefined): Promise<{ kind: 'shown' | 'won' | 'lost' } | { kind: 'wait'; ms: number }> {
    const { blobs } = this.#options;
    const edited = await readRecord(blobs, boardKeys.headerEdited(boardId), EditedSchema, { ifCorrupt: 'absent' });
    if (edited?.readFrom !== undefined && changedAt !== undefined && changedAt + CLOCK_SKEW_MS <= edited.readFrom) return { kind: 'shown' };
    const editedAt = edited?.at ?? 0;
    const wait = edited ? editedAt + this.#interval - this.#now() : 0;
    if (wait > 0) return { kind: 'wait', ms: wait };
    const staleMs = this.#options.staleClaimMs ?? 90_000;
    for (let attempt = 0; ; attempt++) {
      const now = this.#now();
      const key = boardKeys.headerClaim(boardId, editedAt, attempt);
      if (await blobs.putIfAbsent(key, JSON.stringify(ClaimSchema.parse({ v: 1, at: now, by: this.#instanceId })), 'application/json')) return { kind: 'won' };
      const other = await readRecord(blobs, key, ClaimSchema, { ifCorrupt: 'absent' });
      if (other?.by === this.#instanceId) return { kind: 'won' };
      // A claim that cannot be read counts as just made: it may be a winner still at work.
      if ((other?.at ?? now) + staleMs > now) return { kind: 'lost' };
    }
  }

  #log(event: string, fields: Record<string, unknown>): void {
    this.#options.log?.(event, fields);
  }

  /** The page link the header and summary show: a `link` board's shared token (private boards show none). */
  async #pageUrl(board: BoardRecord): Promise<string | undefined> {
    const base = this.#options.pageBaseUrl;
    if (!base) return undefined;
    let token = this.#tokens.get(board.id);
    if (!token) {
      token = await sharedLinkToken(this.#options.blobs, board, this.#now());
      if (!token) return undefined;
      this.#tokens.set(board.id, token);
    }
    return `${base.replace(/\/$/, '')}/boards/${board.id}?t=${encodeURIComponent(token)}`;
  }

  /** One render of the board: version, collage, header; ends a board past its deadline; summary once when ended. */
  async render(boardId: string): Promise<void> {
    const { blobs, posters } = this.#options;
    const readFrom = this.#now();
    let state = await loadBoardState(blobs, boardId);
    if (!state) return;
    const now = this.#now();
    const closed = closedReason(state.board, state.ended, now);
    if (closed && !state.ended) {
      const { ended } = await markEnded(blobs, state.board, { v: 1, at: state.board.deadline, reason: 'deadline' });
      state = { ...state, ended };
    }
    const version = await currentVersion(blobs, state, now);
    const code = boardCode(boardId, version.versionId);
    const poster = posters[state.board.place.platform];
    const pins = await loadPinImages(blobs, state);
    const collageBytes = await boardCollage(state, pins);
    const collage: Attachment = { bytes: collageBytes, contentType: 'image/png', fileName: `board-${boardId}.png` };
    const pageUrl = await this.#pageUrl(state.board);
    const header = buildBoardHeader(state, code, version.tasteLine, now, pageUrl);
    if (poster?.deliverBoardHeader) {
      const existing = await loadHeader(blobs, boardId);
      try {
        const where = await poster.deliverBoardHeader(state.board, header, collage, existing);
        if (where && (!existing || where.messageId !== existing.messageId || where.channelId !== existing.channelId)) await saveHeader(blobs, boardId, where);
      } catch (error) {
        if (!(error instanceof DeliveryError) || error.retryable) throw error;
        // The thread or channel is gone: the board ends, and nothing is lost (page, code and exports remain).
        this.#log('board_place_gone', { boardId, error: error.message });
        if (!state.ended) state = { ...state, ended: (await markEnded(blobs, state.board, { v: 1, at: now, reason: 'place_gone' })).ended };
      }
    }
    await writeRecord(blobs, boardKeys.headerEdited(boardId), EditedSchema, { v: 1, at: this.#now(), readFrom });
    if (state.ended && !(await blobs.exists(boardKeys.summary(boardId)))) {
      const exports = await writeExports(blobs, state, now);
      const seconds = this.#options.exportLinkSeconds ?? 7 * 24 * 3600;
      const [collageUrl, sheetUrl, zipUrl] = await Promise.all([blobs.presignedUrl(exports.keys.collage, seconds), blobs.presignedUrl(exports.keys.sheet, seconds), blobs.presignedUrl(exports.keys.zip, seconds)]);
      const summary = buildBoardSummary(state, exports.code, { collage: collageUrl, sheet: sheetUrl, zip: zipUrl }, pageUrl);
      if (poster?.postBoardSummary && state.ended.reason !== 'place_gone') await poster.postBoardSummary(state.board, summary, collage);
      await writeRecord(blobs, boardKeys.summary(boardId), SummarySchema, { v: 1, at: this.#now() });
    }
  }
}
