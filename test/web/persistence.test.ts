/**
 * Local persistence behind `npm start`: the emulator's S3 keeps objects on disk (written through on
 * every PUT/DELETE, restored over the S3 API at start), jobs that were still waiting when the
 * stack stopped are put back on the queue and finished by the next run, and saved defaults (which the
 * system keeps in memory after the first read) are the ones saved last, before and after a restart.
 * All over HTTP on 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { createAwsPorts, createS3Client } from '../../core/aws/index.ts';
import { loadConfig } from '../../core/config.ts';
import { JobSchema, type Job } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { requestCancel } from '../../bot/job-records.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { runCommand } from '../../bot/web/commands.ts';
import { startLocalEmulator, type LocalEmulator } from '../../local/emulator.ts';
import type { System } from '../../local/system.ts';
import { makeDataDir, startTestSystem } from './support/system.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emulatorWithDisk(dir: string): Promise<LocalEmulator> {
  const emulator = await startLocalEmulator({ port: 0, dataDir: dir });
  cleanups.push(() => emulator.stop());
  return emulator;
}

describe('GIVEN the local emulator with a data folder', () => {
  it('WHEN objects are put, overwritten and deleted (DeleteObject and DeleteObjects) THEN a new emulator on the same folder serves exactly what was left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cascade-s3-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = await emulatorWithDisk(dir);
    const config = loadConfig(first.env());
    const { blobs } = createAwsPorts(config, { maxAttempts: 1 });
    const png = new Uint8Array([137, 80, 78, 71, 1, 2, 3]);
    await blobs.put('jobs/j1/grid.png', new Uint8Array([0]), 'image/png');
    await blobs.put('jobs/j1/grid.png', png, 'image/png');
    await blobs.put('jobs/j1/job.json', '{"a":"ü"}', 'application/json');
    await blobs.put('pending/web/u/1-j1', new Uint8Array(0), 'application/octet-stream');
    await blobs.put('odd key/with spaces+plus.txt', 'x', 'text/plain');
    await blobs.delete(['pending/web/u/1-j1']);
    const s3 = createS3Client(config.aws, { maxAttempts: 1 });
    await s3.send(new DeleteObjectCommand({ Bucket: first.bucket, Key: 'jobs/j1/job.json' }));
    s3.destroy();
    await first.stop();

    const second = await emulatorWithDisk(dir);
    expect(second.restoredObjects).toBe(2);
    const restored = createAwsPorts(loadConfig(second.env()), { maxAttempts: 1 }).blobs;
    expect(await restored.get('jobs/j1/grid.png')).toEqual(png);
    expect(new TextDecoder().decode((await restored.get('odd key/with spaces+plus.txt'))!)).toBe('x');
    expect(await restored.exists('jobs/j1/job.json')).toBe(false);
    expect(await restored.list('pending/')).toEqual([]);
    const s3b = createS3Client(loadConfig(second.env()).aws, { maxAttempts: 1 });
    const head = await s3b.send(new HeadObjectCommand({ Bucket: second.bucket, Key: 'jobs/j1/grid.png' }));
    s3b.destroy();
    expect(head.ContentType).toBe('image/png');
  });
});

describe('GIVEN jobs still waiting when the stack stopped', () => {
  it('WHEN the system starts again THEN the waiting job is requeued and finished, and the cancelled one is not', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const emulator = await emulatorWithDisk(join(dataDir, 's3'));
    const ports = createAwsPorts(loadConfig(emulator.env()), { maxAttempts: 1 });
    const bot = { ...ports, moderation: createModerationPolicy({ blocklist: [] }) };
    const waiting = await runCommand(bot, 'aaaaaaaaaaaaaaaa', 'a quiet harbour --seed 3');
    const cancelled = await runCommand(bot, 'aaaaaaaaaaaaaaaa', 'a loud harbour --seed 4');
    if (waiting.kind !== 'accepted' || cancelled.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify([waiting, cancelled])}`);
    await requestCancel(ports.blobs, cancelled.jobId, { v: 1, by: 'web:aaaaaaaaaaaaaaaa', at: Date.now() });
    await emulator.stop();

    const system: System = await startTestSystem(dataDir);
    cleanups.push(() => system.stop());
    expect(system.requeued).toEqual([waiting.jobId]);
    await expect.poll(() => system.ports.blobs.exists(jobKeys.result(waiting.jobId)), { timeout: 30_000, interval: 200 }).toBe(true);
    expect(await system.ports.blobs.exists(jobKeys.result(cancelled.jobId))).toBe(false);
  });
});

describe('GIVEN defaults saved with /settings in the playground', () => {
  it('WHEN the defaults change and the system restarts THEN every /imagine uses the defaults saved last', async () => {
    const dataDir = await makeDataDir();
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    let system: System = await startTestSystem(dataDir);
    cleanups.push(() => system.stop());
    const page = await fetch(system.webUrl);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const command = async (text: string) => {
      const response = await fetch(new URL('/api/command', system.webUrl), { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
      return (await response.json()) as { kind: string; jobId?: string; message?: string };
    };
    const aspectOf = async (reply: { jobId?: string }): Promise<Job['request']['aspect']> => {
      const uncached = createAwsPorts(system.config, { maxAttempts: 1 }).blobs;
      return JobSchema.parse(JSON.parse(new TextDecoder().decode((await uncached.get(jobKeys.job(reply.jobId!)))!))).request.aspect;
    };

    expect(await command('/settings --ar 3:2')).toMatchObject({ kind: 'done', message: 'Saved your defaults: --ar 3:2' });
    expect(await aspectOf(await command('a quiet harbour --seed 1'))).toEqual({ w: 3, h: 2 });
    expect(await command('/settings --ar 16:9')).toMatchObject({ kind: 'done' });
    expect(await aspectOf(await command('a quiet harbour --seed 2'))).toEqual({ w: 16, h: 9 });

    await system.stop();
    system = await startTestSystem(dataDir);
    expect(await command('/settings')).toMatchObject({ kind: 'info', lines: ['Defaults: --ar 16:9'] });
    expect(await aspectOf(await command('a quiet harbour --seed 3'))).toEqual({ w: 16, h: 9 });
  });
});
