/**
 * The channel in pages (issue #18, item 9): GET /api/messages returns the newest page and a cursor for
 * older ones, and after the first request a page reads only the records of the jobs it returns, however
 * many jobs the store holds. Over HTTP against the emulator; the store is wrapped to count reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { WebPoster } from '../../bot/web/poster.ts';
import { startWebPlayground, type WebPlayground } from '../../bot/web/server.ts';
import { Sessions } from '../../bot/web/sessions.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { BlobStore } from '../../core/ports.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { makeJob, makeResult } from '../bot/support/fixtures.ts';

const JOBS = 150;
let emulator: TestEmulator;
let web: WebPlayground;
let poster: WebPoster;
const reads: string[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator();
  const store = emulator.ports.blobs;
  const counting: BlobStore = {
    put: (key, body, type) => store.put(key, body, type),
    putIfAbsent: (key, body, type) => store.putIfAbsent(key, body, type),
    get: (key) => (reads.push(key), store.get(key)),
    exists: (key) => (reads.push(key), store.exists(key)),
    list: (prefix) => store.list(prefix),
    delete: (keys) => store.delete(keys),
    presignedUrl: (key, seconds) => store.presignedUrl(key, seconds),
  };
  const base = Date.parse('2026-12-01T00:00:00.000Z');
  for (let i = 0; i < JOBS; i++) {
    const job = makeJob({ id: `jpage${String(i).padStart(3, '0')}`, createdAt: new Date(base + i * 1000).toISOString(), requester: { platform: 'web', userId: 'wowner', channelId: 'playground' } });
    await store.put(jobKeys.job(job.id), JSON.stringify(job), 'application/json');
  }
  await store.put(jobKeys.job('jdiscord'), JSON.stringify(makeJob({ id: 'jdiscord', createdAt: new Date(base + 500_000).toISOString() })), 'application/json');
  poster = new WebPoster(counting);
  web = await startWebPlayground({ bot: { ...emulator.ports, blobs: counting, moderation: createModerationPolicy({ blocklist: [] }) }, poster, port: 0, sessions: new Sessions(new Uint8Array(32)) });
});

afterAll(async () => {
  await web?.stop();
  await emulator?.stop();
});

interface Page {
  messages: Array<{ jobId: string }>;
  older?: string;
}

const fetchPage = async (query = '') => (await (await fetch(new URL(`/api/messages${query}`, web.url))).json()) as Page;

describe(`GIVEN ${JOBS} web jobs and one Discord job in the store`, () => {
  it('WHEN the channel is read THEN the newest 30 come first, oldest first, and the cursors walk back through all web jobs exactly once', async () => {
    const first = await fetchPage();
    expect(first.messages.map((message) => message.jobId)).toEqual(Array.from({ length: 30 }, (_, i) => `jpage${String(JOBS - 30 + i).padStart(3, '0')}`));
    const seen = first.messages.map((message) => message.jobId);
    let cursor = first.older;
    while (cursor) {
      const page = await fetchPage(`?before=${encodeURIComponent(cursor)}&limit=40`);
      seen.unshift(...page.messages.map((message) => message.jobId));
      cursor = page.older;
    }
    expect(seen).toEqual(Array.from({ length: JOBS }, (_, i) => `jpage${String(i).padStart(3, '0')}`));
  });

  it('WHEN a page is read again THEN only the records of its own jobs are read, not every job in the store', async () => {
    reads.length = 0;
    const page = await fetchPage('?limit=10');
    expect(page.messages).toHaveLength(10);
    const jobsRead = new Set(reads.map((key) => key.split('/')[1]));
    expect(jobsRead.size).toBe(10);
    expect([...jobsRead].every((id) => page.messages.some((message) => message.jobId === id))).toBe(true);
  });

  it('WHEN a job is deleted THEN the pages no longer list it', async () => {
    poster.publish({ type: 'removed', jobId: `jpage${JOBS - 1}` });
    const page = await fetchPage('?limit=5');
    expect(page.messages.map((message) => message.jobId)).not.toContain(`jpage${JOBS - 1}`);
    expect(page.messages).toHaveLength(5);
  });

  it('WHEN a finished job is on the page THEN its records are read once, and a removal still takes it off', async () => {
    const id = `jpage${JOBS - 2}`;
    await emulator.ports.blobs.put(jobKeys.result(id), JSON.stringify(makeResult(makeJob({ id }))), 'application/json');
    expect((await fetchPage('?limit=3')).messages.map((message) => message.jobId)).toContain(id);
    reads.length = 0;
    expect((await fetchPage('?limit=3')).messages.map((message) => message.jobId)).toContain(id);
    expect(reads.filter((key) => key.includes(`/${id}/`))).toEqual([]);
    poster.publish({ type: 'removed', jobId: id });
    expect((await fetchPage('?limit=3')).messages.map((message) => message.jobId)).not.toContain(id);
  });
});
