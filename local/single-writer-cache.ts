/**
 * A BlobStore that keeps what it reads of some keys in memory, for a process that is the only writer of those keys.
 * `npm start` with its own emulator is such a process for saved settings and for the bot's per-job markers (deleted,
 * delivered): the chat handlers, the playground and the dispatcher write them through this same object, and the runner
 * child never does. So every /imagine reads the saved defaults (two GETs before the queue send), and the dispatcher
 * its "was this job deleted?" check before each delivery, from memory after the first time.
 *
 * Writes from anywhere else would go unseen: never wrap a store that another process or machine writes to (a
 * deployed stack, or npm start against configured AWS queues and a bucket).
 *
 * Memory never holds a value the store might not: a read fills it only if no write or delete through this object
 * started or ended for that key while the read was under way; the end of a write sets it to what was written if no
 * other write of the key overlapped (two overlapping writes may land in either order), and else clears it, so the
 * next read asks the store.
 */
import type { BlobStore } from '../core/ports.js';

export class SingleWriterCache implements BlobStore {
  readonly #inner: BlobStore;
  readonly #cached: (key: string) => boolean;
  /** null: known to be absent. */
  readonly #known = new Map<string, Uint8Array | null>();
  /** Bumped when a write or delete of the key starts and when it ends. */
  readonly #generations = new Map<string, number>();
  readonly #writing = new Map<string, number>();

  /** `cached`: the keys this process alone writes. */
  constructor(inner: BlobStore, cached: (key: string) => boolean) {
    this.#inner = inner;
    this.#cached = cached;
  }

  async get(key: string): Promise<Uint8Array | null> {
    if (!this.#cached(key)) return this.#inner.get(key);
    const known = this.#known.get(key);
    if (known !== undefined) return known;
    const generation = this.#generation(key);
    const bytes = await this.#inner.get(key);
    if (this.#generation(key) === generation) this.#known.set(key, bytes);
    return bytes;
  }

  async exists(key: string): Promise<boolean> {
    if (!this.#cached(key)) return this.#inner.exists(key);
    const known = this.#known.get(key);
    if (known !== undefined) return known !== null;
    const generation = this.#generation(key);
    const exists = await this.#inner.exists(key);
    // Absence is all a HEAD tells; a present key is remembered once it is read.
    if (!exists && this.#generation(key) === generation) this.#known.set(key, null);
    return exists;
  }

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    if (!this.#cached(key)) return this.#inner.put(key, body, contentType);
    await this.#write([key], () => this.#inner.put(key, body, contentType), () => (typeof body === 'string' ? new TextEncoder().encode(body) : body));
  }

  async delete(keys: string[]): Promise<void> {
    await this.#write(keys.filter((key) => this.#cached(key)), () => this.#inner.delete(keys), () => null);
  }

  list(prefix: string): Promise<string[]> {
    return this.#inner.list(prefix);
  }

  presignedUrl(key: string, expiresSeconds: number): Promise<string> {
    return this.#inner.presignedUrl(key, expiresSeconds);
  }

  /** Runs a write of `keys`; afterwards memory holds `after()` for each key no other write overlapped, else nothing. */
  async #write(keys: string[], operation: () => Promise<void>, after: () => Uint8Array | null): Promise<void> {
    const started = keys.map((key) => {
      const overlapped = this.#writing.has(key);
      this.#writing.set(key, (this.#writing.get(key) ?? 0) + 1);
      this.#known.delete(key);
      return { key, overlapped, generation: this.#bump(key) };
    });
    let succeeded = false;
    try {
      await operation();
      succeeded = true;
    } finally {
      for (const { key, overlapped, generation } of started) {
        const alone = !overlapped && this.#generation(key) === generation;
        const writing = this.#writing.get(key)! - 1;
        if (writing === 0) this.#writing.delete(key);
        else this.#writing.set(key, writing);
        this.#bump(key);
        // Also drops what a read made while this write was under way: it may have seen either side of it.
        if (succeeded && alone) this.#known.set(key, after());
        else this.#known.delete(key);
      }
    }
  }

  #generation(key: string): number {
    return this.#generations.get(key) ?? 0;
  }

  #bump(key: string): number {
    const generation = this.#generation(key) + 1;
    this.#generations.set(key, generation);
    return generation;
  }
}
