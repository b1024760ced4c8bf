/**
 * Versioned model rollout (infra/model-upload.ts) against the S3 emulator over HTTP: upload beside the old
 * version, verify, move the pointer, start a capacity-keeping instance refresh. The upload step stands in for
 * `aws s3 sync` with the SDK (no AWS CLI here); the Auto Scaling client records what it is asked.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import { bundleFiles, deployedOutputs, modelPointerKey, planModelUpload, rolloutModel, type ModelUploadPlan, type RolloutDeps } from '../../infra/model-upload.ts';
import { createS3Client } from '../../core/aws/index.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';

const root = resolve(import.meta.dirname, '../..');
let dir: string;
let emulator: TestEmulator;
let s3: S3Client;

beforeAll(async () => {
  emulator = await startTestEmulator();
  s3 = createS3Client(emulator.config.aws);
});
afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cascade-upload-'));
  mkdirSync(join(dir, 'stage_c'));
  writeFileSync(join(dir, 'manifest.json'), '{"name":"tiny"}');
  writeFileSync(join(dir, 'stage_c/model.onnx'), Buffer.alloc(3000, 7));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** `aws s3 sync` stand-in: PUTs every file (optionally leaving some out, as an interrupted sync would). */
function sdkUpload(skip: string[] = []): RolloutDeps['upload'] {
  return async (plan: ModelUploadPlan) => {
    const { pathname, host } = new URL(plan.destination);
    for (const [path] of bundleFiles(plan.source)) {
      if (skip.includes(path)) continue;
      await s3.send(new PutObjectCommand({ Bucket: host, Key: `${pathname.slice(1)}${path}`, Body: readFileSync(join(plan.source, path)) }));
    }
  };
}

function recordingAutoScaling(fail?: Error) {
  const sent: unknown[] = [];
  return {
    sent,
    client: {
      send: async (command: unknown) => {
        sent.push(command);
        if (fail) throw fail;
        return { InstanceRefreshId: 'refresh-1' };
      },
    } as unknown as RolloutDeps['autoScaling'],
  };
}

const pointer = async (name: string) => {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: emulator.bucket, Key: modelPointerKey(name) }));
    return await object.Body!.transformToString();
  } catch {
    return undefined;
  }
};

