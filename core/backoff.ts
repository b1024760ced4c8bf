/**
 * Retry timing, one way for every loop that retries: exponential delays capped at a maximum
 * (`exponentialDelay`), with full jitter for loops that many processes run at once (`Backoff`), and a
 * sleep that an AbortSignal ends early (node:timers/promises underneath).
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Random source in [0, 1), for tests. */
  random?: () => number;
}

/** `initialMs · 2^attempt`, capped at `maxMs` (attempt 0 is the first retry). */
export function exponentialDelay(attempt: number, { initialMs, maxMs }: { initialMs: number; maxMs: number }): number {
  return Math.min(maxMs, initialMs * 2 ** attempt);
}

/** Exponential back-off with jitter: each delay is half fixed, half random, doubling up to the cap. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 250;
    this.#maxMs = options.maxMs ?? 15_000;
    this.#random = options.random ?? Math.random;
  }

  /** Failures since the last success. */
  get attempts(): number {
    return this.#attempt;
  }

  /** Delay before the next try. */
  next(): number {
    const ceiling = exponentialDelay(this.#attempt, { initialMs: this.#initialMs, maxMs: this.#maxMs });
    this.#attempt += 1;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
}
