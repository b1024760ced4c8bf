/**
 * The runner's IAM policy, derived from what its code really calls: the real runner serves every kind of
 * job over the emulator through a recording proxy (imagine, variation, cancelled, poison until the DLQ,
 * malformed, and a job found in the DLQ by the idle check), plus its scale-in protection against a
 * loopback Auto Scaling API. Each request becomes the (action, ARN) pairs AWS would check, and each
 * must be allowed by infra/iam-policies.ts runnerStatements, which in turn must grant nothing the
 * runner or its host never uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { loadConfig } from '../../core/config.ts';
import { type JobEvent } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { silentLogger } from '../../core/log.ts';
import { submitJob } from '../../bot/submit.ts';
import type { GenerateHooks, GenerateRequest, ImageGenerator } from '../../gpu-runner/generator.ts';
import { startRunner, type RunnerHandle } from '../../gpu-runner/main.ts';
import { runnerStatements, type AppArns, type PolicyStatement } from '../../infra/iam-policies.ts';
import { renderUserData } from '../../infra/user-data.ts';
import { collectEvents, startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { startFakeAutoScaling, startFakeImds, type FakeAutoScaling, type FakeImds } from '../runner/fake-aws.ts';
import { childJob, imagineJob } from '../runner/fixtures.ts';
import { FAST_RUNNER_ENV } from '../runner/harness.ts';
import { allowingStatement, authorizationsOf, emulatorArns, startRecordingProxy, type Authorization, type RecordingProxy } from './aws-request-recorder.ts';

const GROUP_ARN = 'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:0b1c:autoScalingGroupName/cascade-bot-test-gpu-fleet';

/** The test generator, failing on one prompt (a poison job). */
class PoisonablePrompt extends TestGenerator implements ImageGenerator {
  override generate(request: GenerateRequest, hooks?: GenerateHooks) {
    if (request.prompt === 'poison') return Promise.reject(new Error('native abort in the test generator'));
    return super.generate(request, hooks);
  }
}

const final = (id: string) => (events: JobEvent[]) => events.some((e) => e.jobId === id && (e.type === 'completed' || (e.type === 'failed' && !e.willRetry)));

