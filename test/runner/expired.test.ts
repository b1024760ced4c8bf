/**
 * A job older than JOB_MAX_AGE_SECONDS when the runner receives it (the queue keeps jobs 4 days) is refused:
 * the user gets a `failed` event saying how long it waited, the message and the pending marker go, nothing is
 * generated. A fresh job right behind it runs as usual. Real runner, emulator over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobSchema, type JobEvent } from '../../core/job.ts';
import { submitJob } from '../../bot/submit.ts';
import { pendingKeys } from '../../core/storage-layout.ts';
import { DEFAULT_PENDING_STALE_MS } from '../../core/pending.ts';
import { loadConfig } from '../../core/config.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { formatWait } from '../../gpu-runner/worker.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { imagineJob } from './fixtures.ts';
import { startTestRunner } from './harness.ts';

const finalOf = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

describe('GIVEN a runner that refuses jobs older than 1 hour', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  const generator = new TestGenerator();
  const events: JobEvent[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    runner = await startTestRunner({ ...emulator.env(), JOB_MAX_AGE_SECONDS: '3600' }, generator);
  });
  afterAll(async () => {
    await runner?.stop('test over');
    await emulator?.stop();
  });

  it('WHEN a job queued 2 h 5 min ago arrives THEN the user is told it expired after that wait, and nothing is made or left behind', async () => {
    const old = JobSchema.parse({ ...imagineJob({ prompt: 'a stale request', userId: 'user-old' }), createdAt: new Date(Date.now() - (2 * 60 + 5) * 60_000).toISOString() });
    await submitJob(emulator.ports, old);
    const fresh = imagineJob({ prompt: 'a fresh request', userId: 'user-new' });
    await submitJob(emulator.ports, fresh);
    await collectEvents(emulator.ports, (all) => finalOf(all, old.id).length > 0 && finalOf(all, fresh.id).length > 0, 20_000, events);

    expect(finalOf(events, old.id)).toEqual([
      expect.objectContaining({ type: 'failed', code: 'expired', willRetry: false, reason: 'This request expired after 2 h 5 min in the queue without a free GPU, so no image was made. Please try again.' }),
    ]);
    expect(events.some((e) => e.jobId === old.id && e.type === 'started')).toBe(false);
    expect(generator.requests.map((r) => r.prompt)).toEqual(['a fresh request']);
    expect(await emulator.ports.blobs.exists(pendingKeys.marker(old))).toBe(false);
    expect(finalOf(events, fresh.id)[0]?.type).toBe('completed');
    expect(runner.worker.counters).toMatchObject({ expired: 1, completed: 1 });
    // Deleted, not released: it is neither back on the queue nor in the DLQ.
    expect(await emulator.ports.queue.depth()).toMatchObject({ visible: 0, inFlight: 0 });
    expect(await emulator.inspectDlqCount()).toBe(0);
  });
});

describe('job age and pending markers', () => {
  it('GIVEN the defaults THEN a pending marker counts exactly as long as the runner would still run its job', () => {
    expect(loadConfig({}).runner.maxJobAgeSeconds * 1000).toBe(DEFAULT_PENDING_STALE_MS);
  });
});

describe('formatWait', () => {
  it('GIVEN waits from seconds to days THEN each reads as a person would say it', () => {
    expect(formatWait(10_000)).toBe('1 min');
    expect(formatWait(45 * 60_000)).toBe('45 min');
    expect(formatWait(60 * 60_000)).toBe('1 h');
    expect(formatWait(125 * 60_000)).toBe('2 h 5 min');
    expect(formatWait(27 * 3600_000)).toBe('1 day 3 h');
    expect(formatWait(4 * 86_400_000)).toBe('4 days');
  });
});
