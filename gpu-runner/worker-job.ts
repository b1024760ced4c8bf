/**
 * One job, from "received" to "deleted": skip if already done or cancelled (checked while the model starts), heartbeat while working,
 * throttled progress and previews, generate, store outputs (result.json last), publish `completed`,
 * then delete the message. Every way out is an explicit JobOutcome the loop can count and log.
 */
import { WIRE_VERSION, type Job, type JobEvent } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';
import type { BlobStore, EventBus, JobQueue, ReceivedJob } from '../core/ports.ts';
import type { RunnerSettings } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { clearPending } from '../core/pending.ts';
import { modelNotes } from '../core/model-notes.ts';
import { CodedError, ParentMissingError, UnsupportedRequestError } from '../core/errors.ts';
import type { GenerateOutput, GenerateProgress, GenerateRequest, ImageGenerator, RgbImage } from './generator.ts';
import { buildGenerateRequest, loadParentTile, loadRequestImages } from './worker-request.ts';
import { storeOutputs } from './worker-outputs.ts';
import { composeGrid, encodeJpeg } from './imaging.ts';
import { markDeadLetterNotified } from './worker-dead-letters.ts';

export interface WorkerSettings extends RunnerSettings {
  runnerId: string;
}

export interface JobContext {
  queue: JobQueue;
  events: EventBus;
  blobs: BlobStore;
  generator: ImageGenerator;
  settings: WorkerSettings;
  log: Logger;
  /** Retries an operation through connection failures (see worker.ts). */
  attempt: <T>(what: string, operation: () => Promise<T>) => Promise<T>;
}

export type JobOutcome =
  | { kind: 'completed'; recomputed: boolean }
  | { kind: 'cancelled' }
  | { kind: 'parent_missing' }
  | { kind: 'failed'; final: boolean; error: unknown }
  | { kind: 'released' };

type AbortReason = 'cancelled' | 'interrupted' | 'not needed';
type Verdict = 'run' | 'done' | 'cancelled';

export class JobRun {
  readonly #ctx: JobContext;
  readonly #received: ReceivedJob & { job: Job };
  readonly #abort = new AbortController();
  #abortReason: AbortReason | undefined;
  #eventChain: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  /** `started` is out: progress and previews may follow (never for a job that turned out done or cancelled). */
  #announced = false;

  constructor(ctx: JobContext, received: ReceivedJob & { job: Job }) {
    this.#ctx = ctx;
    this.#received = received;
  }

  get job(): Job {
    return this.#received.job;
  }

  /** Stop generating and give the job back to the queue (runner draining, no time to finish). */
  interrupt(): void {
    this.#stopGenerating('interrupted');
  }

