import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { collectEvents, settleEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { imagineJob } from './fixtures.ts';
import { spawnRunner, type RunnerChild } from './harness.ts';

describe('GIVEN a runner process that is killed with SIGKILL in the middle of a job', () => {
  let emulator: TestEmulator;
  const children: RunnerChild[] = [];

  beforeAll(async () => {
    // The held job comes back one visibility timeout after the kill: 3 s, heartbeats every second (as the chaos test).
    emulator = await startTestEmulator({ visibilitySeconds: 3, maxReceives: 4 });
  });
  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
    await emulator?.stop();
  });

  it('THEN a second runner completes it exactly once and the bot sees one completed', async () => {
    const slowJob = { TEST_GENERATOR_STEPS: '8', TEST_GENERATOR_STEP_MS: '400' };
    const first = spawnRunner({ ...emulator.env(), ...slowJob, JOB_VISIBILITY_SECONDS: '3', RUNNER_ID: 'runner-killed' });
    children.push(first);
    const job = imagineJob({ prompt: 'a kite over dunes' });
    await submitJob(emulator.ports, job);

    // Kill only once the job is visibly under way (a progress event from the first runner).
    const events: JobEvent[] = await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && e.type === 'progress'));
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(await emulator.ports.blobs.exists(jobKeys.result(job.id))).toBe(false);

    const second = spawnRunner({ ...emulator.env(), TEST_GENERATOR_STEPS: '2', RUNNER_ID: 'runner-second' });
    children.push(second);
    await collectEvents(emulator.ports, (all) => all.some((e) => e.jobId === job.id && e.type === 'completed'), 30_000, events);
    await settleEvents(emulator, events);

    const mine = events.filter((e) => e.jobId === job.id);
    expect(mine.filter((e) => e.type === 'completed')).toHaveLength(1);
    expect(mine.filter((e) => e.type === 'started').map((e) => e.type === 'started' && [e.runnerId, e.attempt])).toEqual([
      ['runner-killed', 1],
      ['runner-second', 2],
    ]);
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(job.id)))!)));
    expect(result.runnerId).toBe('runner-second');
    expect(await emulator.ports.queue.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(await emulator.dlqBodies()).toEqual([]);

    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });
});
