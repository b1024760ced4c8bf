import { describe, expect, it } from 'vitest';
import { SingleWriterCache } from '../../local/single-writer-cache.ts';
import { MemoryBlobStore } from '../bot/support/memory-ports.ts';

/** The inner store, counting the calls that reach it; `hold` makes the next call of a kind wait until released. */
class CountingStore extends MemoryBlobStore {
  readonly calls: string[] = [];
  readonly #held = new Map<string, Promise<void>>();

  hold(kind: 'get' | 'put' | 'delete'): () => void {
    let release!: () => void;
    this.#held.set(kind, new Promise<void>((resolve) => (release = resolve)));
    return release;
  }

  async #gate(kind: string): Promise<void> {
    const held = this.#held.get(kind);
    this.#held.delete(kind);
    await held;
  }

  override async get(key: string): Promise<Uint8Array | null> {
    this.calls.push(`get ${key}`);
    const value = await super.get(key); // read before waiting: a slow answer carries what was there when it was asked
    await this.#gate('get');
    return value;
  }
  override async exists(key: string): Promise<boolean> {
    this.calls.push(`exists ${key}`);
    return super.exists(key);
  }
  override async put(key: string, body: Uint8Array | string, contentType?: string): Promise<void> {
    this.calls.push(`put ${key}`);
    await this.#gate('put');
    if (body === 'fail') throw new Error('store down');
    await super.put(key, body, contentType);
  }
  override async delete(keys: string[]): Promise<void> {
    this.calls.push(`delete ${keys.join(',')}`);
    await this.#gate('delete');
    await super.delete(keys);
  }
}

const text = (bytes: Uint8Array | null) => (bytes ? new TextDecoder().decode(bytes) : null);
const KEY = 'settings/users/web/u1.json';

function setUp() {
  const inner = new CountingStore();
  return { inner, cache: new SingleWriterCache(inner, (key) => key.startsWith('settings/')) };
}

describe('SingleWriterCache', () => {
  it('GIVEN a key under a cached prefix THEN only the first read reaches the store, absent keys included; other keys always do', async () => {
    const { inner, cache } = setUp();
    await inner.put(KEY, 'v1');
    inner.calls.length = 0;
    expect(text(await cache.get(KEY))).toBe('v1');
    expect(text(await cache.get(KEY))).toBe('v1');
    expect(await cache.exists(KEY)).toBe(true);
    expect(await cache.get('settings/channels/web/none.json')).toBeNull();
    expect(await cache.exists('settings/channels/web/none.json')).toBe(false);
    await cache.get('jobs/j1/job.json');
    await cache.get('jobs/j1/job.json');
    expect(inner.calls).toEqual([`get ${KEY}`, 'get settings/channels/web/none.json', 'get jobs/j1/job.json', 'get jobs/j1/job.json']);
  });

  it('GIVEN a write or a delete through the cache THEN reads answer the new state without asking the store', async () => {
    const { inner, cache } = setUp();
    await cache.put(KEY, 'v2', 'application/json');
    expect(text(await cache.get(KEY))).toBe('v2');
    await cache.delete([KEY, 'jobs/j1/job.json']);
    expect(await cache.get(KEY)).toBeNull();
    expect(await cache.exists(KEY)).toBe(false);
    expect(inner.calls).toEqual([`put ${KEY}`, `delete ${KEY},jobs/j1/job.json`]);
    expect(await inner.exists(KEY)).toBe(false);
  });

  it('GIVEN a read that was asked before a write landed and answers after it THEN its old value is not kept', async () => {
    const { inner, cache } = setUp();
    await inner.put(KEY, 'old');
    const release = inner.hold('get');
    const reading = cache.get(KEY);
    await cache.put(KEY, 'new', 'application/json');
    release();
    expect(text(await reading)).toBe('old');
    expect(text(await cache.get(KEY))).toBe('new');
  });

  it('GIVEN a read that starts while a write is under way THEN whatever it answers is not kept', async () => {
    const { inner, cache } = setUp();
    await inner.put(KEY, 'old');
    const release = inner.hold('put');
    const writing = cache.put(KEY, 'new', 'application/json');
    expect(text(await cache.get(KEY))).toBe('old');
    release();
    await writing;
    expect(text(await cache.get(KEY))).toBe('new');
  });

  it('GIVEN a read made while a write was under way and the write then fails THEN the next read asks the store', async () => {
    const { inner, cache } = setUp();
    await inner.put(KEY, 'old');
    const release = inner.hold('put');
    const writing = cache.put(KEY, 'fail', 'application/json');
    expect(text(await cache.get(KEY))).toBe('old');
    release();
    await expect(writing).rejects.toThrow('store down');
    inner.calls.length = 0;
    expect(text(await cache.get(KEY))).toBe('old');
    expect(inner.calls).toEqual([`get ${KEY}`]);
  });

  it('GIVEN two overlapping writes that land in the other order THEN the next read asks the store, which has the later-landing one', async () => {
    const { inner, cache } = setUp();
    const releaseFirst = inner.hold('put');
    const first = cache.put(KEY, 'first', 'application/json');
    const second = cache.put(KEY, 'second', 'application/json');
    await second;
    releaseFirst();
    await first;
    inner.calls.length = 0;
    expect(text(await cache.get(KEY))).toBe('first');
    expect(inner.calls).toEqual([`get ${KEY}`]);
  });

  it('GIVEN a write that fails THEN the error reaches the caller and the next read asks the store', async () => {
    const { inner, cache } = setUp();
    await cache.put(KEY, 'v1', 'application/json');
    await expect(cache.put(KEY, 'fail', 'application/json')).rejects.toThrow('store down');
    inner.calls.length = 0;
    expect(text(await cache.get(KEY))).toBe('v1');
    expect(inner.calls).toEqual([`get ${KEY}`]);
  });

  it('GIVEN more keys than it may remember THEN the least recently used one is read from the store again', async () => {
    const inner = new CountingStore();
    const cache = new SingleWriterCache(inner, (key) => key.startsWith('settings/'), 2);
    await cache.get('settings/a');
    await cache.get('settings/b');
    await cache.get('settings/a'); // a is now the most recently used
    await cache.get('settings/c'); // b goes
    inner.calls.length = 0;
    await cache.get('settings/a');
    await cache.get('settings/c');
    await cache.get('settings/b');
    expect(inner.calls).toEqual(['get settings/b']);
  });

  it('GIVEN existence checks THEN an absent key is remembered as absent, a present one is read on its first get', async () => {
    const { inner, cache } = setUp();
    await inner.put(KEY, 'v1');
    inner.calls.length = 0;
    expect(await cache.exists('settings/channels/web/none.json')).toBe(false);
    expect(await cache.exists('settings/channels/web/none.json')).toBe(false);
    expect(await cache.get('settings/channels/web/none.json')).toBeNull();
    expect(await cache.exists(KEY)).toBe(true);
    expect(text(await cache.get(KEY))).toBe('v1');
    expect(await cache.exists(KEY)).toBe(true);
    expect(inner.calls).toEqual(['exists settings/channels/web/none.json', `exists ${KEY}`, `get ${KEY}`]);
  });
});