  async run(): Promise<JobOutcome> {
    const { blobs } = this.#ctx;
    const job = this.job;
    this.#startTimers();
    // The model starts at once. Meanwhile the store says whether an earlier attempt already finished the job or its
    // owner cancelled it (both checks at once; a finished result wins over a cancel): if so, the model is stopped at
    // its next step and nothing it made is kept. `started` goes out once the checks pass, while the model runs;
    // progress events queue behind it, and a failed publish still fails the job once generate returns.
    const verdict = Promise.all([
      this.#ctx.attempt('check result', () => blobs.exists(jobKeys.result(job.id))),
      this.#ctx.attempt('check cancel', () => blobs.exists(jobKeys.cancel(job.id))),
    ]).then(([done, cancelled]): Verdict => (done ? 'done' : cancelled ? 'cancelled' : 'run'));
    const announced = verdict.then(async (go) => {
      if (go !== 'run') return;
      await this.#ctx.attempt('publish started', () => this.#ctx.events.publish(this.#event({ type: 'started', runnerId: this.#ctx.settings.runnerId, attempt: this.#received.receiveCount })));
      this.#announced = true;
    });
    this.#eventChain = announced.then(noop, noop);
    const generation = this.#generate();
    generation.catch(noop); // awaited below, after the verdict; a rejection before then is not unhandled

    let go: Verdict;
    try {
      go = await verdict;
    } catch (error) {
      // The store could not be asked (even after retries): as before the model started, the message comes back later.
      await this.#abandon(generation);
      throw error;
    }
    if (go !== 'run') {
      await this.#abandon(generation);
      if (go === 'cancelled') return this.#cancelled();
      // Done by an earlier attempt that died before deleting the message: announce again (the FIFO
      // events queue drops the copy if the first announcement got through) and finish the bookkeeping.
      await this.#finish(this.#event({ type: 'completed', resultKey: jobKeys.result(job.id) }));
      return { kind: 'completed', recomputed: false };
    }

    try {
      const { request, output, generateMs } = await generation;
      await announced;
      if (this.#abortReason) throw new CodedError('cancelled', `job ${this.#abortReason}`);
      const { generator } = this.#ctx;
      const result = await storeOutputs(blobs, {
        job, request, output,
        model: { name: generator.modelName, variant: generator.modelVariant, ...(generator.acceptsImagePrompts ? { imagePrompts: true } : {}) },
        runnerId: this.#ctx.settings.runnerId,
        notes: modelNotes(job.request, generator.guide),
        timings: { generate: generateMs },
        attempt: this.#ctx.attempt,
      });
      await this.#eventChain;
      await this.#finish(this.#event({ type: 'completed', resultKey: jobKeys.result(job.id), result }));
      return { kind: 'completed', recomputed: true };
    } catch (error) {
      await announced.catch(noop);
      return await this.#failed(error);
    } finally {
      this.#stopTimers();
    }
  }

  async #generate(): Promise<{ request: GenerateRequest; output: GenerateOutput; generateMs: number }> {
    const job = this.job;
    const [parent, images] = await Promise.all([
      job.kind === 'imagine' ? undefined : loadParentTile(this.#ctx.blobs, job.parent),
      loadRequestImages(this.#ctx.blobs, job),
    ]);
    const { generator } = this.#ctx;
    const request = buildGenerateRequest(job, generator.baseResolution, parent, generator.guide, images);
    const generateStarted = performance.now();
    const output = await generator.generate(request, {
      onProgress: this.#throttled((progress: GenerateProgress) => this.#publishSoon(this.#event({ type: 'progress', ...progress }))),
      onPreview: this.#throttled((images: RgbImage[], fraction: number) => this.#storePreview(images, fraction)),
      signal: this.#abort.signal,
    });
    return { request, output, generateMs: performance.now() - generateStarted };
  }

  /** The job is not to run after all: stop the model, wait until it has let go, keep nothing it made. */
  async #abandon(generation: Promise<unknown>): Promise<void> {
    this.#stopGenerating('not needed');
    await generation.catch(noop);
    this.#stopTimers();
  }

  async #failed(error: unknown): Promise<JobOutcome> {
    const { queue, settings, log } = this.#ctx;
    const handle = this.#received.receiptHandle;
    if (this.#abortReason === 'cancelled') return this.#cancelled();
    if (this.#abortReason === 'interrupted') {
      await this.#ctx.attempt('release job', () => queue.release(handle));
      await this.#publishFailed('interrupted', 'The GPU machine is shutting down; your image will be made on another one.', true);
      return { kind: 'released' };
    }
    if (error instanceof ParentMissingError) {
      // Retrying cannot bring the parent back: tell the user and drop the job.
      await this.#finish(this.#event({ type: 'failed', code: 'parent_missing', reason: error.message.slice(0, 500), willRetry: false }));
      return { kind: 'parent_missing' };
    }
    if (error instanceof UnsupportedRequestError) {
      // This model cannot do it (e.g. no image encoder): retrying elsewhere would run the same model.
      await this.#finish(this.#event({ type: 'failed', code: error.code, reason: error.message.slice(0, 500), willRetry: false }));
      return { kind: 'failed', final: true, error };
    }
    const attempt = this.#received.receiveCount;
    const final = attempt >= settings.maxReceives;
    log.error('job failed', { jobId: this.job.id, attempt, of: settings.maxReceives, final, error });
    // instanceof on the generic class narrows to CodedError<any>; the assertion restores its ErrorCode union.
    const code = error instanceof CodedError ? (error as CodedError).code : 'model_error';
    if (final) {
      await this.#publishFailed(code, `The image could not be made after ${attempt} attempts. The job was set aside for the operators to look at.`, false);
      await this.#ctx.attempt('clear pending', () => clearPending(this.#ctx.blobs, this.job));
      await this.#ctx.attempt('mark notified', () => markDeadLetterNotified(this.#ctx.blobs, this.job.id));
      // Visible again at once: the next receive exceeds maxReceiveCount and SQS moves it to the DLQ.
      await this.#ctx.attempt('release job', () => queue.release(handle));
    } else {
      await this.#publishFailed(code, `Making the image failed (attempt ${attempt} of ${settings.maxReceives}); it will be retried.`, true);
      await this.#ctx.attempt('delay retry', () => queue.extendVisibility(handle, settings.retryDelaySeconds));
    }
    return { kind: 'failed', final, error };
  }

  async #cancelled(): Promise<JobOutcome> {
    await this.#finish(this.#event({ type: 'failed', code: 'cancelled', reason: 'The job was cancelled.', willRetry: false }));
    return { kind: 'cancelled' };
  }

