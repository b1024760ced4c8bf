import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { decodeToRgb } from '../../gpu-runner/imaging.ts';
import { submitJob } from '../../bot/submit.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { imagineJob } from './fixtures.ts';
import { startTestRunner } from './harness.ts';

const finalOf = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

describe('GIVEN a runner with slow steps and a long progress interval', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  const generator = new TestGenerator({ steps: 12, stepDelayMs: 100 });

  beforeAll(async () => {
    emulator = await startTestEmulator();
    runner = await startTestRunner({ ...emulator.env(), PROGRESS_INTERVAL_MS: '60000' }, generator);
  });
  afterAll(async () => {
    await runner?.stop('test over');
    await emulator?.stop();
  });

  it('WHEN a job reports 12 steps THEN progress is throttled to one event before completed', async () => {
    const job = imagineJob({ userId: 'progress' });
    await submitJob(emulator.ports, job);
    const events = await collectEvents(emulator.ports, (all) => finalOf(all, job.id).length > 0);
    expect(events.filter((e) => e.jobId === job.id).map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'completed']);
  });

  it('WHEN cancel.json appears while the job runs THEN generation stops, failed cancelled, no result, nothing left queued', async () => {
    const job = imagineJob({ userId: 'canceller' });
    await submitJob(emulator.ports, job);
    const events = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && e.type === 'started'));
    await emulator.ports.blobs.put(jobKeys.cancel(job.id), JSON.stringify({ by: 'user' }), 'application/json');
    await collectEvents(emulator.ports, (all) => finalOf(all, job.id).length > 0, 20_000, events);
    expect(finalOf(events, job.id)).toEqual([expect.objectContaining({ type: 'failed', code: 'cancelled', willRetry: false })]);
    expect(await emulator.ports.blobs.exists(jobKeys.result(job.id))).toBe(false);
    expect(await emulator.ports.blobs.list(`jobs/${job.id}/image`)).toEqual([]);
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(runner.worker.counters.cancelled).toBe(1);
  });
});

describe('GIVEN a generator that offers previews', () => {
  it('WHEN a job runs THEN a JPEG preview grid is stored at the preview key and announced before completed', async () => {
    const emulator = await startTestEmulator();
    const runner = await startTestRunner(emulator.env(), new TestGenerator({ steps: 4, previews: true }));
    try {
      const job = imagineJob({ userId: 'preview' });
      await submitJob(emulator.ports, job);
      const events = await collectEvents(emulator.ports, (all) => finalOf(all, job.id).length > 0);
      const types = events.filter((e) => e.jobId === job.id).map((e) => e.type);
      expect(types.indexOf('preview')).toBeGreaterThan(types.indexOf('started'));
      expect(types.indexOf('preview')).toBeLessThan(types.indexOf('completed'));
      expect(events.find((e) => e.jobId === job.id && e.type === 'preview')).toMatchObject({ key: jobKeys.preview(job.id), fraction: 0.5 });
      const preview = await decodeToRgb((await emulator.ports.blobs.get(jobKeys.preview(job.id)))!);
      const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(job.id)))!)));
      expect([preview.width, preview.height]).toEqual([result.width * 2, result.height * 2]); // the 2×2 grid's layout
    } finally {
      await runner.stop('test over');
      await emulator.stop();
    }
  });
});

describe('GIVEN an idle runner in the middle of a long poll', () => {
  it('WHEN it is stopped and a job arrives during that poll THEN the job is given back untouched', async () => {
    const emulator = await startTestEmulator({ visibilitySeconds: 30 });
    const generator = new TestGenerator();
    const runner = await startTestRunner({ ...emulator.env(), POLL_WAIT_SECONDS: '3', JOB_VISIBILITY_SECONDS: '30' }, generator);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // the runner is parked in its long poll
      const stopping = runner.stop('test: stop while polling');
      const job = imagineJob({ userId: 'late-arrival' });
      await emulator.ports.queue.send(job);
      await stopping;
      expect(await emulator.ports.queue.depth()).toEqual({ visible: 1, inFlight: 0 });
      expect(generator.requests).toHaveLength(0);
      expect(runner.worker.counters.completed).toBe(0);
    } finally {
      await emulator.stop();
    }
  });
});
