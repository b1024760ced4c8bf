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
 * started or ended while the read was under way; the end of a write sets it to what was written if nothing else was
 * written meanwhile (two overlapping writes of a key may land in either order), and else clears it, so the next read
 * asks the store. At most `maxEntries` keys are remembered (the least recently read or written are forgotten).
 */
import type { BlobStore } from '../core/ports.ts';

export class SingleWriterCache implements BlobStore {
  readonly #inner: BlobStore;
  readonly #cached: (key: string) => boolean;
  readonly #maxEntries: number;
  /** null: known to be absent. Oldest first. */
  readonly #known = new Map<string, Uint8Array | null>();
  /** Bumped when any write or delete through this object starts and when it ends. */
  #epoch = 0;
  /** Writes under way, per key. */
  readonly #writing = new Map<string, number>();

  /** `cached`: the keys this process alone writes. */
  constructor(inner: BlobStore, cached: (key: string) => boolean, maxEntries = 10_000) {
    this.#inner = inner;
    this.#cached = cached;
    this.#maxEntries = maxEntries;
  }

  async get(key: string): Promise<Uint8Array | null> {
    if (!this.#cached(key)) return this.#inner.get(key);
    const known = this.#recall(key);
    if (known !== undefined) return known;
    const epoch = this.#epoch;
    const bytes = await this.#inner.get(key);
    if (this.#epoch === epoch) this.#remember(key, bytes);
    return bytes;
  }

  async exists(key: string): Promise<boolean> {
    if (!this.#cached(key)) return this.#inner.exists(key);
    const known = this.#recall(key);
    if (known !== undefined) return known !== null;
    const epoch = this.#epoch;
    const exists = await this.#inner.exists(key);
    // Absence is all a HEAD tells; a present key is remembered once it is read.
    if (!exists && this.#epoch === epoch) this.#remember(key, null);
    return exists;
  }

  async put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    if (!this.#cached(key)) return this.#inner.put(key, body, contentType);
    await this.#write([key], () => this.#inner.put(key, body, contentType), () => (typeof body === 'string' ? new TextEncoder().encode(body) : body));
  }

  async putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<boolean> {
    if (!this.#cached(key)) return this.#inner.putIfAbsent(key, body, contentType);
    let created = false;
    // Either way the key exists afterwards; memory learns its bytes only when this call wrote them.
    await this.#write([key], async () => void (created = await this.#inner.putIfAbsent(key, body, contentType)), () => (created ? (typeof body === 'string' ? new TextEncoder().encode(body) : body) : null));
    if (!created) this.#known.delete(key);
    return created;
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

  /** Runs a write of `keys`; afterwards memory holds `after()` for them if nothing else was written meanwhile, else nothing. */
  async #write(keys: string[], operation: () => Promise<void>, after: () => Uint8Array | null): Promise<void> {
    let overlapped = false;
    for (const key of keys) {
      overlapped ||= this.#writing.has(key);
      this.#writing.set(key, (this.#writing.get(key) ?? 0) + 1);
      this.#known.delete(key);
    }
    const epoch = ++this.#epoch;
    let succeeded = false;
    try {
      await operation();
      succeeded = true;
    } finally {
      const alone = succeeded && !overlapped && this.#epoch === epoch;
      this.#epoch += 1;
      for (const key of keys) {
        const writing = this.#writing.get(key)! - 1;
        if (writing === 0) this.#writing.delete(key);
        else this.#writing.set(key, writing);
        // Also drops what a read made while this write was under way: it may have seen either side of it.
        if (alone) this.#remember(key, after());
        else this.#known.delete(key);
      }
    }
  }

  #recall(key: string): Uint8Array | null | undefined {
    const known = this.#known.get(key);
    if (known !== undefined) this.#remember(key, known);
    return known;
  }

  /** Newest last; the oldest entries go beyond maxEntries. */
  #remember(key: string, value: Uint8Array | null): void {
    this.#known.delete(key);
    this.#known.set(key, value);
    if (this.#known.size > this.#maxEntries) this.#known.delete(this.#known.keys().next().value!);
  }
}
