/**
 * The runner on the fleet protects its instance from scale-in while busy: the real runner over the
 * emulator (SQS/S3 over HTTP), a loopback IMDSv2 for the instance id, and the real Auto Scaling SDK
 * client against a loopback Query-protocol server that records each request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import type { JobEvent } from '../../core/job.ts';
import { createLogger } from '../../core/log.ts';
import { submitJob } from '../../bot/submit.ts';
import { startRunner, type RunnerHandle } from '../../gpu-runner/main.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { startFakeAutoScaling, startFakeImds, type FakeAutoScaling, type FakeImds } from './fake-aws.ts';
import { imagineJob } from './fixtures.ts';
import { FAST_RUNNER_ENV } from './harness.ts';

const INSTANCE_ID = 'i-0fedcba9876543210';
const GROUP = 'cascade-bot-test-gpu-fleet';
const SECRET = 'runner-secret-key-must-not-appear-0123';
const completed = (ids: string[]) => (events: JobEvent[]) => ids.every((id) => events.some((e) => e.jobId === id && e.type === 'completed'));

describe('GIVEN a runner on the fleet (FLEET_GROUP_NAME and instance metadata known)', () => {
  let emulator: TestEmulator;
  let imds: FakeImds;
  let autoScaling: FakeAutoScaling;
  const runners: RunnerHandle[] = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    imds = await startFakeImds(INSTANCE_ID);
    autoScaling = await startFakeAutoScaling();
  });
  afterAll(async () => {
    for (const runner of runners) await runner.stop('test over');
    await autoScaling?.stop();
    await imds?.stop();
    await emulator?.stop();
  });

  async function start(lines: string[]) {
    const config = loadConfig({
      ...FAST_RUNNER_ENV,
      ...emulator.env(),
      RUNNER_ID: INSTANCE_ID,
      AWS_ACCESS_KEY_ID: 'AKIDRUNNERTEST',
      AWS_SECRET_ACCESS_KEY: SECRET,
      FLEET_GROUP_NAME: GROUP,
      SPOT_METADATA_URL: imds.url,
      SPOT_POLL_MS: '60000',
      AWS_ENDPOINT_URL_AUTO_SCALING: autoScaling.url,
      SCALE_IN_PROTECTION_HOLD_SECONDS: '3',
    });
    const runner = await startRunner({
      config,
      generator: new TestGenerator({ baseResolution: 128, steps: 3, stepDelayMs: 100 }),
      handleSignals: false,
      log: createLogger({ level: 'info', json: true, write: (line) => lines.push(line) }),
    });
    runners.push(runner);
    return runner;
  }

  it('WHEN it starts, then two jobs run back to back THEN stale protection is cleared, the instance is protected once, unprotected once after the hold, and leaving sends nothing more', async () => {
    autoScaling.calls.length = 0;
    const runner = await start([]);
    const call = (protect: boolean) => ({ Action: 'SetInstanceProtection', Version: '2011-01-01', AutoScalingGroupName: GROUP, 'InstanceIds.member.1': INSTANCE_ID, ProtectedFromScaleIn: String(protect) });
    expect((await autoScaling.waitForCalls(1)).map((c) => c.params)).toEqual([call(false)]);
    const jobs = [imagineJob({ userId: 'protect-a' }), imagineJob({ userId: 'protect-b' })];
    for (const job of jobs) await submitJob(emulator.ports, job);
    await collectEvents(emulator.ports, completed(jobs.map((j) => j.id)));
    const calls = await autoScaling.waitForCalls(3);
    expect(calls.map((c) => c.params)).toEqual([call(false), call(true), call(false)]);
    await runner.stop('test over');
    expect(runner.worker.counters.completed).toBe(2);
    expect(autoScaling.calls).toHaveLength(3);
  });

  it('WHEN Auto Scaling refuses (AccessDenied) THEN the job still completes and the warning names the error, never the credentials', async () => {
    autoScaling.calls.length = 0;
    autoScaling.failWith = { status: 403, code: 'AccessDenied', message: 'User is not authorized to perform: autoscaling:SetInstanceProtection' };
    const lines: string[] = [];
    try {
      const runner = await start(lines);
      const job = imagineJob({ userId: 'protect-denied' });
      await submitJob(emulator.ports, job);
      await collectEvents(emulator.ports, completed([job.id]));
      await autoScaling.waitForCalls(1);
      await runner.stop('test over');
      expect(runner.worker.counters).toMatchObject({ completed: 1, failed: 0, released: 0 });
    } finally {
      autoScaling.failWith = undefined;
    }
    const warnings = lines.map((line) => JSON.parse(line) as { level: string; msg: string; error?: { name: string; message: string } }).filter((l) => l.msg.startsWith('could not change scale-in protection'));
    expect(warnings[0]).toMatchObject({ level: 'warn', error: { name: 'AccessDenied', message: 'User is not authorized to perform: autoscaling:SetInstanceProtection' } });
    expect(lines.join('\n')).not.toContain(SECRET);
  });
});
