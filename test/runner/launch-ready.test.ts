/**
 * The runner completes the fleet's launch lifecycle hook once it is ready (gpu-runner/worker-launch.ts), over
 * the real SDK to a loopback Auto Scaling API and instance metadata; and the cold-start clock turns the boot
 * script's marks and its own into the phase metrics (EMF) the runner logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { announceReady } from '../../gpu-runner/worker-launch.ts';
import { ColdStartClock, METRICS_NAMESPACE, parseHostMarks } from '../../gpu-runner/boot-phases.ts';
import { onFirstImage } from '../../gpu-runner/main.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { startFakeAutoScaling, startFakeImds, type FakeAutoScaling, type FakeImds } from './fake-aws.ts';

describe('launch hook', () => {
  let imds: FakeImds;
  let autoScaling: FakeAutoScaling;
  const lines: string[] = [];
  const log = createLogger({ json: true, write: (line) => lines.push(line) });

  beforeAll(async () => {
    imds = await startFakeImds('i-0feed');
    autoScaling = await startFakeAutoScaling();
  });
  afterAll(async () => {
    await imds?.stop();
    await autoScaling?.stop();
  });

  const configWith = (extra: Record<string, string>) =>
    loadConfig({ AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_AUTO_SCALING: autoScaling.url, SPOT_METADATA_URL: imds.url, FLEET_GROUP_NAME: 'cascade-bot-prod-gpu-fleet', ...extra });

  it('GIVEN the fleet settings THEN it completes the launch hook for its own instance with CONTINUE', async () => {
    await announceReady(configWith({ LAUNCH_HOOK_NAME: 'runner-ready' }), log);
    expect(lines.at(-1)).toContain('launch hook completed: instance in service');
    expect(autoScaling.calls.at(-1)!.params).toMatchObject({
      Action: 'CompleteLifecycleAction',
      AutoScalingGroupName: 'cascade-bot-prod-gpu-fleet',
      LifecycleHookName: 'runner-ready',
      InstanceId: 'i-0feed',
      LifecycleActionResult: 'CONTINUE',
    });
  });

  it('GIVEN a restarted runner on an instance already in service THEN "no active lifecycle action" is not an error', async () => {
    autoScaling.failWith = { status: 400, code: 'ValidationError', message: 'No active Lifecycle Action found with instance ID i-0feed' };
    try {
      await expect(announceReady(configWith({ LAUNCH_HOOK_NAME: 'runner-ready' }), log)).resolves.toBeUndefined();
      // Any other failure throws, so the container restarts and the host agent sees it.
      autoScaling.failWith = { status: 400, code: 'AccessDenied', message: 'not authorized to perform autoscaling:CompleteLifecycleAction' };
      await expect(announceReady(configWith({ LAUNCH_HOOK_NAME: 'runner-ready' }), log)).rejects.toThrow(/not authorized/);
    } finally {
      autoScaling.failWith = undefined;
    }
  });

  it('GIVEN no launch hook configured (npm start, tests) THEN nothing is called', async () => {
    const before = autoScaling.calls.length;
    await announceReady(configWith({}), log);
    expect(autoScaling.calls.length).toBe(before);
  });
});

describe('cold-start phases', () => {
  it('GIVEN the boot script marks and the runner marks THEN each phase is a metric in an EMF line for the fleet group', () => {
    const host = parseHostMarks('os_boot=1000,script_start=31000,disk_ready=41000,model_synced=131000,image_pulled=101000,bogus=5,model_synced=x');
    let now = 140_000;
    const clock = new ColdStartClock(host, { runnerStart: 135_000, now: () => now });
    clock.mark('sessions_created');
    now = 170_000;
    clock.mark('ready');
    now = 185_000;
    clock.mark('first_image');
    now = 999_000;
    clock.mark('first_image');
    expect(clock.durations()).toEqual({
      OsBootToScriptMs: 30_000,
      DiskSetupMs: 10_000,
      ModelSyncMs: 90_000,
      ImagePullDoneMs: 60_000,
      ContainerStartMs: 34_000,
      SessionCreateMs: 5_000,
      ReadyMs: 169_000,
      FirstImageMs: 184_000,
    });
    const fields = clock.metricFields('grp', ['ReadyMs', 'ModelSyncMs']);
    expect(fields).toEqual({
      _aws: { Timestamp: 999_000, CloudWatchMetrics: [{ Namespace: METRICS_NAMESPACE, Dimensions: [['FleetGroup']], Metrics: [{ Name: 'ModelSyncMs', Unit: 'Milliseconds' }, { Name: 'ReadyMs', Unit: 'Milliseconds' }] }] },
      FleetGroup: 'grp',
      ModelSyncMs: 90_000,
      ReadyMs: 169_000,
    });
  });

  it('GIVEN a restarted container (no host marks) THEN only its own phases are reported', () => {
    const clock = new ColdStartClock(parseHostMarks(undefined), { runnerStart: 10, now: () => 50 });
    clock.mark('sessions_created');
    expect(clock.durations()).toEqual({ SessionCreateMs: 40 });
  });

  it('GIVEN the generator wrapper THEN the first image is reported once and the generator is otherwise unchanged', async () => {
    const inner = new TestGenerator();
    const output = { images: [] } as unknown as Awaited<ReturnType<TestGenerator['generate']>>;
    let calls = 0;
    inner.generate = async () => {
      calls += 1;
      return output;
    };
    let firsts = 0;
    const wrapped = onFirstImage(inner, () => (firsts += 1));
    expect([wrapped.modelName, wrapped.baseResolution, wrapped.modelVariant]).toEqual([inner.modelName, inner.baseResolution, inner.modelVariant]);
    const request = {} as Parameters<TestGenerator['generate']>[0];
    expect(await wrapped.generate(request)).toBe(output);
    expect(await wrapped.generate(request)).toBe(output);
    expect([calls, firsts]).toEqual([2, 1]);
  });
});
