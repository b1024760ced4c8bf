/**
 * Events → chat messages. Consumes the EventBus, folds each job's events into a `JobState`, renders it
 * with the message model and hands it to the job's platform `Poster`.
 *
 * Rules users feel (architecture.md, "Delivery rules"):
 * - Throttled: at most one edit per `minEditIntervalMs` (2 s) per job message, and at most one
 *   progress edit per `minChannelEditIntervalMs` (1 s) per channel, because platforms limit edits per
 *   channel (Discord: ~5 per 5 s) and several jobs often share one; events that arrive in between
 *   are coalesced and the latest state is sent when the interval ends.
 * - Final first: completed/failed/cancelled skip the throttle (not a Retry-After back-off) and are
 *   retried until delivered; a `delivered.json` marker in the store makes duplicate or late events
 *   after that harmless, across restarts and across dispatcher instances.
 * - Out of order and duplicates are harmless: `applyEvent` is monotonic and an unchanged message is
 *   not sent again.
 * - Live queue position: when a job finishes, the waiting jobs created after it move up by one.
 * Acks: an intermediate event is acked once folded into the state (on a FIFO events queue an unacked
 * message would hold back the job's later events, and a lost progress edit is superseded by the next
 * one); a final event is acked only after its message was delivered, so a crash re-delivers it.
 * Per-job state in memory is only a cache for throttling; everything needed to deliver is in S3.
 */
import type { Job, JobId } from '../core/job.ts';
import type { BlobStore, EventBus, ReceivedEvent } from '../core/ports.ts';
import { Backoff, exponentialDelay, sleep } from '../core/backoff.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { prepareDelivery, type DeliveryContent } from './delivery-content.ts';
import { ChannelPacer } from './edit-pacing.ts';
import { WorkGate } from './work-gate.ts';
import { alwaysWarm, type FleetStatus } from './fleet.ts';
import { applyEvent, INITIAL_STATE, isFinal, type JobState } from './job-state.ts';
import { isDeleted, loadDelivered, loadJob, loadResult, markDelivered } from './job-records.ts';
import { DeliveryError, type Poster, type PosterRegistry } from './poster.ts';

export interface RetryPolicy {
  /** First back-off after a failed delivery. */
  baseMs: number;
  maxMs: number;
  /** Attempts per state before a non-final edit is dropped; a final one is left unacked for the queue to redeliver. */
  maxAttempts: number;
}

export interface DispatcherOptions {
  events: EventBus;
  blobs: BlobStore;
  posters: PosterRegistry;
  fleet?: FleetStatus;
  /** Default 2000. */
  minEditIntervalMs?: number;
  /** Spacing of non-final edits across all jobs of one channel. Default 1000. */
  minChannelEditIntervalMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Never receives tokens or delivery credentials. Default: silent. */
  log?: Logger;
  /** Long-poll wait of `run` (default 20 s). */
  receiveWaitSeconds?: number;
  /** Tracks without an event for this long are forgotten (default 1 h); a later event reloads from S3. */
  idleTrackMs?: number;
  /** Where `board_changed` events go (bot/boards/header-updater.ts); without it they are acked and dropped. */
  boards?: BoardEventSink;
}

/** The mood-board side of the dispatcher: paced header and collage edits. */
export interface BoardEventSink {
  /** Resolves once a render that saw the change is out; rejects when it was given up. */
  changed(boardId: string, at: number): Promise<void>;
  idle(): Promise<void>;
  stop(): void;
}

interface Track {
  job: Job;
  state: JobState;
  /** Receipts of final events, acked once their message is delivered. */
  held: string[];
  lastSentAt: number;
  lastEventAt: number;
  /** Earliest time for the next attempt after a failure. */
  notBefore: number;
  attempts: number;
  lastFingerprint?: string;
  /** `key@fraction` of the preview last attached. */
  lastPreviewKey?: string;
  timer?: ReturnType<typeof setTimeout>;
  sending: boolean;
  dirty: boolean;
  done: boolean;
}

interface PreparedDelivery {
  poster: Poster;
  content: DeliveryContent;
  result: JobState['result'];
}

const DEFAULT_RETRY: RetryPolicy = { baseMs: 1000, maxMs: 60_000, maxAttempts: 8 };
const RECENTLY_FINISHED_CAP = 5000;

