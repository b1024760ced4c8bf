import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import sharp from 'sharp';
import { type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import type { ReceivedEvent } from '../../core/ports.ts';
import { Dispatcher, type DispatcherOptions } from '../../bot/dispatcher.ts';
import { DeliveryError } from '../../bot/poster.ts';
import { MemoryBlobStore, MemoryEventBus } from './support/memory-ports.ts';
import { makeJob, makeResult, storeJob } from './support/fixtures.ts';
import { RecordingPoster } from './support/recording-poster.ts';
import { recordingLogger } from '../support/recording-logger.ts';

const job = makeJob();
let receipt = 0;
function received(event: Omit<JobEvent, 'v' | 'jobId' | 'at'> & Partial<JobEvent>): ReceivedEvent {
  receipt++;
  return { receiptHandle: `r${receipt}`, event: { v: 1, jobId: job.id, at: Date.now(), ...event } as JobEvent };
}
const queued = (position: number) => received({ type: 'queued', position });
const started = () => received({ type: 'started', runnerId: 'r1', attempt: 1 });
const progress = (fraction: number) => received({ type: 'progress', stage: 'prior', step: 1, steps: 10, fraction });
const completed = () => received({ type: 'completed', resultKey: jobKeys.result(job.id) });

describe('dispatcher (fake timers, in-memory ports)', () => {
  let blobs: MemoryBlobStore;
  let events: MemoryEventBus;
  let poster: RecordingPoster;

  function dispatcher(options: Partial<DispatcherOptions> = {}): Dispatcher {
    return new Dispatcher({ events, blobs, posters: { web: poster }, retry: { baseMs: 1000, maxMs: 8000, maxAttempts: 4 }, ...options });
  }

  beforeEach(async () => {
    vi.useFakeTimers({ now: new Date('2026-11-26T10:00:00Z') });
    blobs = new MemoryBlobStore();
    events = new MemoryEventBus();
    poster = new RecordingPoster();
    storeJob(blobs, job);
    await blobs.put(jobKeys.grid(job.id), new Uint8Array([1, 2, 3]), 'image/png');
  });
  afterEach(() => vi.useRealTimers());

  it('GIVEN a burst of progress inside 2 s THEN one edit shows the queue, one coalesced edit shows the latest progress', async () => {
    const d = dispatcher();
    await d.handleBatch([queued(3)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.statuses()).toEqual(['Queued · position 3']);
    await d.handleBatch([started(), progress(0.1), progress(0.2), progress(0.3)]);
    await vi.advanceTimersByTimeAsync(1999);
    expect(poster.deliveries).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(poster.statuses()).toEqual(['Queued · position 3', 'Stage C · ▰▰▰▱▱▱▱▱▱▱ 30 %']);
    expect(poster.deliveries[1]!.at - poster.deliveries[0]!.at).toBeGreaterThanOrEqual(2000);
  });

  it('GIVEN completed arrives inside the throttle window THEN it is delivered at once with the grid, marked, and its event acked only after', async () => {
    const d = dispatcher();
    blobs.putJson(jobKeys.result(job.id), makeResult(job));
    await d.handleBatch([started(), progress(0.5)]);
    await vi.advanceTimersByTimeAsync(0);
    const done = completed();
    await d.handleBatch([progress(0.7), done]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries.at(-1)!.message.status).toBe('completed');
    expect(poster.deliveries.at(-1)!.attachment).toMatchObject({ contentType: 'image/png', fileName: `grid-${job.id}.png` });
    expect(blobs.json(jobKeys.delivered(job.id))).toMatchObject({ phase: 'completed' });
    expect(events.acked).toContain(done.receiptHandle);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(poster.deliveries.filter((d) => d.message.status !== 'completed').length).toBe(1);
    expect(poster.deliveries.filter((d) => d.message.status === 'completed').length).toBe(1);
  });

  it('GIVEN completed carries its result THEN the grid is delivered without reading result.json', async () => {
    const d = dispatcher();
    const done = received({ type: 'completed', resultKey: jobKeys.result(job.id), result: makeResult(job) });
    await d.handleBatch([done]);
    await vi.advanceTimersByTimeAsync(0);
    expect(await blobs.exists(jobKeys.result(job.id))).toBe(false);
    expect(poster.deliveries.at(-1)!.message.status).toBe('completed');
    expect(poster.deliveries.at(-1)!.attachment).toMatchObject({ fileName: `grid-${job.id}.png` });
    expect(events.acked).toContain(done.receiptHandle);
  });

  it('GIVEN completed carries the result of another job THEN it is not shown; without result.json the event stays for redelivery', async () => {
    const d = dispatcher();
    const other = makeJob({ id: 'jother' });
    const done = received({ type: 'completed', resultKey: jobKeys.result(job.id), result: makeResult(other) });
    await d.handleBatch([done]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries.filter((x) => x.message.status === 'completed')).toHaveLength(0);
    expect(events.acked).not.toContain(done.receiptHandle);
  });

  it('GIVEN a duplicate completed (even in a fresh dispatcher after a restart) THEN nothing is delivered twice and the copy is acked', async () => {
    blobs.putJson(jobKeys.result(job.id), makeResult(job));
    await dispatcher().handleBatch([completed()]);
    await vi.advanceTimersByTimeAsync(0);
    const again = completed();
    const late = progress(0.4);
    const restarted = dispatcher();
    await restarted.handleBatch([again, late]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(poster.deliveries).toHaveLength(1);
    expect(events.acked).toEqual(expect.arrayContaining([again.receiptHandle, late.receiptHandle]));
  });

  it('GIVEN a retryable delivery failure of the final result THEN it retries with back-off and acks only after success', async () => {
    blobs.putJson(jobKeys.result(job.id), makeResult(job));
    poster.failures.push(new Error('socket hang up'), new DeliveryError('rate limited', true, 5000));
    const d = dispatcher();
    const done = completed();
    await d.handleBatch([done]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.attempts).toBe(1);
    expect(events.acked).not.toContain(done.receiptHandle);
    await vi.advanceTimersByTimeAsync(1000);
    expect(poster.attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(4999);
    expect(poster.attempts).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(poster.attempts).toBe(3);
    expect(poster.deliveries).toHaveLength(1);
    expect(events.acked).toContain(done.receiptHandle);
  });

  it('GIVEN a final result that keeps failing THEN it is left unacked for the queue to redeliver (never dropped)', async () => {
    blobs.putJson(jobKeys.result(job.id), makeResult(job));
    for (let i = 0; i < 4; i++) poster.failures.push(new Error('down'));
    const log = recordingLogger();
    const d = dispatcher({ log });
    const done = completed();
    await d.handleBatch([done]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(poster.attempts).toBe(4);
    expect(events.acked).not.toContain(done.receiptHandle);
    expect(blobs.objects.has(jobKeys.delivered(job.id))).toBe(false);
    expect(log.lines).toContainEqual({ level: 'warn', event: 'final_delivery_deferred_to_queue', fields: expect.objectContaining({ jobId: job.id }) });
    await d.handleBatch([done]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries).toHaveLength(1);
  });

  it('GIVEN a permanent delivery failure THEN the event is acked and the job abandoned with a log line', async () => {
    poster.failures.push(new DeliveryError('message was deleted', false));
    const log = recordingLogger();
    const d = dispatcher({ log });
    const event = received({ type: 'failed', code: 'model_error', reason: 'boom', willRetry: false });
    await d.handleBatch([event]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(poster.attempts).toBe(1);
    expect(events.acked).toContain(event.receiptHandle);
    expect(log.lines).toContainEqual({ level: 'error', event: 'delivery_abandoned', fields: expect.objectContaining({ jobId: job.id }) });
  });

  it('GIVEN no GPU runner is up THEN the queued message says the GPU is waking up', async () => {
    const d = dispatcher({ fleet: { isWarm: async () => false } });
    await d.handleBatch([queued(1)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries[0]!.message.status).toBe('waking');
  });

  it('GIVEN no GPU can start (quota) THEN the queued message says so at once instead of "GPU waking up"', async () => {
    const reason = 'No GPU can start: the account\'s GPU quota is used up. Your job stays queued; the operator has been alerted.';
    const d = dispatcher({ fleet: { isWarm: async () => false, startProblem: async () => reason } });
    await d.handleBatch([queued(1)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries[0]!.message.status).toBe('waking');
    expect(poster.deliveries[0]!.message.statusLine).toBe(`Queued · position 1 · ${reason}`);
  });

  it('GIVEN events for an unknown job, a deleted job and an unreadable body THEN they are acked and nothing is delivered', async () => {
    const d = dispatcher();
    await blobs.put(jobKeys.deleted('jgone'), '{}', 'application/json');
    const unknown = { receiptHandle: 'ru', event: { v: 1 as const, jobId: 'jnever', at: 1, type: 'queued' as const } };
    const gone = { receiptHandle: 'rg', event: { v: 1 as const, jobId: 'jgone', at: 1, type: 'queued' as const } };
    await d.handleBatch([unknown, gone, { receiptHandle: 'rbad', parseError: 'not json' }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(poster.deliveries).toHaveLength(0);
    expect(events.acked.sort()).toEqual(['rbad', 'rg', 'ru']);
  });

  it('GIVEN the same progress event twice THEN the unchanged message is not sent again', async () => {
    const d = dispatcher();
    await d.handleBatch([started(), progress(0.5)]);
    await vi.advanceTimersByTimeAsync(5000);
    const before = poster.deliveries.length;
    expect(poster.statuses().at(-1)).toMatch(/50 %/);
    await d.handleBatch([progress(0.5), progress(0.4)]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(poster.deliveries).toHaveLength(before);
  });

  it('GIVEN completed without a stored result THEN the event is left for redelivery', async () => {
    const log = recordingLogger();
    const d = dispatcher({ log });
    const done = completed();
    await d.handleBatch([done]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(poster.deliveries).toHaveLength(0);
    expect(events.acked).not.toContain(done.receiptHandle);
    expect(log.lines).toContainEqual({ level: 'warn', event: 'event_failed', fields: expect.objectContaining({ error: expect.stringContaining('result.json is missing') }) });
  });

  it('GIVEN a job with no poster for its platform THEN nothing is posted and the final event is acked with a log line', async () => {
    const log = recordingLogger();
    const d = new Dispatcher({ events, blobs, posters: {}, log });
    const event = received({ type: 'failed', code: 'model_error', reason: 'boom', willRetry: false });
    await d.handleBatch([event]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.acked).toContain(event.receiptHandle);
    expect(log.lines).toContainEqual({ level: 'error', event: 'delivery_abandoned', fields: expect.objectContaining({ error: expect.stringContaining('no poster configured for web') }) });
  });
});

describe('dispatcher attachments (real timers, sharp)', () => {
  it('GIVEN a grid PNG over the platform limit THEN a smaller JPEG or WebP under the limit is attached', async () => {
    const blobs = new MemoryBlobStore();
    const events = new MemoryEventBus();
    storeJob(blobs, job, makeResult(job));
    const noise = new Uint8Array(256 * 256 * 3).map(() => Math.floor(Math.random() * 256));
    const png = await sharp(noise, { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer();
    await blobs.put(jobKeys.grid(job.id), new Uint8Array(png), 'image/png');
    const limit = Math.floor(png.byteLength / 2);
    const poster = new RecordingPoster('web', limit);
    const d = new Dispatcher({ events, blobs, posters: { web: poster } });
    await d.handleBatch([{ receiptHandle: 'r', event: { v: 1, jobId: job.id, at: 1, type: 'completed', resultKey: jobKeys.result(job.id) } }]);
    await d.idle();
    const attachment = poster.deliveries[0]!.attachment!;
    expect(['image/jpeg', 'image/webp']).toContain(attachment.contentType);
    expect(attachment.bytes.byteLength).toBeLessThanOrEqual(limit);
    const meta = await sharp(attachment.bytes).metadata();
    expect(meta.format === 'jpeg' || meta.format === 'webp').toBe(true);
    expect(attachment.fileName).toMatch(/^grid-jparent\.(jpg|webp)$/);
  });
});

describe('dispatcher and deleted jobs', () => {
  it('GIVEN the owner deletes a running job THEN later events edit nothing and the final event is acked', async () => {
    const blobs = new MemoryBlobStore();
    const events = new MemoryEventBus();
    const poster = new RecordingPoster();
    storeJob(blobs, job);
    const d = new Dispatcher({ events, blobs, posters: { web: poster }, minEditIntervalMs: 0 });
    await d.handleBatch([{ receiptHandle: 'a', event: { v: 1, jobId: job.id, at: 1, type: 'started', runnerId: 'r', attempt: 1 } }]);
    await d.idle();
    expect(poster.deliveries).toHaveLength(1);
    await blobs.put(jobKeys.deleted(job.id), '{}', 'application/json');
    await d.handleBatch([
      { receiptHandle: 'b', event: { v: 1, jobId: job.id, at: 2, type: 'progress', stage: 'prior', step: 1, steps: 2, fraction: 0.5 } },
      { receiptHandle: 'c', event: { v: 1, jobId: job.id, at: 3, type: 'failed', code: 'cancelled', reason: 'Cancelled.', willRetry: false } },
    ]);
    await d.idle();
    expect(poster.deliveries).toHaveLength(1);
    expect(events.acked).toEqual(['a', 'b', 'c']);
  });
});

describe('dispatcher channel budget', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-11-26T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('GIVEN two jobs in one channel progressing together THEN their progress edits are spaced by the channel interval, finals are not', async () => {
    const blobs = new MemoryBlobStore();
    const events = new MemoryEventBus();
    const poster = new RecordingPoster();
    const second = makeJob({ id: 'jsecond' });
    storeJob(blobs, job);
    storeJob(blobs, second, makeResult(second));
    await blobs.put(jobKeys.grid(second.id), new Uint8Array([1]), 'image/png');
    const d = new Dispatcher({ events, blobs, posters: { web: poster }, minEditIntervalMs: 2000, minChannelEditIntervalMs: 1000 });
    const at = Date.now();
    const start = (jobId: string, r: string): ReceivedEvent => ({ receiptHandle: r, event: { v: 1, jobId, at, type: 'started', runnerId: 'r', attempt: 1 } });
    await d.handleBatch([start(job.id, 'a'), start(second.id, 'b')]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries.map((x) => x.jobId)).toEqual([job.id]);
    await vi.advanceTimersByTimeAsync(999);
    expect(poster.deliveries).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(poster.deliveries.map((x) => x.jobId)).toEqual([job.id, second.id]);
    await d.handleBatch([{ receiptHandle: 'c', event: { v: 1, jobId: second.id, at, type: 'completed', resultKey: jobKeys.result(second.id) } }]);
    await vi.advanceTimersByTimeAsync(0);
    expect(poster.deliveries.at(-1)).toMatchObject({ jobId: second.id, message: { status: 'completed' } });
    expect(poster.deliveries.at(-1)!.at - poster.deliveries.at(-2)!.at).toBe(0);
  });
});

describe('dispatcher live queue positions', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-11-26T10:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('GIVEN a job finishes THEN the waiting jobs created after it move up by one, earlier ones do not', async () => {
    const blobs = new MemoryBlobStore();
    const events = new MemoryEventBus();
    const poster = new RecordingPoster();
    const first = makeJob({ id: 'jfirst', createdAt: '2026-11-26T09:59:00.000Z' });
    const earlier = makeJob({ id: 'jearlier', createdAt: '2026-11-26T09:58:00.000Z', requester: { ...first.requester, channelId: 'c-other' } });
    const later = makeJob({ id: 'jlater', createdAt: '2026-11-26T09:59:30.000Z', requester: { ...first.requester, channelId: 'c-third' } });
    storeJob(blobs, first);
    storeJob(blobs, earlier);
    storeJob(blobs, later);
    const d = new Dispatcher({ events, blobs, posters: { web: poster } });
    const ev = (jobId: string, r: string, body: Record<string, unknown>): ReceivedEvent => ({ receiptHandle: r, event: { v: 1, jobId, at: Date.now(), ...body } as JobEvent });
    await d.handleBatch([ev('jfirst', 'a', { type: 'started', runnerId: 'r', attempt: 1 }), ev('jearlier', 'b', { type: 'queued', position: 2 }), ev('jlater', 'c', { type: 'queued', position: 3 })]);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(5000);
    await d.handleBatch([ev('jfirst', 'd', { type: 'failed', code: 'model_error', reason: 'boom', willRetry: false })]);
    await vi.advanceTimersByTimeAsync(5000);
    const last = (jobId: string) => poster.deliveries.filter((x) => x.jobId === jobId).at(-1)!.message.statusLine;
    expect(last('jlater')).toBe('Queued · position 2');
    expect(last('jearlier')).toBe('Queued · position 2');
  });
});
