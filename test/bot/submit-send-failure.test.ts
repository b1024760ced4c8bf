/**
 * A job whose queue send fails must not keep the user's cap slot: submitJob writes job.json and the
 * pending marker before the send, so it has to take them back. Real S3 (emulator) with an SQS endpoint
 * on a closed loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsPorts } from '../../core/aws/index.ts';
import { loadConfig } from '../../core/config.ts';
import { ServiceUnavailableError } from '../../core/errors.ts';
import { jobIdFrom } from '../../core/ids.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { createLogger, type LogFields } from '../../core/log.ts';
import { listPending } from '../../core/pending.ts';
import type { BlobStore } from '../../core/ports.ts';
import { submitJob } from '../../bot/submit.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { closedPort } from '../support/closed-port.ts';
import { alice, makeJob } from './support/fixtures.ts';

describe('GIVEN a user with a cap of 1 and a queue that cannot be reached (or a store that refuses a write)', () => {
  let emulator: TestEmulator;
  let deadQueue: ReturnType<typeof createAwsPorts>;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    const port = await closedPort();
    deadQueue = createAwsPorts(loadConfig({ ...emulator.env(), AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${port}` }), { maxAttempts: 1 });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN the send fails THEN it throws, job.json and the marker are gone (logged), and the slot is free for the next job', async () => {
    const requester = { ...alice, userId: `send-fails-${Date.now()}` };
    const job = makeJob({ id: jobIdFrom(), requester, createdAt: new Date().toISOString() });
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line) });
    const unreachable = { ...emulator.ports, queue: deadQueue.queue, maxPendingPerUser: 1, log };

    await expect(submitJob(unreachable, job)).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(await emulator.ports.blobs.exists(jobKeys.job(job.id))).toBe(false);
    expect(await listPending(emulator.ports.blobs, requester, Date.now())).toEqual([]);
    const logged: LogFields[] = lines.map((line) => JSON.parse(line.slice(line.indexOf('{'))) as LogFields);
    expect(logged).toEqual([expect.objectContaining({ jobId: job.id, released: true })]);
    expect(lines[0]).toContain('job_not_enqueued');

    const live = { ...emulator.ports, maxPendingPerUser: 1 };
    // The same request again is a fresh submission (not a "duplicate" of a job that never left)…
    expect(await submitJob(live, job)).toMatchObject({ accepted: true, duplicate: false });
    // …and with the slot now taken by it, a second job is refused: the cap itself still holds.
    const another = makeJob({ id: jobIdFrom(), requester, createdAt: new Date().toISOString() });
    expect(await submitJob(live, another)).toMatchObject({ accepted: false, code: 'too_many_pending', pending: 1, limit: 1 });
  });

  it('WHEN job.json cannot be written THEN it throws that error and the pending marker written before it is removed again (logged)', async () => {
    const requester = { ...alice, userId: `record-fails-${Date.now()}` };
    const job = makeJob({ id: jobIdFrom(), requester, createdAt: new Date().toISOString() });
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line) });
    const real = emulator.ports.blobs;
    const recordFails = storeWith(real, {
      put: (key, body, contentType) => (key === jobKeys.job(job.id) ? Promise.reject(new Error('record write refused')) : real.put(key, body, contentType)),
    });

    await expect(submitJob({ ...emulator.ports, blobs: recordFails, log }, job)).rejects.toThrow('record write refused');
    expect(await real.exists(jobKeys.job(job.id))).toBe(false);
    expect(await listPending(real, requester, Date.now())).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('job_not_enqueued');
    expect(lines[0]).toContain('"released":true');
    // Nothing reached the queue: the same request is a fresh submission, not a duplicate.
    expect(await submitJob(emulator.ports, job)).toMatchObject({ accepted: true, duplicate: false });
  });

  it('WHEN the clean-up fails as well THEN the send error is what the caller sees and the failed clean-up is logged as an error', async () => {
    const requester = { ...alice, userId: `cleanup-fails-${Date.now()}` };
    const job = makeJob({ id: jobIdFrom(), requester, createdAt: new Date().toISOString() });
    const lines: string[] = [];
    const log = createLogger({ write: (line) => lines.push(line) });
    const real = emulator.ports.blobs;
    const deleteFails = storeWith(real, { delete: () => Promise.reject(new Error('store down')) });
    const deps = { ...emulator.ports, blobs: deleteFails, queue: deadQueue.queue, log };

    await expect(submitJob(deps, job)).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ERROR\s+job_not_enqueued/);
    expect(lines[0]).toContain('"released":false');
    expect(lines[0]).toContain('store down');
  });
});

/** The real store with some of its operations replaced (a class instance: its methods do not spread). */
function storeWith(real: BlobStore, overrides: Partial<BlobStore>): BlobStore {
  return {
    put: (key, body, contentType) => real.put(key, body, contentType),
    putIfAbsent: (key, body, contentType) => real.putIfAbsent(key, body, contentType),
    get: (key) => real.get(key),
    exists: (key) => real.exists(key),
    list: (prefix) => real.list(prefix),
    delete: (keys) => real.delete(keys),
    presignedUrl: (key, seconds) => real.presignedUrl(key, seconds),
    ...overrides,
  };
}
