import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { resolveDimensions } from '../../core/dimensions.ts';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.ts';
import { decodeToRgb } from '../../gpu-runner/imaging.ts';
import type { RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { childJob, imagineJob } from './fixtures.ts';
import { startTestRunner, TEST_CPU_THREADS } from './harness.ts';

const BUNDLE = fileURLToPath(new URL('../fixtures/cascade-tiny', import.meta.url));
const finalOf = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

describe.skipIf(!existsSync(`${BUNDLE}/manifest.json`))('GIVEN the emulator and a runner with the real cascade engine on the tiny ONNX bundle', () => {
  let emulator: TestEmulator;
  let runner: RunnerHandle;
  let baseResolution = 0;
  beforeAll(async () => {
    const generator = await createCascadeGenerator({ bundleDir: BUNDLE, provider: 'cpu', cpuThreads: TEST_CPU_THREADS });
    baseResolution = generator.baseResolution;
    emulator = await startTestEmulator();
    runner = await startTestRunner(emulator.env(), generator);
  });
  afterAll(async () => {
    await runner?.stop('test done');
    await emulator?.stop();
  });

  it('WHEN an imagine and then an upscale of its tile 1 are submitted THEN both complete with images of the resolved sizes', async () => {
    const { ports } = emulator;
    const job = imagineJob({ prompt: 'a small red house', aspect: { w: 2, h: 1 }, userId: 'engine' });
    await submitJob(ports, job);
    const events = await collectEvents(ports, (all) => finalOf(all, job.id).length > 0, 50_000);
    expect(finalOf(events, job.id)[0]?.type).toBe('completed');
    const result = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await ports.blobs.get(jobKeys.result(job.id)))!)));
    expect({ width: result.width, height: result.height }).toEqual(resolveDimensions({ w: 2, h: 1 }, 'medium', baseResolution));
    expect(result.width % 64).toBe(0);
    expect(result.height % 64).toBe(0);
    const first = await decodeToRgb((await ports.blobs.get(result.images[0]!.key))!);
    expect([first.width, first.height]).toEqual([result.width, result.height]);

    const upscale = childJob(job, 'upscale', 1, `${job.id}-u1`);
    await submitJob(ports, upscale);
    await collectEvents(ports, (all) => finalOf(all, upscale.id).length > 0, 50_000, events);
    expect(finalOf(events, upscale.id)[0]?.type).toBe('completed');
    const upscaled = ResultSchema.parse(JSON.parse(new TextDecoder().decode((await ports.blobs.get(jobKeys.result(upscale.id)))!)));
    expect([upscaled.width, upscaled.height]).toEqual([result.width * 2, result.height * 2]);
  });
});