describe('GIVEN the runner serving every kind of job through a recording proxy', () => {
  let emulator: TestEmulator;
  let proxy: RecordingProxy;
  let imds: FakeImds;
  let autoScaling: FakeAutoScaling;
  let runner: RunnerHandle;
  let arns: AppArns;
  let statements: PolicyStatement[];
  const authorizations: Authorization[] = [];
  const outcomes: Record<string, string> = {};

  beforeAll(async () => {
    emulator = await startTestEmulator({ maxReceives: 2 });
    proxy = await startRecordingProxy(emulator.env().AWS_ENDPOINT_URL!);
    imds = await startFakeImds('i-0123456789abcdef0');
    autoScaling = await startFakeAutoScaling();
    arns = emulatorArns(emulator, {
      fleetGroup: GROUP_ARN,
      runnerRepository: 'arn:aws:ecr:us-east-1:123456789012:repository/cascade-bot-test-runner',
      runnerLogGroup: 'arn:aws:logs:us-east-1:123456789012:log-group:/cascade-bot/test/runner',
    });
    statements = runnerStatements(arns);
    const config = loadConfig({
      ...FAST_RUNNER_ENV,
      ...emulator.env(),
      AWS_ENDPOINT_URL: proxy.url,
      JOB_MAX_RECEIVES: '2',
      DLQ_CHECK_SECONDS: '0',
      RUNNER_ID: 'i-0123456789abcdef0',
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      FLEET_GROUP_NAME: 'cascade-bot-test-gpu-fleet',
      SPOT_METADATA_URL: imds.url,
      SPOT_POLL_MS: '60000',
      AWS_ENDPOINT_URL_AUTO_SCALING: autoScaling.url,
      SCALE_IN_PROTECTION_HOLD_SECONDS: '0',
    });
    runner = await startRunner({ config, generator: new PoisonablePrompt({ baseResolution: 128, steps: 2 }), handleSignals: false, log: silentLogger });

    const events: JobEvent[] = [];
    const parent = imagineJob({ userId: 'perm-a' });
    await submitJob(emulator.ports, parent);
    await collectEvents(emulator.ports, final(parent.id), 30_000, events);
    const variation = childJob(parent, 'variation', 2, `${parent.id}-v2`);
    await submitJob(emulator.ports, variation);
    const cancelled = imagineJob({ userId: 'perm-b' });
    await emulator.ports.blobs.put(jobKeys.cancel(cancelled.id), JSON.stringify({ v: 1, by: 'web:perm-b', at: Date.now() }), 'application/json');
    await submitJob(emulator.ports, cancelled);
    const poison = imagineJob({ userId: 'perm-c', prompt: 'poison' });
    await submitJob(emulator.ports, poison);
    const malformedId = 'malformed-perm-1';
    await emulator.sendRaw(JSON.stringify({ v: 1, id: malformedId, kind: 'imagine', createdAt: new Date().toISOString(), requester: { platform: 'web', userId: 'perm-d' } }), 'web:perm-d');
    // A job that died with its runner on every attempt: only the idle DLQ check can announce it.
    const crashed = imagineJob({ userId: 'perm-e' });
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: emulator.jobsDlqUrl, MessageBody: JSON.stringify(crashed), MessageGroupId: 'web:perm-e', MessageDeduplicationId: crashed.id }));
    const ids = { parent: parent.id, variation: variation.id, cancelled: cancelled.id, poison: poison.id, malformed: malformedId, crashed: crashed.id };
    for (const id of Object.values(ids)) await collectEvents(emulator.ports, final(id), 30_000, events);
    await runner.stop('test over');
    for (const [name, id] of Object.entries(ids)) {
      const last = events.filter((e) => e.jobId === id && (e.type === 'completed' || e.type === 'failed')).at(-1)!;
      outcomes[name] = last.type === 'failed' ? `failed:${last.code}` : last.type;
    }

    for (const recorded of proxy.requests) authorizations.push(...authorizationsOf(recorded, emulator.config.aws.region));
    for (const call of autoScaling.calls) authorizations.push({ action: `autoscaling:${call.params.Action}`, resource: GROUP_ARN });
  }, 120_000);

  afterAll(async () => {
    await runner?.stop('test over');
    await proxy?.stop();
    await imds?.stop();
    await autoScaling?.stop();
    await emulator?.stop();
  });

  it('THEN each kind of job reached its own end (so every code path was exercised)', () => {
    expect(outcomes).toEqual({
      parent: 'completed',
      variation: 'completed',
      cancelled: 'failed:cancelled',
      poison: 'failed:model_error',
      malformed: 'failed:poison_message',
      crashed: 'failed:poison_message',
    });
  });

  it('THEN every request it made is allowed by the runner policy', () => {
    expect(authorizations.length).toBeGreaterThan(20);
    const denied = authorizations.filter((a) => !allowingStatement(statements, a)).map((a) => `${a.action} ${a.resource}`);
    expect([...new Set(denied)]).toEqual([]);
  });

  it('THEN it reads the DLQ, writes dead-letter notices and protects its instance (the rights infra once lacked)', () => {
    const seen = new Set(authorizations.map((a) => `${a.action} ${a.resource.replace(/\/dead-letters\/.*/, '/dead-letters/…')}`));
    expect(seen).toContain(`sqs:ReceiveMessage ${arns.jobsDlq}`);
    expect(seen).toContain(`s3:PutObject ${arns.bucket}/dead-letters/…`);
    expect(seen).toContain(`s3:GetObject ${arns.bucket}/dead-letters/…`);
    expect(seen).toContain(`autoscaling:SetInstanceProtection ${GROUP_ARN}`);
    // The check can fail: without the DLQ and notice statements these requests are denied.
    const without = statements.filter((s) => s.Sid !== 'ReadDeadLetters' && s.Sid !== 'DeadLetterNotices');
    const denied = new Set(authorizations.filter((a) => !allowingStatement(without, a)).map((a) => a.action));
    expect([...denied].sort()).toEqual(['s3:GetObject', 's3:PutObject', 'sqs:ReceiveMessage']);
  });

  it('THEN every SQS, S3 and Auto Scaling right it is granted is used, by the runner or by the host boot script / drain agent', () => {
    const script = renderUserData({
      region: 'us-east-1', bucket: emulator.bucket, modelName: 'm', imageUri: '1.dkr.ecr.us-east-1.amazonaws.com/r:t', fleetGroupName: 'g',
      lifecycleHookName: 'drain-runner', launchHookName: 'runner-ready', logGroupName: '/l', drainStopSeconds: 110, runnerEnv: {},
    });
    const hostUses: Record<string, boolean> = {
      ReadModels: script.includes(`aws s3 sync 's3://${emulator.bucket}/models/m/'`) && script.includes(`aws s3 cp 's3://${emulator.bucket}/models/m/current' -`),
      OwnLifecycle: script.includes('aws autoscaling complete-lifecycle-action') && script.includes('aws autoscaling set-instance-health'),
    };
    for (const statement of statements.filter((s) => /^(sqs|s3|autoscaling):/.test(s.Action[0]!))) {
      for (const action of statement.Action) {
        const used = authorizations.some((a) => a.action === action && allowingStatement([{ ...statement, Action: [action] }], a));
        expect(used || hostUses[statement.Sid] === true, `${statement.Sid}: ${action} is granted but never used`).toBe(true);
      }
    }
  });
});