  /** Final event, then the pending marker, then the message: a crash in between only repeats harmless steps. */
  async #finish(event: JobEvent): Promise<void> {
    await this.#eventChain;
    await this.#ctx.attempt(`publish ${event.type}`, () => this.#ctx.events.publish(event));
    await this.#ctx.attempt('clear pending', () => clearPending(this.#ctx.blobs, this.job));
    await this.#ctx.attempt('delete message', () => this.#ctx.queue.delete(this.#received.receiptHandle));
  }

  async #publishFailed(code: string, reason: string, willRetry: boolean): Promise<void> {
    await this.#eventChain;
    await this.#ctx.attempt('publish failed', () => this.#ctx.events.publish(this.#event({ type: 'failed', code, reason, willRetry })));
  }

  #event(fields: DistributiveOmit<JobEvent, 'v' | 'jobId' | 'at'>): JobEvent {
    return { v: WIRE_VERSION, jobId: this.job.id, at: Date.now(), ...fields };
  }

  /** Progress is best-effort: published in order, off the generator's path, dropped when the bus is down. */
  #publishSoon(event: JobEvent): void {
    this.#eventChain = this.#eventChain
      .then(() => (this.#announced ? this.#ctx.events.publish(event) : undefined))
      .catch((error: unknown) => this.#ctx.log.debug('progress event dropped', { jobId: this.job.id, error }));
  }

  #storePreview(images: RgbImage[], fraction: number): void {
    const key = jobKeys.preview(this.job.id);
    this.#eventChain = this.#eventChain
      .then(async () => {
        if (!this.#announced) return;
        await this.#ctx.blobs.put(key, await encodeJpeg(composeGrid(images.slice(0, 4))), 'image/jpeg');
        await this.#ctx.events.publish(this.#event({ type: 'preview', key, fraction }));
      })
      .catch((error: unknown) => this.#ctx.log.debug('preview dropped', { jobId: this.job.id, error }));
  }

  /** At most one call per progress interval; the rest are dropped (the next one carries newer news). */
  #throttled<A extends unknown[]>(callback: (...args: A) => void): (...args: A) => void {
    let last = Number.NEGATIVE_INFINITY;
    return (...args: A) => {
      const now = performance.now();
      if (now - last < this.#ctx.settings.progressIntervalMs) return;
      last = now;
      callback(...args);
    };
  }

  #startTimers(): void {
    const { queue, blobs, settings, log } = this.#ctx;
    const handle = this.#received.receiptHandle;
    this.#timers.push(
      setInterval(() => {
        queue.extendVisibility(handle, settings.visibilitySeconds).catch((error: unknown) => log.warn('heartbeat failed', { jobId: this.job.id, error }));
      }, settings.heartbeatSeconds * 1000),
    );
    let checking = false;
    this.#timers.push(
      setInterval(() => {
        if (checking) return;
        checking = true;
        blobs
          .exists(jobKeys.cancel(this.job.id))
          .then((cancelled) => cancelled && this.#stopGenerating('cancelled'))
          .catch((error: unknown) => log.debug('cancel check failed', { jobId: this.job.id, error }))
          .finally(() => (checking = false));
      }, settings.cancelCheckMs),
    );
  }

  #stopTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  #stopGenerating(reason: AbortReason): void {
    if (this.#abortReason) return;
    this.#abortReason = reason;
    this.#abort.abort(new CodedError('cancelled', `job ${reason}`));
  }
}

function noop(): void {}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
