import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobEvent } from '../../core/job.ts';
import { jobKeys, pendingKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { silentLogger } from '../../core/log.ts';
import { notifyDeadLetters } from '../../gpu-runner/worker-dead-letters.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, drainEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { imagineJob } from './fixtures.ts';
import { startTestRunner } from './harness.ts';

const MAX_RECEIVES = 2;

/** What a runner that dies on every attempt leaves behind: receives without a delete, until SQS dead-letters the job. */
async function crashLoop(emulator: TestEmulator): Promise<void> {
  for (let attempt = 0; attempt < MAX_RECEIVES; attempt += 1) {
    const received = await emulator.ports.queue.receive({ waitSeconds: 1 });
    if (!received) throw new Error('expected the job to be delivered');
    await emulator.ports.queue.release(received.receiptHandle);
  }
  expect(await emulator.ports.queue.receive({ waitSeconds: 0 })).toBeNull();
}

describe('GIVEN jobs that reached the DLQ without a final failed event (the runner died on every attempt)', () => {
  let emulator: TestEmulator;
  beforeAll(async () => {
    emulator = await startTestEmulator({ maxReceives: MAX_RECEIVES });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('WHEN the notifier runs THEN the user is told once, their pending slot is freed, and the message stays in the DLQ', async () => {
    const job = imagineJob({ userId: 'crashy' });
    await submitJob(emulator.ports, job);
    await crashLoop(emulator);
    const deps = { deadLetters: emulator.ports.deadLetters!, events: emulator.ports.events, blobs: emulator.ports.blobs, log: silentLogger };

    expect(await notifyDeadLetters(deps)).toBe(1);
    const events: JobEvent[] = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && e.type === 'failed'));
    expect(events.find((e) => e.jobId === job.id && e.type === 'failed')).toMatchObject({ code: 'poison_message', willRetry: false });
    expect(await emulator.ports.blobs.exists(pendingKeys.marker(job))).toBe(false);

    expect(await notifyDeadLetters(deps)).toBe(0);
    expect((await emulator.dlqBodies()).some((body) => body.includes(job.id))).toBe(false); // hidden for a while after reading…
    expect(await emulator.inspectDlqCount()).toBe(1); // …but still there for the operators
  });

  it('WHEN a dead-lettered job had in fact produced its result THEN nobody is told it failed', async () => {
    const job = imagineJob({ userId: 'finished-late' });
    await submitJob(emulator.ports, job);
    await emulator.ports.blobs.put(jobKeys.result(job.id), '{}', 'application/json');
    await crashLoop(emulator);
    expect(await notifyDeadLetters({ deadLetters: emulator.ports.deadLetters!, events: emulator.ports.events, blobs: emulator.ports.blobs, log: silentLogger })).toBe(0);
  });
});

describe('GIVEN an idle runner and a job that died in the DLQ', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle | undefined;
  afterAll(async () => {
    await runner?.stop('test over');
    await emulator?.stop();
  });

  it('THEN the runner itself tells the user, once', async () => {
    emulator = await startTestEmulator({ maxReceives: MAX_RECEIVES });
    const job = imagineJob({ userId: 'crashy-2' });
    await submitJob(emulator.ports, job);
    await crashLoop(emulator);
    runner = await startTestRunner({ ...emulator.env(), DLQ_CHECK_SECONDS: '0' }, new TestGenerator());
    const events = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && e.type === 'failed'));
    await drainEvents(emulator.ports, 2500, events);
    expect(events.filter((e) => e.jobId === job.id && e.type === 'failed')).toHaveLength(1);
  });
});
