import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deployedBucket, planModelUpload } from '../../infra/model-upload.js';

const root = resolve(import.meta.dirname, '../..');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cascade-upload-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('model upload', () => {
  it('GIVEN a bundle, a name and the bucket THEN it syncs the folder to models/<name>/ and deletes stale files there', () => {
    const plan = planModelUpload({ bundleDir: dir, name: 'stable-cascade', bucket: 'cascade-bot-prod-imagesbucket-abc' });
    expect(plan.destination).toBe('s3://cascade-bot-prod-imagesbucket-abc/models/stable-cascade/');
    expect(plan.command).toEqual(['aws', 's3', 'sync', `${dir}/`, plan.destination, '--delete', '--only-show-errors']);
  });

  it('GIVEN a name or bucket that would escape the prefix THEN it refuses', () => {
    expect(() => planModelUpload({ bundleDir: dir, name: '../jobs', bucket: 'b-ok' })).toThrow(/model name "..\/jobs" must be/);
    expect(() => planModelUpload({ bundleDir: dir, name: 'ok', bucket: 'Bad_Bucket' })).toThrow(/"Bad_Bucket" is not an S3 bucket name/);
  });

  it('GIVEN SST outputs THEN the deployed bucket is read from them, with a clear message when absent', () => {
    writeFileSync(join(dir, 'outputs.json'), JSON.stringify({ bucket: 'cascade-bot-dev-imagesbucket-1' }));
    expect(deployedBucket(join(dir, 'outputs.json'))).toBe('cascade-bot-dev-imagesbucket-1');
    expect(() => deployedBucket(join(dir, 'missing.json'))).toThrow(/run `npx sst deploy` first, or pass --bucket/);
    writeFileSync(join(dir, 'empty.json'), '{}');
    expect(() => deployedBucket(join(dir, 'empty.json'))).toThrow(/has no "bucket" output/);
  });

  it('GIVEN a folder that is not a bundle THEN the command fails before uploading anything, saying why', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/scripts/upload-model.ts', dir, '--bucket', 'b-ok', '--dry-run'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('manifest.json not found');
    expect(run.stdout).not.toContain('aws s3 sync');
  });
});
