import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { DEFAULT_PENDING_STALE_MS } from '../../core/pending.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { imagineJob } from './fixtures.ts';

describe('GIVEN submitJob over the emulator (no runner)', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN a user submits a 4th job while 3 are pending THEN it is refused with a clear message and nothing is written', async () => {
    const jobs = [1, 2, 3, 4].map(() => imagineJob({ userId: 'capped' }));
    for (const job of jobs.slice(0, 3)) expect(await submitJob(emulator.ports, job)).toMatchObject({ accepted: true });
    const refused = await submitJob(emulator.ports, jobs[3]!);
    expect(refused).toEqual({
      accepted: false,
      code: 'too_many_pending',
      pending: 3,
      limit: 3,
      message: 'You already have 3 images in progress (the limit is 3). Wait for one to finish, then try again.',
    });
    expect(await emulator.ports.blobs.exists(jobKeys.job(jobs[3]!.id))).toBe(false);
    expect(await emulator.ports.queue.depth()).toMatchObject({ visible: 3 });

    const other = await submitJob(emulator.ports, imagineJob({ userId: 'someone-else' }));
    expect(other).toMatchObject({ accepted: true, duplicate: false });
  });

  it('WHEN the cap is configured to 1 THEN the second job is refused', async () => {
    const deps = { ...emulator.ports, maxPendingPerUser: 1 };
    expect(await submitJob(deps, imagineJob({ userId: 'solo' }))).toMatchObject({ accepted: true });
    expect(await submitJob(deps, imagineJob({ userId: 'solo' }))).toMatchObject({ accepted: false, pending: 1, limit: 1 });
  });

  it('WHEN pending markers are older than the runner\'s maximum job age THEN they no longer count', async () => {
    const later = Date.now() + DEFAULT_PENDING_STALE_MS + 60 * 1000;
    const deps = { ...emulator.ports, maxPendingPerUser: 1, now: () => later };
    expect(await submitJob(deps, imagineJob({ userId: 'solo' }))).toMatchObject({ accepted: true });
  });

  it('WHEN the same job id is submitted twice (a platform retry) THEN it is queued once and answered as a duplicate', async () => {
    const job = imagineJob({ userId: 'retrying' });
    const before = await emulator.ports.queue.depth();
    expect(await submitJob(emulator.ports, job)).toMatchObject({ accepted: true, duplicate: false });
    expect(await submitJob(emulator.ports, job)).toEqual({ accepted: true, jobId: job.id, duplicate: true });
    expect((await emulator.ports.queue.depth()).visible).toBe(before.visible + 1);
  });

  it('WHEN a job is accepted THEN job.json holds it and a queued event carries its position', async () => {
    const job = imagineJob({ userId: 'positioned' });
    const outcome = await submitJob(emulator.ports, job);
    const stored: unknown = JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.job(job.id)))!));
    expect(stored).toEqual(job);
    const events: JobEvent[] = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id));
    const queued = events.find((e) => e.jobId === job.id);
    expect(queued).toMatchObject({ type: 'queued' });
    expect(outcome.accepted && outcome.position).toBeGreaterThanOrEqual(1);
    expect(queued?.type === 'queued' && queued.position).toBe(outcome.accepted ? outcome.position : -1);
  });
});

describe('GIVEN one user submitting many jobs at the same moment', () => {
  it('THEN no more than the cap are accepted, and every refused job leaves nothing behind', async () => {
    const emulator = await startTestEmulator();
    try {
      const jobs = Array.from({ length: 6 }, () => imagineJob({ userId: 'burst' }));
      const outcomes = await Promise.all(jobs.map((job) => submitJob(emulator.ports, job)));
      const accepted = outcomes.filter((o) => o.accepted);
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.length).toBeLessThanOrEqual(3);
      expect((await emulator.ports.queue.depth()).visible).toBe(accepted.length);
      expect(await emulator.ports.blobs.list('pending/web/burst/')).toHaveLength(accepted.length);
      for (const [i, outcome] of outcomes.entries()) {
        expect(await emulator.ports.blobs.exists(jobKeys.job(jobs[i]!.id))).toBe(outcome.accepted);
      }
    } finally {
      await emulator.stop();
    }
  });
});
