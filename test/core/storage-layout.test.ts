import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CodedError } from '../../core/errors.ts';
import {
  boardKeys,
  deadLetterKeys,
  isBotMarkerKey,
  jobIdOfRecordKey,
  jobKeys,
  modelKeys,
  parseJobKey,
  parsePendingKey,
  pendingKeys,
  settingsKeys,
  STORAGE_PREFIXES,
  webKeys,
} from '../../core/storage-layout.ts';
import { CorruptRecordError, readRecord, writeRecord } from '../../core/stored-records.ts';
import { MemoryBlobStore } from '../bot/support/memory-ports.ts';

const requester = { platform: 'slack', userId: 'U1/../x' } as const;

describe('storage layout', () => {
  it('every family lives under its own prefix', () => {
    const keys: Record<keyof typeof STORAGE_PREFIXES, string[]> = {
      jobs: [jobKeys.prefix('j-1'), jobKeys.job('j-1'), jobKeys.result('j-1'), jobKeys.grid('j-1', 'jpg'), jobKeys.image('j-1', 1), jobKeys.latents('j-1'), jobKeys.preview('j-1'), jobKeys.cancel('j-1'), jobKeys.delivered('j-1'), jobKeys.deleted('j-1'), jobKeys.discordMessage('j-1')],
      pending: [pendingKeys.user(requester), pendingKeys.marker({ id: 'j-1', createdAt: '2026-01-01T00:00:00.000Z', requester: { ...requester, channelId: 'C1' } })],
      settings: [settingsKeys.user('discord', 'u'), settingsKeys.channel('web', 'c')],
      deadLetters: [deadLetterKeys.notice('j-1')],
      models: [modelKeys.bundle('demo')],
      web: [webKeys.sessionKey],
      boards: [boardKeys.board('b1'), boardKeys.pin('b1', 'j-1-2'), boardKeys.vote('b1', 'j-1-2', 'slack%3AU1'), boardKeys.version('b1', 'v1'), boardKeys.export('b1', 'board.zip')],
      boardPlaces: [boardKeys.placePrefix('slack', 'C/1'), boardKeys.place('slack', 'C1', 5, 'b1'), boardKeys.allPlaces()],
      boardHeaderClaims: [boardKeys.headerClaim('b1', 1_700_000_000_000, 0)],
    };
    for (const [family, familyKeys] of Object.entries(keys)) {
      for (const key of familyKeys) expect(key.startsWith(STORAGE_PREFIXES[family as keyof typeof STORAGE_PREFIXES]), key).toBe(true);
    }
    // Prefixes do not overlap, so one family's LIST or lifecycle rule never reaches another's keys.
    const prefixes = Object.values(STORAGE_PREFIXES);
    expect(prefixes.filter((a) => prefixes.some((b) => a !== b && a.startsWith(b)))).toEqual([]);
  });

  it('keys are the ones stored by earlier releases', () => {
    expect(jobKeys.job('j-1')).toBe('jobs/j-1/job.json');
    expect(jobKeys.grid('j-1')).toBe('jobs/j-1/grid.png');
    expect(jobKeys.image('j-1', 3)).toBe('jobs/j-1/image-3.png');
    expect(jobKeys.discordMessage('j-1')).toBe('jobs/j-1/discord-message.json');
    expect(pendingKeys.marker({ id: 'j-1', createdAt: '1970-01-01T00:00:01.000Z', requester: { ...requester, channelId: 'C1' } })).toBe('pending/slack/U1%2F..%2Fx/1000-j-1');
    expect(settingsKeys.user('discord', 'a/b')).toBe('settings/users/discord/a%2Fb.json');
    expect(settingsKeys.channel('slack', 'C1')).toBe('settings/channels/slack/C1.json');
    expect(deadLetterKeys.notice('j-1')).toBe('dead-letters/j-1.json');
    expect(modelKeys.bundle('demo')).toBe('models/demo/');
  });

  it('parses back only the keys it builds', () => {
    expect(parseJobKey(jobKeys.latents('j-1'))).toEqual({ jobId: 'j-1', name: 'latents.f32' });
    expect(['jobs/j-1/', 'jobs/a/b/c.json', 'xjobs/j-1/job.json', 'settings/users/web/u.json'].map(parseJobKey)).toEqual([undefined, undefined, undefined, undefined]);
    expect(jobIdOfRecordKey(jobKeys.job('j-9'))).toBe('j-9');
    expect([jobKeys.result('j-9'), 'jobs/j-9/job.json.tmp', 'jobs/j-9/x/job.json'].map(jobIdOfRecordKey)).toEqual([undefined, undefined, undefined]);
    expect(isBotMarkerKey(jobKeys.delivered('j-1'))).toBe(true);
    expect(isBotMarkerKey(jobKeys.discordMessage('j-1'))).toBe(false);
  });

  it('a pending marker key gives back its time and job, and nothing else parses', () => {
    const job = { id: 'j-7', createdAt: '2026-03-04T05:06:07.089Z', requester: { ...requester, channelId: 'C1' } };
    expect(parsePendingKey(requester, pendingKeys.marker(job))).toEqual({ createdAtMs: Date.parse(job.createdAt), jobId: 'j-7' });
    expect(parsePendingKey({ platform: 'slack', userId: 'U2' }, pendingKeys.marker(job))).toBeUndefined();
    expect(parsePendingKey(requester, `${pendingKeys.user(requester)}not-a-marker`)).toBeUndefined();
  });
});

describe('stored records', () => {
  const Schema = z.strictObject({ v: z.literal(1), n: z.number().int() });

  it('writes what it reads back, and nothing that fails the schema', async () => {
    const blobs = new MemoryBlobStore();
    await writeRecord(blobs, 'jobs/j-1/x.json', Schema, { v: 1, n: 4 });
    expect(blobs.json('jobs/j-1/x.json')).toEqual({ v: 1, n: 4 });
    expect(await readRecord(blobs, 'jobs/j-1/x.json', Schema)).toEqual({ v: 1, n: 4 });
    await expect(writeRecord(blobs, 'jobs/j-1/y.json', Schema, { v: 1, n: 0.5 })).rejects.toThrow(z.ZodError);
    expect(blobs.objects.has('jobs/j-1/y.json')).toBe(false);
  });

  it('a missing record is null; a damaged one is a coded error naming the key, or null when the caller says so', async () => {
    const blobs = new MemoryBlobStore();
    expect(await readRecord(blobs, 'jobs/j-1/none.json', Schema)).toBeNull();
    await blobs.put('jobs/j-1/bad.json', '{not json', 'application/json');
    await blobs.put('jobs/j-1/wrong.json', JSON.stringify({ v: 1, n: 'x' }), 'application/json');
    for (const key of ['jobs/j-1/bad.json', 'jobs/j-1/wrong.json']) {
      const error = await readRecord(blobs, key, Schema).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CorruptRecordError);
      expect(error).toBeInstanceOf(CodedError);
      expect(error).toMatchObject({ code: 'corrupt_record', key, message: expect.stringContaining(key) });
      expect(await readRecord(blobs, key, Schema, { ifCorrupt: 'absent' })).toBeNull();
    }
  });
});
