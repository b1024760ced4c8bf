/**
 * GET /api/messages with a long channel (issue #18, item 9): N finished web jobs in the emulator's store, then the page's first read
 * (which builds the job index once), later reads of the newest page, and older pages through the cursor — latency and bytes each.
 * For comparison, the work the channel read did before paging (every job record read, the newest 100 rebuilt, on every request).
 *
 *   npm run bench -- playground-messages [--jobs 500] [--reads 30]
 */
import { createAwsPorts } from '../core/aws/index.ts';
import { loadConfig } from '../core/config.ts';
import { jobKeys } from '../core/storage-layout.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import { listJobs, loadJobSnapshot } from '../bot/job-history.ts';
import { buildJobMessage } from '../bot/message-model.ts';
import { WebPoster } from '../bot/web/poster.ts';
import { startWebPlayground } from '../bot/web/server.ts';
import { webMessageOf } from '../bot/web/web-message.ts';
import { startLocalEmulator } from '../local/emulator.ts';
import { makeJob, makeResult } from '../test/bot/support/fixtures.ts';
import { latencySummary } from './percentiles.ts';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const JOBS = arg('jobs', 500);
const READS = arg('reads', 30);

const emulator = await startLocalEmulator({ port: 0 });
const ports = createAwsPorts(loadConfig(emulator.env()), { maxAttempts: 1 });
const base = Date.parse('2026-12-01T00:00:00.000Z');
for (let i = 0; i < JOBS; i += 25) {
  await Promise.all(Array.from({ length: Math.min(25, JOBS - i) }, async (_, offset) => {
    const n = i + offset;
    const job = makeJob({ id: `jbench${String(n).padStart(5, '0')}`, createdAt: new Date(base + n * 1000).toISOString(), request: { ...makeJob().request, prompt: `a lighthouse in a storm, number ${n}` }, requester: { platform: 'web', userId: 'wbench', channelId: 'playground' } });
    await ports.blobs.put(jobKeys.job(job.id), JSON.stringify(job), 'application/json');
    await ports.blobs.put(jobKeys.result(job.id), JSON.stringify(makeResult(job)), 'application/json');
  }));
}
const web = await startWebPlayground({ bot: { ...ports, moderation: createModerationPolicy({ blocklist: [] }) }, poster: new WebPoster(ports.blobs), port: 0 });

async function read(query = ''): Promise<{ ms: number; bytes: number; older?: string }> {
  const started = performance.now();
  const response = await fetch(new URL(`/api/messages${query}`, web.url));
  const text = await response.text();
  return { ms: performance.now() - started, bytes: Buffer.byteLength(text), ...((JSON.parse(text) as { older?: string }).older ? { older: (JSON.parse(text) as { older: string }).older } : {}) };
}

const first = await read();
const newest: number[] = [];
let bytes = 0;
for (let i = 0; i < READS; i++) {
  const page = await read();
  newest.push(page.ms);
  bytes = page.bytes;
}
const older: number[] = [];
let cursor = first.older;
let pages = 1;
while (cursor) {
  const page = await read(`?before=${encodeURIComponent(cursor)}`);
  older.push(page.ms);
  cursor = page.older;
  pages += 1;
}

// What every channel read cost before paging: all job records read, the newest 100 rebuilt and sent.
const before: number[] = [];
let beforeBytes = 0;
for (let i = 0; i < Math.min(READS, 5); i++) {
  const started = performance.now();
  const jobs = await listJobs(ports.blobs, { filter: (job) => job.requester.platform === 'web', limit: 100 });
  const snapshots = await Promise.all(jobs.map((job) => loadJobSnapshot(ports.blobs, job.id)));
  const body = JSON.stringify({ messages: snapshots.flatMap((s) => (s ? [webMessageOf(s.job, buildJobMessage(s.job, s.state), 0, s.state.result)] : [])) });
  before.push(performance.now() - started);
  beforeBytes = Buffer.byteLength(body);
}

console.log(`playground-messages: ${JOBS} finished web jobs in the store\n`);
console.log(`first read (builds the index)                 ${first.ms.toFixed(1)} ms, ${(first.bytes / 1024).toFixed(1)} KiB`);
console.log(`${latencySummary('newest page (30), later reads', newest, 1)}, ${(bytes / 1024).toFixed(1)} KiB each`);
console.log(`${latencySummary(`older pages (${pages} pages in all)`, older, 1)}`);
console.log(`${latencySummary('before paging: full scan + newest 100', before, 1)}, ${(beforeBytes / 1024).toFixed(1)} KiB each`);

await web.stop();
await emulator.stop();