describe('model rollout', () => {
  it('GIVEN a bundle and a new version THEN it is uploaded under its own prefix, the pointer names it, and a refresh keeping 100 % capacity starts', async () => {
    const autoScaling = recordingAutoScaling();
    const result = await rolloutModel(
      { s3, autoScaling: autoScaling.client, upload: sdkUpload() },
      { bundleDir: dir, name: 'sc-a', version: 'v1', bucket: emulator.bucket, fleetGroup: 'cascade-bot-prod-gpu-fleet' },
    );
    expect(result.refreshId).toBe('refresh-1');
    expect(await pointer('sc-a')).toBe('v1');
    const [refresh] = autoScaling.sent as StartInstanceRefreshCommand[];
    expect(refresh).toBeInstanceOf(StartInstanceRefreshCommand);
    expect(refresh!.input).toMatchObject({ AutoScalingGroupName: 'cascade-bot-prod-gpu-fleet', Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200 } });
  });

  it('GIVEN an upload that left a file out THEN the pointer keeps the old version, no refresh starts, and the message names the file', async () => {
    await rolloutModel({ s3, autoScaling: recordingAutoScaling().client, upload: sdkUpload() }, { bundleDir: dir, name: 'sc-b', version: 'v1', bucket: emulator.bucket, fleetGroup: 'g' });
    const autoScaling = recordingAutoScaling();
    await expect(
      rolloutModel({ s3, autoScaling: autoScaling.client, upload: sdkUpload(['stage_c/model.onnx']) }, { bundleDir: dir, name: 'sc-b', version: 'v2', bucket: emulator.bucket, fleetGroup: 'g' }),
    ).rejects.toThrow(/upload incomplete, the fleet still runs the previous version: stage_c\/model\.onnx \(3000 bytes, found nothing\)/);
    expect(await pointer('sc-b')).toBe('v1');
    expect(autoScaling.sent).toEqual([]);
  });

  it('GIVEN a version that already exists THEN nothing is uploaded over it (a booting instance may be reading it)', async () => {
    await rolloutModel({ s3, autoScaling: recordingAutoScaling().client, upload: sdkUpload() }, { bundleDir: dir, name: 'sc-c', version: 'v1', bucket: emulator.bucket, fleetGroup: 'g' });
    let uploaded = false;
    await expect(
      rolloutModel({ s3, autoScaling: recordingAutoScaling().client, upload: async () => void (uploaded = true) }, { bundleDir: dir, name: 'sc-c', version: 'v1', bucket: emulator.bucket, fleetGroup: 'g' }),
    ).rejects.toThrow(/already holds 2 objects: versions are immutable/);
    expect(uploaded).toBe(false);
  });

  it('GIVEN a refresh already running THEN the pointer is moved and the message says to start the refresh later', async () => {
    const busy = Object.assign(new Error('busy'), { name: 'InstanceRefreshInProgressFault' });
    await expect(
      rolloutModel({ s3, autoScaling: recordingAutoScaling(busy).client, upload: sdkUpload() }, { bundleDir: dir, name: 'sc-d', version: 'v3', bucket: emulator.bucket, fleetGroup: 'g' }),
    ).rejects.toThrow(/the pointer now names v3, but an instance refresh is already running on g/);
    expect(await pointer('sc-d')).toBe('v3');
  });

  it('GIVEN names that would escape their prefix THEN the plan refuses, and the sync never deletes', () => {
    const plan = planModelUpload({ bundleDir: dir, name: 'stable-cascade', version: '2026-12-07', bucket: 'cascade-bot-prod-imagesbucket-abc' });
    expect(plan.command).toEqual(['aws', 's3', 'sync', `${dir}/`, 's3://cascade-bot-prod-imagesbucket-abc/models/stable-cascade/2026-12-07/', '--only-show-errors']);
    expect(() => planModelUpload({ bundleDir: dir, name: '../jobs', version: 'v1', bucket: 'b-ok' })).toThrow(/model name "..\/jobs" must be/);
    expect(() => planModelUpload({ bundleDir: dir, name: 'ok', version: '../x', bucket: 'b-ok' })).toThrow(/model version "..\/x" must be/);
    expect(() => planModelUpload({ bundleDir: dir, name: 'ok', version: 'current', bucket: 'b-ok' })).toThrow(/and not "current"/);
    expect(() => planModelUpload({ bundleDir: dir, name: 'ok', version: 'v1', bucket: 'Bad_Bucket' })).toThrow(/"Bad_Bucket" is not an S3 bucket name/);
  });

  it('GIVEN SST outputs THEN the bucket and fleet group are read from them, with a clear message when absent', () => {
    writeFileSync(join(dir, 'outputs.json'), JSON.stringify({ bucket: 'cascade-bot-dev-imagesbucket-1', fleetGroup: 'cascade-bot-dev-gpu-fleet' }));
    expect(deployedOutputs(join(dir, 'outputs.json'))).toEqual({ bucket: 'cascade-bot-dev-imagesbucket-1', fleetGroup: 'cascade-bot-dev-gpu-fleet' });
    expect(() => deployedOutputs(join(dir, 'missing.json'))).toThrow(/run `npx sst deploy` first, or pass --bucket and --fleet-group/);
    writeFileSync(join(dir, 'empty.json'), '{}');
    expect(() => deployedOutputs(join(dir, 'empty.json'))).toThrow(/has no "bucket" output/);
  });

  it('GIVEN a folder that is not a bundle THEN the command fails before uploading anything, saying why', () => {
    const run = spawnSync(process.execPath, ['infra/scripts/model-rollout.ts', join(dir, 'stage_c'), '--version', 'v1', '--bucket', 'b-ok', '--fleet-group', 'g', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('manifest.json not found');
    expect(run.stdout).not.toContain('aws s3 sync');
  });
});
