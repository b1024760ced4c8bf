/**
 * Per-client limits of the playground, a client being a remote address: anyone may open many
 * sessions (every page load without a cookie gets one), so what one person may hold at once is also
 * counted where they connect from.
 *
 * - `OpenSlots`: things held open (event streams), per client and in all; a refusal says which limit.
 * - `ClientJobCap`: jobs in progress per client. A slot is reserved synchronously before the request's
 *   first await and kept only if a job was accepted, so concurrent requests cannot all pass the check.
 *   A job stops counting when its message reaches a final state, is deleted, or after `staleAfterMs`
 *   (as the per-user pending markers do), so a lost delivery never locks a client out.
 *
 * In-process state: the playground is one process, and each fact (a slot) is one entry changed only
 * synchronously.
 */

export type SlotRefusal = { scope: 'client' | 'all'; limit: number };

export class OpenSlots {
  readonly #perClient: number;
  readonly #total: number;
  readonly #byClient = new Map<string, number>();
  #open = 0;

  constructor(limits: { perClient: number; total: number }) {
    this.#perClient = limits.perClient;
    this.#total = limits.total;
  }

  /** A release function (call it once, when the thing closes), or which limit refused. */
  acquire(client: string): { release: () => void } | { refused: SlotRefusal } {
    const held = this.#byClient.get(client) ?? 0;
    if (held >= this.#perClient) return { refused: { scope: 'client', limit: this.#perClient } };
    if (this.#open >= this.#total) return { refused: { scope: 'all', limit: this.#total } };
    this.#byClient.set(client, held + 1);
    this.#open += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#open -= 1;
        const left = (this.#byClient.get(client) ?? 1) - 1;
        if (left <= 0) this.#byClient.delete(client);
        else this.#byClient.set(client, left);
      },
    };
  }

  get open(): number {
    return this.#open;
  }
}

export interface JobSlot {
  /** The request made this job (kept until the job ends); a duplicate of a job already counted is ignored. */
  keep(jobId: string): void;
  /** The request made no job. */
  release(): void;
}

export class ClientJobCap {
  readonly #limit: number;
  readonly #staleAfterMs: number;
  readonly #now: () => number;
  /** client → job id → when it was accepted. */
  readonly #jobs = new Map<string, Map<string, number>>();
  readonly #reserved = new Map<string, number>();
  /** job id → client, to forget a job when it ends. */
  readonly #clientOf = new Map<string, string>();

  constructor(options: { limit: number; staleAfterMs: number; now?: () => number }) {
    this.#limit = options.limit;
    this.#staleAfterMs = options.staleAfterMs;
    this.#now = options.now ?? Date.now;
  }

  get limit(): number {
    return this.#limit;
  }

  /** A slot for one request that may make a job, or undefined when the client is at its cap. */
  reserve(client: string): JobSlot | undefined {
    const jobs = this.#liveJobs(client);
    const reserved = this.#reserved.get(client) ?? 0;
    if ((jobs?.size ?? 0) + reserved >= this.#limit) return undefined;
    this.#reserved.set(client, reserved + 1);
    let settled = false;
    const unreserve = () => {
      if (settled) return false;
      settled = true;
      const left = (this.#reserved.get(client) ?? 1) - 1;
      if (left <= 0) this.#reserved.delete(client);
      else this.#reserved.set(client, left);
      return true;
    };
    return {
      keep: (jobId) => {
        if (!unreserve() || this.#clientOf.has(jobId)) return;
        const map = this.#jobs.get(client) ?? new Map<string, number>();
        map.set(jobId, this.#now());
        this.#jobs.set(client, map);
        this.#clientOf.set(jobId, client);
      },
      release: () => void unreserve(),
    };
  }

  /** The job reached a final state or was deleted: its client may make another. */
  ended(jobId: string): void {
    const client = this.#clientOf.get(jobId);
    if (client === undefined) return;
    this.#clientOf.delete(jobId);
    const map = this.#jobs.get(client);
    map?.delete(jobId);
    if (map?.size === 0) this.#jobs.delete(client);
  }

  #liveJobs(client: string): Map<string, number> | undefined {
    const map = this.#jobs.get(client);
    if (!map) return undefined;
    const now = this.#now();
    for (const [jobId, at] of map) if (now - at >= this.#staleAfterMs) this.ended(jobId);
    return this.#jobs.get(client);
  }
}
