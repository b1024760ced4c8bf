/**
 * Watches the EC2 instance metadata service for a spot interruption notice (2 minutes' warning).
 * IMDSv2: PUT a session token first, then GET `latest/meta-data/spot/instance-action`, which is 404
 * until AWS schedules the interruption. The base URL is configurable so tests serve it on loopback.
 */
import type { Logger } from '../core/log.ts';
import { sleep } from '../core/backoff.ts';
import { InstanceMetadata } from './worker-imds.ts';

export interface SpotNotice {
  action: string;
  time?: string;
}

export interface SpotWatcherOptions {
  baseUrl: string;
  pollMs: number;
  log: Logger;
  onNotice: (notice: SpotNotice) => void;
}

/** Polls until a notice arrives (calls onNotice once) or `stop()`; never throws. */
export class SpotWatcher {
  readonly #options: SpotWatcherOptions;
  readonly #stop = new AbortController();
  readonly #metadata: InstanceMetadata;
  #loop: Promise<void> | undefined;

  constructor(options: SpotWatcherOptions) {
    this.#options = options;
    this.#metadata = new InstanceMetadata(options.baseUrl);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const notice = await this.#check(signal);
        if (notice) {
          this.#options.log.warn('spot interruption notice received', { action: notice.action, time: notice.time });
          this.#options.onNotice(notice);
          return;
        }
      } catch (error) {
        if (!signal.aborted) this.#options.log.debug('instance metadata not reachable', { error });
      }
      await sleep(this.#options.pollMs, signal);
    }
  }

  async #check(signal: AbortSignal): Promise<SpotNotice | undefined> {
    const text = await this.#metadata.get('spot/instance-action', signal);
    if (text === undefined) return undefined;
    const body = JSON.parse(text) as { action?: unknown; time?: unknown };
    return { action: typeof body.action === 'string' ? body.action : 'unknown', ...(typeof body.time === 'string' ? { time: body.time } : {}) };
  }
}
