/**
 * The GPU runner's worker loop (after bbc/sqs-consumer): long-poll one job at a time, hand it to a
 * JobRun, keep serving whatever happens to one message.
 *
 * - Malformed or poison messages: released until their receive count reaches `maxReceives`, then a
 *   `failed` event (when a job id can be read) and one more release so SQS's redrive policy moves
 *   them to the DLQ. The runner never deletes a message it could not process.
 * - Queue or store unreachable: a clear error naming the endpoint, exponential back-off, recovery
 *   logged when it comes back. Uploads inside a job retry the same way within a budget.
 * - stop(): no new work (a long poll already under way is waited out and whatever it brings is
 *   released at once); the job in flight may finish until the drain deadline (drainTimeoutSeconds
 *   minus a margin for releasing), then it is interrupted and released with visibility 0.
 */
import { JobIdSchema, WIRE_VERSION, type Job } from '../core/job.ts';
import type { BlobStore, EventBus, JobQueue, ReceivedJob } from '../core/ports.ts';
import { isConnectionError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { clearPending } from '../core/pending.ts';
import { pendingKeys } from '../core/storage-layout.ts';
import type { ImageGenerator } from './generator.ts';
import { Backoff, sleep } from '../core/backoff.ts';
import { JobRun, type JobOutcome, type WorkerSettings } from './worker-job.ts';
import { markDeadLetterNotified, notifyDeadLetters } from './worker-dead-letters.ts';

export type { WorkerSettings } from './worker-job.ts';

export interface WorkerOptions {
  queue: JobQueue;
  events: EventBus;
  blobs: BlobStore;
  /** The jobs DLQ; when given, the idle runner tells users about jobs that died there unannounced. */
  deadLetters?: JobQueue;
  generator: ImageGenerator;
  settings: WorkerSettings;
  log?: Logger;
  /** How long one store/publish call inside a job keeps retrying through an outage (ms). */
  outageBudgetMs?: number;
  /** Told when a job starts and ends (scale-in protection of the runner's instance); never blocks the job. */
  busySignal?: { jobStarted(): void; jobFinished(): void };
}

export interface WorkerCounters {
  received: number;
  completed: number;
  skippedDone: number;
  failed: number;
  cancelled: number;
  released: number;
  malformed: number;
  expired: number;
}

export class Worker {
  readonly #options: WorkerOptions;
  readonly #log: Logger;
  /** Aborted by stop(): ends back-off sleeps early. The long poll itself is left to finish (see #run). */
  readonly #stopping = new AbortController();
  /** Fires at the drain deadline: retries inside a job give up so the runner can leave in time. */
  readonly #deadline = new AbortController();
  readonly #counters: WorkerCounters = { received: 0, completed: 0, skippedDone: 0, failed: 0, cancelled: 0, released: 0, malformed: 0, expired: 0 };
  #current: JobRun | undefined;
  #loop: Promise<void> | undefined;
  #stopReason: string | undefined;
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerOptions) {
    if (options.settings.heartbeatSeconds >= options.settings.visibilitySeconds) {
      throw new Error(`heartbeat (${options.settings.heartbeatSeconds} s) must be shorter than the visibility timeout (${options.settings.visibilitySeconds} s), or jobs reappear while they run`);
    }
    this.#options = options;
    this.#log = (options.log ?? silentLogger).child({ runnerId: options.settings.runnerId });
  }

  get counters(): Readonly<WorkerCounters> {
    return this.#counters;
  }

  get busy(): boolean {
    return this.#current !== undefined;
  }

  /** Runs until stop(); the promise settles when the loop has ended and nothing is in flight. */
  start(): Promise<void> {
    this.#loop ??= this.#run();
    return this.#loop;
  }

  /** Stop taking work, finish or release the job in flight, resolve when done. Idempotent. */
  async stop(reason: string): Promise<void> {
    if (this.#stopReason === undefined) {
      this.#stopReason = reason;
      const { drainTimeoutSeconds } = this.#options.settings;
      const releaseMarginMs = Math.min(15_000, (drainTimeoutSeconds * 1000) / 4);
      this.#log.info('draining', { reason, jobInFlight: this.#current?.job.id, drainTimeoutSeconds });
      this.#stopping.abort();
      this.#drainTimer = setTimeout(() => {
        this.#deadline.abort();
        if (this.#current) {
          this.#log.warn('drain deadline reached; releasing the job in flight', { jobId: this.#current.job.id });
          this.#current.interrupt();
        }
      }, drainTimeoutSeconds * 1000 - releaseMarginMs);
    }
    await this.#loop;
    clearTimeout(this.#drainTimer);
  }

  async #run(): Promise<void> {
    const { queue, settings } = this.#options;
    const backoff = new Backoff();
    let outageStartedAt: number | undefined;
    this.#log.info('runner ready', { model: this.#options.generator.modelName, baseResolution: this.#options.generator.baseResolution });
    while (this.#stopReason === undefined) {
      let received: ReceivedJob | null;
      try {
        // Not aborted on stop: a cancelled HTTP request can still have taken a message off the queue,
        // which would then sit invisible for a whole visibility timeout. Waiting out the poll
        // (≤ POLL_WAIT_SECONDS) and giving back what it brings loses nothing.
        received = await queue.receive({ waitSeconds: settings.pollWaitSeconds, visibilitySeconds: settings.visibilitySeconds });
        if (outageStartedAt !== undefined) {
          this.#log.info('jobs queue reachable again', { afterMs: Date.now() - outageStartedAt });
          outageStartedAt = undefined;
        }
        backoff.reset();
      } catch (error) {
        if (this.#stopReason !== undefined) break;
        const delayMs = backoff.next();
        outageStartedAt ??= Date.now();
        const level = backoff.attempts === 1 || !isConnectionError(error) ? 'error' : 'warn';
        this.#log[level](isConnectionError(error) ? 'jobs queue unreachable; retrying with back-off' : 'receiving from the jobs queue failed; retrying with back-off', {
          error,
          attempt: backoff.attempts,
          retryInMs: delayMs,
        });
        await sleep(delayMs, this.#stopping.signal);
        continue;
      }
      if (!received) {
        if (this.#stopReason === undefined) await this.#checkDeadLetters();
        continue;
      }
      if (this.#stopReason !== undefined) {
        await this.#attempt('give back a job received while stopping', () => queue.release(received.receiptHandle)).catch((error: unknown) =>
          this.#log.warn('could not give back a job received while stopping; it returns after its visibility timeout', { error }),
        );
        break;
      }
      this.#counters.received += 1;
      try {
        if (received.job && jobAgeMs(received.job) > settings.maxJobAgeSeconds * 1000) await this.#expired(received as ReceivedJob & { job: Job });
        else if (received.job) await this.#process(received as ReceivedJob & { job: Job });
        else await this.#malformed(received);
      } catch (error) {
        // Bookkeeping failed even after retries (store or queue down too long): the message simply
        // becomes visible again when its visibility timeout ends. Log and keep serving.
        this.#log.error('could not finish handling a message; it will be delivered again', { messageId: received.messageId, error });
      }
    }
    this.#log.info('runner stopped', { reason: this.#stopReason, ...this.#counters });
  }

  async #process(received: ReceivedJob & { job: Job }): Promise<void> {
    const run = new JobRun({ ...this.#options, log: this.#log, attempt: this.#attempt }, received);
    this.#current = run;
    const log = this.#log.child({ jobId: received.job.id, attempt: received.receiveCount });
    log.info('job started', { kind: received.job.kind });
    // A stop that arrived between receive and here still lets the job run until the deadline.
    let outcome: JobOutcome;
    this.#options.busySignal?.jobStarted();
    try {
      outcome = await run.run();
    } finally {
      this.#current = undefined;
      this.#options.busySignal?.jobFinished();
    }
    this.#count(outcome);
    log.info('job finished', { outcome: outcome.kind, ...(outcome.kind === 'completed' ? { recomputed: outcome.recomputed } : {}) });
  }

  /**
   * A job that waited longer than JOB_MAX_AGE_SECONDS (no GPU for hours, a long outage): running it now
   * would answer a question nobody is waiting for, so the user is told it expired and the message goes.
   */
  async #expired(received: ReceivedJob & { job: Job }): Promise<void> {
    const { queue, events, blobs } = this.#options;
    const { job } = received;
    const waited = formatWait(jobAgeMs(job));
    this.#counters.expired += 1;
    this.#log.warn('job expired before it could run', { jobId: job.id, waitedMs: jobAgeMs(job) });
    await this.#attempt('publish failed', () =>
      events.publish({
        v: WIRE_VERSION,
        type: 'failed',
        jobId: job.id,
        at: Date.now(),
        code: 'expired',
        reason: `This request expired after ${waited} in the queue without a free GPU, so no image was made. Please try again.`,
        willRetry: false,
      }),
    );
    await this.#attempt('clear pending', () => clearPending(blobs, job));
    await this.#attempt('delete expired job', () => queue.delete(received.receiptHandle));
  }

  async #malformed(received: ReceivedJob): Promise<void> {
    const { queue, events, blobs, settings } = this.#options;
    this.#counters.malformed += 1;
    const recovered = recoverJobFields(received.body);
    const final = received.receiveCount >= settings.maxReceives;
    this.#log.warn('malformed job message', { messageId: received.messageId, jobId: recovered.id, receiveCount: received.receiveCount, final, problem: received.parseError });
    if (final && recovered.id) {
      await this.#attempt('publish failed', () =>
        events.publish({ v: WIRE_VERSION, type: 'failed', jobId: recovered.id!, at: Date.now(), code: 'poison_message', reason: 'The request could not be read, so no image was made. Please try again.', willRetry: false }),
      );
      if (recovered.markerKey) await this.#attempt('clear pending', () => blobs.delete([recovered.markerKey!]));
      await this.#attempt('mark notified', () => markDeadLetterNotified(blobs, recovered.id!));
    }
    // Released, not deleted: the redrive policy moves it to the DLQ once its receives run out.
    await this.#attempt('release malformed message', () => (final ? queue.release(received.receiptHandle) : queue.extendVisibility(received.receiptHandle, settings.retryDelaySeconds)));
  }

  #lastDeadLetterCheck = Number.NEGATIVE_INFINITY;

  /** Idle time only, at most once per DLQ_CHECK_SECONDS; a failure here never stops the loop. */
  async #checkDeadLetters(): Promise<void> {
    const { deadLetters, events, blobs, settings } = this.#options;
    if (!deadLetters || Date.now() - this.#lastDeadLetterCheck < settings.deadLetterCheckSeconds * 1000) return;
    this.#lastDeadLetterCheck = Date.now();
    try {
      await notifyDeadLetters({ deadLetters, events, blobs, log: this.#log });
    } catch (error) {
      this.#log.warn('dead-letter check failed', { error });
    }
  }

  #count(outcome: JobOutcome): void {
    const key = ({ completed: outcome.kind === 'completed' && !outcome.recomputed ? 'skippedDone' : 'completed', cancelled: 'cancelled', parent_missing: 'failed', failed: 'failed', released: 'released' } as const)[outcome.kind];
    this.#counters[key] += 1;
  }

  /** Retries connection failures with back-off within the outage budget; other errors pass through. */
  readonly #attempt = async <T>(what: string, operation: () => Promise<T>): Promise<T> => {
    const budgetMs = this.#options.outageBudgetMs ?? 60_000;
    const startedAt = Date.now();
    const backoff = new Backoff();
    for (;;) {
      try {
        return await operation();
      } catch (error) {
        if (!isConnectionError(error) || Date.now() - startedAt > budgetMs || this.#deadline.signal.aborted) throw error;
        const delayMs = backoff.next();
        this.#log.warn(`${what}: service unreachable; retrying`, { error, retryInMs: delayMs });
        await sleep(delayMs, this.#deadline.signal);
      }
    }
  };
}

/** Time since the user asked (job.createdAt); 0 when the timestamp is unreadable (the job then runs). */
function jobAgeMs(job: Job): number {
  const created = Date.parse(job.createdAt);
  return Number.isNaN(created) ? 0 : Math.max(0, Date.now() - created);
}

/** "2 h 5 min", "45 min", "1 day 3 h": the wait as a user reads it. */
export function formatWait(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return `${days} day${days === 1 ? '' : 's'}${hours > 0 ? ` ${hours} h` : ''}`;
  if (hours > 0) return `${hours} h${rest > 0 ? ` ${rest} min` : ''}`;
  return `${Math.max(1, rest)} min`;
}

/** What can still be read from a message that failed the Job schema: its id and pending-marker key. */
function recoverJobFields(body: string): { id?: string; markerKey?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {};
  }
  if (typeof json !== 'object' || json === null) return {};
  const candidate = json as Partial<Job>;
  const id = JobIdSchema.safeParse(candidate.id);
  if (!id.success) return {};
  const requester = candidate.requester;
  const canMark = typeof candidate.createdAt === 'string' && !Number.isNaN(Date.parse(candidate.createdAt)) && typeof requester?.platform === 'string' && typeof requester.userId === 'string';
  return { id: id.data, ...(canMark ? { markerKey: pendingKeys.marker({ id: id.data, createdAt: candidate.createdAt!, requester: requester }) } : {}) };
}
