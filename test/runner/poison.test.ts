import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobEvent } from '../../core/job.ts';
import { jobKeys, pendingKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import type { GenerateHooks, GenerateOutput, GenerateRequest } from '../../gpu-runner/generator.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { imagineJob } from './fixtures.ts';
import { startTestRunner } from './harness.ts';

const MAX_RECEIVES = 3;

/** Fails every job whose prompt contains "poison"; makes the rest normally. */
class PoisonAwareGenerator extends TestGenerator {
  override async generate(request: GenerateRequest, hooks?: GenerateHooks): Promise<GenerateOutput> {
    if (request.prompt.includes('poison')) {
      this.requests.push(request);
      throw new Error('CUDA error: an illegal memory access was encountered');
    }
    return super.generate(request, hooks);
  }
}

const finalOf = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

describe(`GIVEN a jobs queue whose redrive moves messages to the DLQ after ${MAX_RECEIVES} receives`, () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  const generator = new PoisonAwareGenerator();
  const events: JobEvent[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator({ maxReceives: MAX_RECEIVES });
    runner = await startTestRunner(emulator.env(), generator);
  });
  afterAll(async () => {
    await runner?.stop('test over');
    await emulator?.stop();
  });

  it('WHEN a job fails every time THEN retries are announced, the last failure is final, it ends in the DLQ, and the next job still completes', async () => {
    const poison = imagineJob({ prompt: 'poison pill', userId: 'user-p' });
    await submitJob(emulator.ports, poison);
    await collectEvents(emulator.ports, (all) => finalOf(all, poison.id).length > 0, 20_000, events);
    const failures = events.filter((e): e is Extract<JobEvent, { type: 'failed' }> => e.jobId === poison.id && e.type === 'failed');
    expect(failures.map((e) => e.willRetry)).toEqual([true, true, false]);
    expect(failures.at(-1)).toMatchObject({ code: 'model_error' });
    expect(failures.at(-1)!.reason).not.toMatch(/CUDA|illegal/);
    expect(generator.requests.filter((r) => r.prompt.includes('poison'))).toHaveLength(MAX_RECEIVES);
    expect(await emulator.ports.blobs.exists(pendingKeys.marker(poison))).toBe(false);

    const healthy = imagineJob({ prompt: 'a healthy fern', userId: 'user-h' });
    await submitJob(emulator.ports, healthy);
    await collectEvents(emulator.ports, (all) => finalOf(all, healthy.id).length > 0, 20_000, events);
    expect(finalOf(events, healthy.id)[0]?.type).toBe('completed');
    // The redrive happens on the receive after the last attempt, i.e. by the time the runner polled again.
    const dlq = await emulator.dlqBodies();
    expect(dlq.map((body) => (JSON.parse(body) as { id: string }).id)).toContain(poison.id);
    expect(await emulator.ports.blobs.exists(jobKeys.result(poison.id))).toBe(false);
  });

  it('WHEN messages are not jobs THEN each goes to the DLQ after its receives, a readable id gets a failed event, and the runner keeps serving', async () => {
    const brokenButNamed = { ...imagineJob({ id: 'broken-named', userId: 'user-m' }), kind: 'paint' };
    await emulator.sendRaw('this is not json', 'web:user-x');
    await emulator.sendRaw(JSON.stringify(brokenButNamed), 'web:user-m');
    await collectEvents(emulator.ports, (all) => finalOf(all, 'broken-named').length > 0, 20_000, events);
    expect(finalOf(events, 'broken-named')[0]).toMatchObject({ type: 'failed', code: 'poison_message', willRetry: false });

    const after = imagineJob({ prompt: 'still serving', userId: 'user-h' });
    await submitJob(emulator.ports, after);
    await collectEvents(emulator.ports, (all) => finalOf(all, after.id).length > 0, 20_000, events);
    expect(finalOf(events, after.id)[0]?.type).toBe('completed');

    const deadline = Date.now() + 10_000;
    let dlq: string[] = [];
    while (Date.now() < deadline) {
      dlq = await emulator.dlqBodies();
      if (dlq.includes('this is not json') && dlq.some((body) => body.includes('broken-named'))) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(dlq).toContain('this is not json');
    expect(dlq.some((body) => body.includes('broken-named'))).toBe(true);
    expect(runner.worker.counters.malformed).toBe(2 * MAX_RECEIVES);
  });
});
