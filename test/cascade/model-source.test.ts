/** model-source.ts against the S3 API of the local emulator over HTTP on 127.0.0.1. */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../core/aws/index.ts';
import { loadConfig } from '../../core/config.ts';
import { loadBundle } from '../../gpu-runner/cascade/index.ts';
import { parseS3Uri, resolveModelSource } from '../../gpu-runner/model-source.ts';
import { startLocalEmulator, type LocalEmulator } from '../../local/emulator.ts';
import { FIXTURE_DIR } from './fixture.ts';

let emulator: LocalEmulator;
let s3: S3Client;
let cacheDir: string;

async function upload(prefix: string, skip: (name: string) => boolean = () => false): Promise<void> {
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(join(dir, entry.name), name);
      else if (!name.includes('goldens') && !name.startsWith('inputs/') && !skip(name)) {
        await s3.send(new PutObjectCommand({ Bucket: emulator.bucket, Key: `${prefix}/${name}`, Body: await readFile(join(dir, entry.name)) }));
      }
    }
  };
  await walk(FIXTURE_DIR, '');
}

beforeAll(async () => {
  emulator = await startLocalEmulator({ port: 0 });
  s3 = createS3Client(loadConfig(emulator.env()).aws, { maxAttempts: 1 });
  cacheDir = await mkdtemp(join(tmpdir(), 'bundle-cache-'));
});
afterAll(async () => {
  s3?.destroy();
  await emulator?.stop();
  await rm(cacheDir, { recursive: true, force: true });
});

describe('GIVEN a bundle under an s3:// prefix', () => {
  it('THEN it is synced into the cache, loads, and a second resolve fetches nothing; a changed object is fetched again', async () => {
    await upload('bundles/tiny');
    const logs: string[] = [];
    const source = `s3://${emulator.bucket}/bundles/tiny`;
    const dir = await resolveModelSource(source, { cacheDir, s3, log: (m) => logs.push(m) });
    expect(dir).toBe(join(cacheDir, emulator.bucket, 'bundles', 'tiny'));
    expect((await loadBundle(dir)).manifest.name).toBe('cascade-tiny');
    expect(logs.at(-1)).toMatch(/: 13 of 13 files fetched/);
    await resolveModelSource(source, { cacheDir, s3, log: (m) => logs.push(m) });
    expect(logs.at(-1)).toMatch(/: 0 of 13 files fetched/);
    await s3.send(new PutObjectCommand({ Bucket: emulator.bucket, Key: 'bundles/tiny/tokenizer/merges.txt', Body: '#version: 0.2\n' }));
    await resolveModelSource(`${source}/`, { cacheDir, s3, log: (m) => logs.push(m) });
    expect(logs.at(-1)).toMatch(/: 1 of 13 files fetched/);
    expect(await readFile(join(dir, 'tokenizer', 'merges.txt'), 'utf8')).toBe('#version: 0.2\n');
  });

  it('WHEN the prefix has no manifest.json THEN the error says so', async () => {
    await upload('bundles/broken', (name) => name === 'manifest.json');
    await expect(resolveModelSource(`s3://${emulator.bucket}/bundles/broken`, { cacheDir, s3 })).rejects.toThrow(/has no manifest\.json \(found 12 objects/);
  });

  it('WHEN no S3 client is given, or a local folder is missing THEN the error says what to give', async () => {
    await expect(resolveModelSource('s3://b/p', { cacheDir })).rejects.toThrow(/no S3 client was given/);
    await expect(resolveModelSource('/nonexistent/bundle', { cacheDir })).rejects.toThrow(/is not a folder/);
    expect(await resolveModelSource(FIXTURE_DIR, { cacheDir })).toBe(FIXTURE_DIR);
    expect(parseS3Uri('s3://models/a/b')).toEqual({ bucket: 'models', prefix: 'a/b/' });
    expect(() => parseS3Uri('s3:///x')).toThrow(/not of the form/);
  });
});
