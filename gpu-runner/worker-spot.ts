/**
 * Watches the EC2 instance metadata service for a spot interruption notice (2 minutes' warning).
 * IMDSv2: PUT a session token first, then GET `latest/meta-data/spot/instance-action`, which is 404
 * until AWS schedules the interruption. The base URL is configurable so tests serve it on loopback.
 */
import type { Logger } from '../core/log.js';
import { sleep } from './worker-backoff.js';

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

const TOKEN_TTL_SECONDS = 21_600;

/** Polls until a notice arrives (calls onNotice once) or `stop()`; never throws. */
export class SpotWatcher {
  readonly #options: SpotWatcherOptions;
  readonly #stop = new AbortController();
  #token: { value: string; expiresAt: number } | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: SpotWatcherOptions) {
    this.#options = options;
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
    const token = await this.#sessionToken(signal);
    const response = await fetch(new URL('latest/meta-data/spot/instance-action', withSlash(this.#options.baseUrl)), {
      headers: { 'X-aws-ec2-metadata-token': token },
      signal,
    });
    if (response.status === 404) return undefined;
    if (response.status === 401) {
      this.#token = undefined;
      return undefined;
    }
    if (!response.ok) throw new Error(`instance metadata answered ${response.status}`);
    const body = (await response.json()) as { action?: unknown; time?: unknown };
    return { action: typeof body.action === 'string' ? body.action : 'unknown', ...(typeof body.time === 'string' ? { time: body.time } : {}) };
  }

  async #sessionToken(signal: AbortSignal): Promise<string> {
    if (this.#token && this.#token.expiresAt > Date.now()) return this.#token.value;
    const response = await fetch(new URL('latest/api/token', withSlash(this.#options.baseUrl)), {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_SECONDS) },
      signal,
    });
    if (!response.ok) throw new Error(`instance metadata token request answered ${response.status}`);
    const value = await response.text();
    this.#token = { value, expiresAt: Date.now() + (TOKEN_TTL_SECONDS - 60) * 1000 };
    return value;
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
