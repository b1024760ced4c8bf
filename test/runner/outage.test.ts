import { describe, expect, it, vi } from 'vitest';
import { ResultSchema, type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { submitJob } from '../../bot/submit.ts';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { startRunner } from '../../gpu-runner/main.ts';
import { collectEvents, settleEvents, startTestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { imagineJob } from './fixtures.ts';
import { FAST_RUNNER_ENV } from './harness.ts';
import { startTcpProxy } from './tcp-proxy.ts';

/** An in-process runner whose log lines the test can read. */
async function runnerWithLog(env: Record<string, string>, generator: TestGenerator) {
  const lines: Array<Record<string, unknown>> = [];
  const config = loadConfig({ ...FAST_RUNNER_ENV, RUNNER_ID: 'runner-outage', ...env });
  const log = createLogger({ level: 'info', json: true, write: (line) => { if (process.env.DEBUG_OUTAGE) console.log(line); lines.push(JSON.parse(line) as Record<string, unknown>); } });
  const runner = await startRunner({ config, generator, log, handleSignals: false });
  return { runner, lines };
}

const completedOf = (events: JobEvent[], jobId: string) => events.filter((e) => e.jobId === jobId && e.type === 'completed');

describe('GIVEN the queue and store become unreachable', () => {
  it('WHEN the emulator is down at start THEN the runner says where it cannot reach, backs off, and serves once it is up', async () => {
    const probe = await startTestEmulator();
    const env = probe.env();
    const port = probe.port;
    await probe.stop();

    const { runner, lines } = await runnerWithLog(env, new TestGenerator());
    try {
      await vi.waitFor(() => expect(lines.filter((l) => String(l.msg).startsWith('jobs queue unreachable')).length, 'unreachable reports').toBeGreaterThanOrEqual(2), { timeout: 15_000, interval: 50 });
      const first = lines.find((l) => l.msg === 'jobs queue unreachable; retrying with back-off')!;
      expect(first.level).toBe('error');
      expect(JSON.stringify(first.error)).toContain(`127.0.0.1:${port}`);
      expect(JSON.stringify(first.error)).toContain('ECONNREFUSED');
      const delays = lines.filter((l) => String(l.msg).startsWith('jobs queue unreachable')).map((l) => Number(l.retryInMs));
      expect(delays.length).toBeGreaterThanOrEqual(2);

      const emulator = await startTestEmulator({ port });
      try {
        const job = imagineJob({ userId: 'outage-1' });
        await submitJob(emulator.ports, job);
        const events = await collectEvents(emulator.ports, (all) => completedOf(all, job.id).length > 0, 30_000);
        expect(completedOf(events, job.id)).toHaveLength(1);
        expect(lines.some((l) => l.msg === 'jobs queue reachable again')).toBe(true);
      } finally {
        await runner.stop('test over');
        await emulator.stop();
      }
    } finally {
      await runner.stop('test over');
    }
  });

  it('WHEN the network drops in the middle of a job THEN the job still completes exactly once and polling recovers', async () => {
    const emulator = await startTestEmulator({ visibilitySeconds: 6 });
    const proxy = await startTcpProxy(emulator.port);
    const generator = new TestGenerator({ steps: 10, stepDelayMs: 150 });
    const { runner, lines } = await runnerWithLog({ ...emulator.env(), AWS_ENDPOINT_URL: `http://127.0.0.1:${proxy.port}`, JOB_VISIBILITY_SECONDS: '6' }, generator);
    try {
      const job = imagineJob({ userId: 'outage-2' });
      await submitJob(emulator.ports, job);
      await vi.waitFor(() => expect(generator.requests, 'generation to start').toHaveLength(1), { timeout: 15_000, interval: 50 });
      await proxy.down();
      // Down until the runner has felt it (a retried call), not for a fixed time.
      await vi.waitFor(() => expect(lines.some((l) => String(l.msg).includes('service unreachable; retrying')), 'a retried call').toBe(true), { timeout: 15_000, interval: 50 });
      await proxy.up();

      const events = await collectEvents(emulator.ports, (all) => completedOf(all, job.id).length > 0, 30_000);
      await settleEvents(emulator, events);
      expect(completedOf(events, job.id)).toHaveLength(1);
      expect(ResultSchema.parse(JSON.parse(new TextDecoder().decode((await emulator.ports.blobs.get(jobKeys.result(job.id)))!))).runnerId).toBe('runner-outage');
      expect(lines.some((l) => String(l.msg).includes('service unreachable; retrying'))).toBe(true);
      expect(generator.requests).toHaveLength(1);

      const after = imagineJob({ userId: 'outage-3' });
      await submitJob(emulator.ports, after);
      await collectEvents(emulator.ports, (all) => completedOf(all, after.id).length > 0, 30_000, events);
    } finally {
      await runner.stop('test over');
      await proxy.close();
      await emulator.stop();
    }
  });
});