export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #retry: RetryPolicy;
  readonly #interval: number;
  readonly #log: Logger;
  readonly #fleet: FleetStatus;
  readonly #tracks = new Map<JobId, Track>();
  /** Per-job promise chains: events of one job are handled one at a time, in arrival order. */
  readonly #chains = new Map<JobId, Promise<void>>();
  /** Jobs whose final message is out (or that were deleted): later events are acked without an S3 read. */
  readonly #finished = new Set<JobId>();
  readonly #pacer: ChannelPacer;
  readonly #work = new WorkGate();

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#interval = options.minEditIntervalMs ?? 2000;
    this.#log = options.log ?? silentLogger;
    this.#fleet = options.fleet ?? alwaysWarm;
    this.#pacer = new ChannelPacer(options.minChannelEditIntervalMs ?? 1000);
  }

  /** Long-polls the bus until `signal` aborts; receive errors back off and retry. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000 });
    while (!signal.aborted) {
      try {
        const batch = await this.#options.events.receive({ waitSeconds: this.#options.receiveWaitSeconds ?? 20, max: 10, signal });
        backoff.reset();
        await this.handleBatch(batch);
      } catch (error) {
        if (signal.aborted) break;
        const retryInMs = backoff.next();
        this.#log.warn('receive_failed', { error: describe(error), retryInMs });
        await sleep(retryInMs, signal);
      }
    }
  }

  /** Folds a batch of received events (in order per job) and schedules deliveries; resolves when all are folded. */
  async handleBatch(batch: readonly ReceivedEvent[]): Promise<void> {
    await Promise.all(batch.map((received) => this.handle(received)));
  }

  /** Folds one received event. Resolves when folded (not when delivered: see `idle`). */
  handle(received: ReceivedEvent): Promise<void> {
    const event = received.event;
    if (!event) {
      this.#log.warn('event_unreadable', { error: received.parseError ?? 'no event' });
      return this.#ack(received.receiptHandle);
    }
    if (event.type === 'board_changed') {
      // The header updater paces and retries on its own and reads everything from the store: the event has done its
      // part (it logs a board it gives up on). The dispatcher Lambda handles these events itself (functions/dispatch.ts).
      this.#options.boards?.changed(event.jobId, event.at).catch(() => undefined);
      return this.#ack(received.receiptHandle);
    }
    const previous = this.#chains.get(event.jobId) ?? Promise.resolve();
    const next = previous.then(() => this.#fold(received)).catch((error: unknown) => {
      this.#log.warn('event_failed', { jobId: event.jobId, type: event.type, error: describe(error) });
    });
    this.#chains.set(event.jobId, next);
    void next.then(() => {
      if (this.#chains.get(event.jobId) === next) this.#chains.delete(event.jobId);
    });
    return this.#work.track(next);
  }

  /** Resolves when no delivery is scheduled or in flight (tests, Lambda handlers, shutdown). */
  idle(): Promise<void> {
    return Promise.all([this.#work.idle(), this.#options.boards?.idle()]).then(() => undefined);
  }

  /** Stops every timer; undelivered final events stay unacked and come back from the queue. */
  stop(): void {
    for (const track of this.#tracks.values()) this.#clearTimer(track);
    this.#tracks.clear();
    this.#options.boards?.stop();
  }

  async #fold(received: ReceivedEvent): Promise<void> {
    const event = received.event!;
    const track = await this.#trackFor(event.jobId);
    if (!track || track.done) {
      await this.#ack(received.receiptHandle);
      return;
    }
    let state = applyEvent(track.state, event);
    if (state.phase === 'completed' && !state.result) {
      const result = await loadResult(this.#options.blobs, event.jobId);
      // The runner writes result.json before publishing `completed`: absence means a store problem; leave the event for redelivery.
      if (!result) throw new Error(`completed event but jobs/${event.jobId}/result.json is missing`);
      state = { ...state, result };
    }
    const finishedNow = isFinal(state) && !isFinal(track.state);
    track.state = state;
    track.lastEventAt = Date.now();
    if (finishedNow) this.#advanceQueuePositions(track);
    if (isFinal(state)) track.held.push(received.receiptHandle);
    else await this.#ack(received.receiptHandle);
    this.#schedule(track);
  }

  /**
   * Live queue positions: a position counts every job waiting or running that was created earlier
   * (submit.ts), so each job that finishes moves the later ones up by one. Only jobs this process
   * is tracking are counted; the next `queued` snapshot or `started` corrects any drift.
   */
  #advanceQueuePositions(finished: Track): void {
    const finishedAt = Date.parse(finished.job.createdAt);
    for (const other of this.#tracks.values()) {
      const position = other.state.position;
      if (other === finished || other.state.phase !== 'queued' || position === undefined || position <= 1) continue;
      if (Date.parse(other.job.createdAt) <= finishedAt) continue;
      other.state = { ...other.state, position: position - 1 };
      this.#schedule(other);
    }
  }

  async #trackFor(jobId: JobId): Promise<Track | undefined> {
    this.#forgetIdleTracks();
    const known = this.#tracks.get(jobId);
    if (known) return known;
    if (this.#finished.has(jobId)) return undefined;
    const { blobs } = this.#options;
    const [job, delivered, deleted] = await Promise.all([loadJob(blobs, jobId), loadDelivered(blobs, jobId), isDeleted(blobs, jobId)]);
    if (!job || delivered || deleted) {
      if (!job && !deleted) this.#log.info('event_for_unknown_job', { jobId });
      this.#rememberFinished(jobId);
      return undefined;
    }
    const track: Track = { job, state: INITIAL_STATE, held: [], lastSentAt: -Infinity, lastEventAt: Date.now(), notBefore: 0, attempts: 0, sending: false, dirty: false, done: false };
    this.#tracks.set(jobId, track);
    return track;
  }

  #schedule(track: Track): void {
    if (track.done) return;
    if (track.sending) {
      track.dirty = true;
      return;
    }
    const now = Date.now();
    const final = isFinal(track.state);
    const throttleUntil = final ? 0 : Math.max(track.lastSentAt + this.#interval, this.#pacer.freeAt(track.job));
    const wait = Math.max(0, throttleUntil - now, track.notBefore - now);
    if (wait === 0) {
      this.#clearTimer(track);
      // Reserved before the first await so that jobs scheduled in the same tick see the slot taken.
      if (!final) this.#pacer.reserve(track.job);
      void this.#work.track(this.#send(track));
    } else if (!track.timer || final) {
      this.#clearTimer(track);
      this.#work.hold();
      track.timer = setTimeout(() => {
        track.timer = undefined;
        this.#schedule(track);
        this.#work.release();
      }, wait);
    }
  }

  async #send(track: Track): Promise<void> {
    track.sending = true;
    const state = track.state;
    const held = track.held.splice(0);
    try {
      // The content is read while the deletion check is under way (one round trip instead of two); it is shown only if the job still exists.
      const [deleted, prepared] = await Promise.allSettled([isDeleted(this.#options.blobs, track.job.id), this.#prepare(track, state)]);
      if (deleted.status === 'rejected') throw deleted.reason;
      if (deleted.value) {
        // The owner deleted the job (and its message): nothing more to show, ever.
        this.#finish(track);
        await Promise.all(held.map((receipt) => this.#ack(receipt)));
        return;
      }
      if (prepared.status === 'rejected') throw prepared.reason;
      await this.#deliver(track, prepared.value);
      track.attempts = 0;
      track.notBefore = 0;
      track.lastSentAt = Date.now();
      if (isFinal(state)) {
        const phase = state.phase === 'completed' || state.phase === 'failed' || state.phase === 'cancelled' ? state.phase : undefined;
        const failure = state.failure ? { failure: { code: state.failure.code, reason: state.failure.reason } } : {};
        if (phase) await markDelivered(this.#options.blobs, track.job.id, { v: 1, phase, at: Date.now(), ...failure });
        this.#finish(track);
      }
      await Promise.all(held.map((receipt) => this.#ack(receipt)));
    } catch (error) {
      this.#onFailure(track, state, held, error);
    } finally {
      track.sending = false;
      if (track.dirty && !track.done) {
        track.dirty = false;
        this.#schedule(track);
      }
    }
  }

  #onFailure(track: Track, state: JobState, held: string[], error: unknown): void {
    const final = isFinal(state);
    const fields = { jobId: track.job.id, platform: track.job.delivery.platform, phase: state.phase, attempt: track.attempts + 1, error: describe(error) };
    if (error instanceof DeliveryError && !error.retryable) {
      this.#log.error('delivery_abandoned', fields);
      if (final) this.#finish(track);
      void Promise.all(held.map((receipt) => this.#ack(receipt)));
      return;
    }
    track.attempts++;
    if (track.attempts >= this.#retry.maxAttempts) {
      // A final message stays unacked: the queue redelivers it later (and finally dead-letters it), so it is never silently lost.
      if (final) this.#log.warn('final_delivery_deferred_to_queue', fields);
      else this.#log.debug('edit_dropped', fields);
      track.attempts = 0;
      if (final) this.#forget(track);
      return;
    }
    const retryAfter = error instanceof DeliveryError && error.retryAfterMs !== undefined ? error.retryAfterMs : 0;
    const backoff = exponentialDelay(track.attempts - 1, { initialMs: this.#retry.baseMs, maxMs: this.#retry.maxMs });
    track.notBefore = Date.now() + Math.max(backoff, retryAfter);
    track.held.unshift(...held);
    this.#log.info('delivery_retry', { ...fields, retryInMs: track.notBefore - Date.now() });
    track.dirty = true;
  }

  async #prepare(track: Track, state: JobState): Promise<PreparedDelivery> {
    const { job } = track;
    const poster = this.#options.posters[job.delivery.platform];
    if (!poster) throw new DeliveryError(`no poster configured for ${job.delivery.platform}`, false);
    const shown = state.phase === 'queued' ? await this.#withFleetStatus(state) : state;
    return { poster, content: await prepareDelivery(this.#options.blobs, poster, job, shown, track.lastPreviewKey), result: state.result };
  }

  async #deliver(track: Track, { poster, content, result }: PreparedDelivery): Promise<void> {
    const { job } = track;
    const fingerprint = JSON.stringify(content.message);
    if (fingerprint === track.lastFingerprint && !content.attachment) return;
    await poster.deliver(job, content.message, content.attachment, result ? { result } : undefined);
    track.lastFingerprint = fingerprint;
    track.lastPreviewKey = content.previewVersion;
  }

  /** A waiting job's state as shown: "GPU waking up", or why the GPU cannot start. */
  async #withFleetStatus(state: JobState): Promise<JobState> {
    if (await this.#isWarm()) return { ...state, waking: false };
    const problem = await (this.#fleet.startProblem?.() ?? Promise.resolve(undefined)).catch((error: unknown) => {
      this.#log.warn('fleet_status_failed', { error: describe(error) });
      return undefined;
    });
    return { ...state, waking: true, ...(problem ? { fleetProblem: problem } : {}) };
  }

  async #isWarm(): Promise<boolean> {
    try {
      return await this.#fleet.isWarm();
    } catch (error) {
      this.#log.warn('fleet_status_failed', { error: describe(error) });
      return true;
    }
  }

  async #ack(receiptHandle: string): Promise<void> {
    try {
      await this.#options.events.ack(receiptHandle);
    } catch (error) {
      this.#log.warn('ack_failed', { error: describe(error) });
    }
  }

  #finish(track: Track): void {
    track.done = true;
    this.#rememberFinished(track.job.id);
    this.#forget(track);
  }

  #forget(track: Track): void {
    this.#clearTimer(track);
    this.#tracks.delete(track.job.id);
  }

  #rememberFinished(jobId: JobId): void {
    if (this.#finished.size >= RECENTLY_FINISHED_CAP) {
      const oldest = this.#finished.values().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
    this.#finished.add(jobId);
  }

  #forgetIdleTracks(): void {
    const cutoff = Date.now() - (this.#options.idleTrackMs ?? 3_600_000);
    for (const track of this.#tracks.values()) {
      if (track.lastEventAt < cutoff && !track.sending && !track.timer && track.held.length === 0) this.#tracks.delete(track.job.id);
    }
  }

  #clearTimer(track: Track): void {
    if (track.timer) {
      clearTimeout(track.timer);
      track.timer = undefined;
      this.#work.release();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
