/**
 * Scale-in protection while busy. Unit: ScaleInGuard's timing rules over a recording port (fake timers).
 * Adapter: the real AWS SDK client against a loopback Query-protocol server and a loopback IMDSv2, so
 * the request shape (action, version, parameters, signing scope) is what AWS would receive.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../core/log.ts';
import { loadConfig } from '../../core/config.ts';
import { InstanceMetadata } from '../../gpu-runner/worker-imds.ts';
import { AutoScalingInstanceProtection, createAutoScalingClient, ScaleInGuard, type InstanceProtection } from '../../gpu-runner/worker-protection.ts';
import { startFakeAutoScaling, startFakeImds, type FakeAutoScaling, type FakeImds } from './fake-aws.ts';

function capturingLog() {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', json: true, write: (line) => lines.push(line) }) };
}

class RecordingProtection implements InstanceProtection {
  calls: boolean[] = [];
  failures = 0;
  async setProtected(protect: boolean): Promise<void> {
    this.calls.push(protect);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('AccessDenied: not authorized to perform autoscaling:SetInstanceProtection');
    }
  }
}

describe('ScaleInGuard (unit, recording port)', () => {
  afterEach(() => vi.useRealTimers());

  it('GIVEN a busy queue (job after job within the hold) THEN one protect call, and one unprotect after the hold of idle time', async () => {
    vi.useFakeTimers();
    const port = new RecordingProtection();
    const guard = new ScaleInGuard({ protection: port, holdMs: 30_000, log: capturingLog().log });
    for (let job = 0; job < 5; job += 1) {
      guard.jobStarted();
      await vi.advanceTimersByTimeAsync(10_000);
      guard.jobFinished();
      await vi.advanceTimersByTimeAsync(29_000);
    }
    expect(port.calls).toEqual([true]);
    expect(guard.isProtected).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(port.calls).toEqual([true, false]);
    expect(guard.isProtected).toBe(false);
    guard.jobStarted();
    await vi.advanceTimersByTimeAsync(0);
    expect(port.calls).toEqual([true, false, true]);
  });

  it('GIVEN the API refuses THEN jobStarted never throws, the failure is logged once as a warning and retried until it holds', async () => {
    vi.useFakeTimers();
    const port = new RecordingProtection();
    port.failures = 2;
    const { lines, log } = capturingLog();
    const guard = new ScaleInGuard({ protection: port, holdMs: 30_000, retryMs: 5_000, log });
    expect(() => guard.jobStarted()).not.toThrow();
    await vi.advanceTimersByTimeAsync(0);
    expect(port.calls).toEqual([true]);
    expect(guard.isProtected).toBe(false);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(port.calls).toEqual([true, true, true]);
    expect(guard.isProtected).toBe(true);
    const parsed = lines.map((line) => JSON.parse(line) as { level: string; msg: string; recovered?: boolean; error?: { message: string } });
    expect(parsed.filter((l) => l.level === 'warn').map((l) => l.error?.message)).toEqual(['AccessDenied: not authorized to perform autoscaling:SetInstanceProtection']);
    expect(parsed.filter((l) => l.level === 'debug')).toHaveLength(1);
    expect(parsed.at(-1)).toMatchObject({ level: 'info', msg: 'instance protected from scale-in', recovered: true });
  });

  it('GIVEN a job that starts and ends before the first call goes out THEN the wishes coalesce and nothing is sent', async () => {
    const port = new RecordingProtection();
    const guard = new ScaleInGuard({ protection: port, holdMs: 60_000, log: capturingLog().log });
    guard.start();
    await guard.settled();
    guard.jobStarted();
    await guard.close();
    expect(port.calls).toEqual([false]);
  });

  it('GIVEN the runner leaves while protected THEN close() removes the protection at once; once confirmed unprotected, close() calls nothing', async () => {
    const port = new RecordingProtection();
    const guard = new ScaleInGuard({ protection: port, holdMs: 60_000, log: capturingLog().log });
    guard.jobStarted();
    guard.jobFinished();
    await guard.settled();
    await guard.close();
    expect(port.calls).toEqual([true, false]);
    guard.jobStarted();
    await guard.close();
    expect(port.calls).toEqual([true, false]);

    const idle = new RecordingProtection();
    const idleGuard = new ScaleInGuard({ protection: idle, holdMs: 60_000, log: capturingLog().log });
    idleGuard.start();
    await idleGuard.settled();
    await idleGuard.close();
    expect(idle.calls).toEqual([false]);
  });

  it('GIVEN a runner restarted on an instance a crashed predecessor left protected THEN start() clears it once, before any job', async () => {
    const port = new RecordingProtection();
    const guard = new ScaleInGuard({ protection: port, holdMs: 60_000, log: capturingLog().log });
    expect(guard.isProtected).toBe(false);
    guard.start();
    await guard.settled();
    expect(port.calls).toEqual([false]);
    guard.jobStarted();
    await guard.settled();
    expect(port.calls).toEqual([false, true]);
    expect(guard.isProtected).toBe(true);
  });
});

describe('AutoScalingInstanceProtection (real SDK → loopback Query-protocol server)', () => {
  let autoScaling: FakeAutoScaling;
  let imds: FakeImds;
  const secret = 'test-secret-key-never-logged-0123456789';
  const config = () =>
    loadConfig({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_AUTO_SCALING: autoScaling.url, AWS_ACCESS_KEY_ID: 'AKIDTESTRUNNER', AWS_SECRET_ACCESS_KEY: secret });

  beforeAll(async () => {
    autoScaling = await startFakeAutoScaling();
    imds = await startFakeImds('i-0123456789abcdef0');
  });
  afterAll(async () => {
    await autoScaling?.stop();
    await imds?.stop();
  });

  it('GIVEN protect then unprotect THEN the SDK sends SetInstanceProtection for this group and the IMDSv2 instance id, signed for autoscaling', async () => {
    autoScaling.calls.length = 0;
    const protection = new AutoScalingInstanceProtection({ client: createAutoScalingClient(config().aws), groupName: 'cascade-bot-prod-gpu-fleet', metadata: new InstanceMetadata(imds.url) });
    await protection.setProtected(true);
    await protection.setProtected(false);
    expect(autoScaling.calls.map((call) => call.params)).toEqual([
      { Action: 'SetInstanceProtection', Version: '2011-01-01', AutoScalingGroupName: 'cascade-bot-prod-gpu-fleet', 'InstanceIds.member.1': 'i-0123456789abcdef0', ProtectedFromScaleIn: 'true' },
      { Action: 'SetInstanceProtection', Version: '2011-01-01', AutoScalingGroupName: 'cascade-bot-prod-gpu-fleet', 'InstanceIds.member.1': 'i-0123456789abcdef0', ProtectedFromScaleIn: 'false' },
    ]);
    for (const call of autoScaling.calls) {
      expect(call.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
      expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDTESTRUNNER\/\d{8}\/eu-west-1\/autoscaling\/aws4_request/);
    }
    // The instance id is read once (IMDSv2: token first), then cached.
    expect(imds.requests.filter((r) => r === 'GET /latest/meta-data/instance-id')).toHaveLength(1);
    expect(imds.requests[0]).toBe('PUT /latest/api/token');
  });

  it('GIVEN Auto Scaling answers with a Query-protocol error THEN the guard logs its code and message, not the credentials or the signature', async () => {
    autoScaling.calls.length = 0;
    autoScaling.failWith = { status: 400, code: 'ValidationError', message: 'The instance i-0123456789abcdef0 is not in InService.' };
    try {
      const { lines, log } = capturingLog();
      const protection = new AutoScalingInstanceProtection({ client: createAutoScalingClient(config().aws), groupName: 'grp', metadata: new InstanceMetadata(imds.url) });
      const guard = new ScaleInGuard({ protection, holdMs: 60_000, log });
      guard.jobStarted();
      await guard.settled();
      await guard.close();
      // The failed protect leaves the state unknown, so leaving tries to unprotect as well.
      expect(autoScaling.calls.map((call) => call.params.ProtectedFromScaleIn)).toEqual(['true', 'false']);
      const warning = lines.map((line) => JSON.parse(line) as { level: string; error?: { name: string; message: string } }).find((l) => l.level === 'warn');
      expect(warning?.error).toEqual({ name: 'ValidationError', message: 'The instance i-0123456789abcdef0 is not in InService.' });
      const all = lines.join('\n');
      expect(all).not.toContain(secret);
      expect(all).not.toContain('Signature=');
      expect(all).not.toContain('AKIDTESTRUNNER');
    } finally {
      autoScaling.failWith = undefined;
    }
  });

  it('GIVEN instance metadata without an instance id THEN no Auto Scaling call is made and the error says why', async () => {
    autoScaling.calls.length = 0;
    const noId = { get: async () => undefined };
    const protection = new AutoScalingInstanceProtection({ client: createAutoScalingClient(config().aws), groupName: 'grp', metadata: noId });
    await expect(protection.setProtected(true)).rejects.toThrow('the instance id is not available from instance metadata');
    expect(autoScaling.calls).toEqual([]);
  });
});
