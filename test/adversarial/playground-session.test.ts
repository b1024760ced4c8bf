/**
 * Playground session attacks (issue #18, item 1), over real HTTP on 127.0.0.1 against the emulator:
 * a visitor who copies another's owner id from the channel, or invents a token, or replays an old-style
 * cookie, cannot act on the other's jobs; the secret never appears in what pages receive.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKeys } from '../../core/storage-layout.ts';
import { makeJob as jobRecord, makeResult } from '../bot/support/fixtures.ts';
import { openEvents, openSession, postJson, raw } from './support/playground-http.ts';
import { startPlaygroundTarget, type PlaygroundTarget } from './support/playground-target.ts';

let target: PlaygroundTarget;

beforeAll(async () => {
  target = await startPlaygroundTarget();
});

afterAll(async () => {
  await target?.stop();
});

interface Listed {
  viewerId: string | null;
  messages: Array<{ jobId: string; ownerId: string }>;
}

async function listAs(cookie?: string): Promise<Listed> {
  return JSON.parse((await raw({ port: target.port, path: '/api/messages', ...(cookie ? { headers: { cookie } } : {}) })).body) as Listed;
}

async function makeJob(cookie: string, text: string): Promise<string> {
  const reply = JSON.parse((await postJson(target.port, '/api/command', { text }, { cookie })).body) as { kind: string; jobId: string };
  expect(reply.kind).toBe('accepted');
  return reply.jobId;
}

describe('GIVEN a victim with a queued job in the playground', () => {
  let victim: string;
  let jobId: string;

  beforeAll(async () => {
    victim = await openSession(target.port);
    jobId = await makeJob(victim, 'a red fox --seed 1');
  });

  it('WHEN an attacker sets the cookie to the owner id the channel shows THEN they cannot delete or cancel the job, and it is still there', async () => {
    const shown = (await listAs()).messages.find((message) => message.jobId === jobId);
    expect(shown?.ownerId).toMatch(/^w[0-9a-f]{32}$/);
    const forged = `cascade_session=${shown!.ownerId}`;
    for (const customId of [`delete:${jobId}:0`, `cancel:${jobId}:0`]) {
      const response = await postJson(target.port, '/api/button', { customId }, { cookie: forged });
      expect(response.status).toBe(401);
    }
    expect((await postJson(target.port, '/api/command', { text: `/cancel ${jobId}` }, { cookie: forged })).status).toBe(401);
    expect(await target.emulator.ports.blobs.exists(`jobs/${jobId}/job.json`)).toBe(true);
    expect(await target.emulator.ports.blobs.exists(`jobs/${jobId}/cancel.json`)).toBe(false);
  });

  it('WHEN an attacker with a session of their own presses the victim\'s delete and cancel THEN the server refuses by comparing owners', async () => {
    const attacker = await openSession(target.port);
    for (const customId of [`delete:${jobId}:0`, `cancel:${jobId}:0`]) {
      const reply = JSON.parse((await postJson(target.port, '/api/button', { customId }, { cookie: attacker })).body) as { kind: string; code: string };
      expect(reply).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    }
    expect(await target.emulator.ports.blobs.exists(`jobs/${jobId}/job.json`)).toBe(true);
  });

  it('WHEN the channel and the event stream are read THEN the victim\'s token appears in neither; the owner sees the job as theirs by the derived id', async () => {
    const token = victim.split('=')[1]!;
    const stream = await openEvents(target.port);
    const other = await openSession(target.port);
    await makeJob(victim, 'a blue fox --seed 2');
    await expect.poll(() => stream.text().includes('"type":"hello"')).toBe(true);
    const listing = await raw({ port: target.port, path: '/api/messages', headers: { cookie: other } });
    stream.close();
    expect(listing.body).not.toContain(token);
    expect(listing.body).not.toContain(token.split('.')[1]!);
    expect(stream.text()).not.toContain(token.split('.')[1]!);
    const own = await listAs(victim);
    expect(own.messages.find((message) => message.jobId === jobId)?.ownerId).toBe(own.viewerId);
    expect((await listAs(other)).viewerId).not.toBe(own.viewerId);
  });

  it('WHEN a client invents a token, replays an old 24-hex cookie or sends none THEN it may not act, and the page issues a fresh server token instead of adopting it', async () => {
    // The victim's token with one tag character changed: the first, since the last one of 43 base64url characters
    // carries 2 padding bits that decoding drops ('…A' and '…B' are the same tag), so changing it passed 1 run in 16.
    const token = victim.split('=')[1]!;
    const tagAt = token.lastIndexOf('.') + 1;
    const invented = [
      `cascade_session=s1.${'0'.repeat(32)}.${'A'.repeat(43)}`,
      `cascade_session=${token.slice(0, tagAt)}${token[tagAt] === 'A' ? 'B' : 'A'}${token.slice(tagAt + 1)}`,
      'cascade_session=0123456789abcdef01234567',
      '',
    ];
    for (const cookie of invented) {
      const response = await postJson(target.port, '/api/command', { text: 'a fox' }, cookie ? { cookie } : {});
      expect(response.status).toBe(401);
      expect((JSON.parse(response.body) as { error: string }).error).toContain('open the playground page first');
      const page = await raw({ port: target.port, path: '/', headers: cookie ? { cookie } : {} });
      const issued = page.headers['set-cookie']?.[0] ?? '';
      expect(issued).toMatch(/^cascade_session=s1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}; /);
      if (cookie) expect(issued.split(';')[0]).not.toBe(cookie);
    }
  });

  it('WHEN many sessions are issued THEN every token carries 128 random bits and all differ', async () => {
    const tokens = await Promise.all(Array.from({ length: 50 }, () => openSession(target.port)));
    expect(new Set(tokens).size).toBe(50);
    const randoms = tokens.map((cookie) => /s1\.([0-9a-f]{32})\./.exec(cookie)![1]!);
    expect(new Set(randoms).size).toBe(50);
  });

  it('WHEN the server restarts on the same store THEN the same cookie still owns its jobs', async () => {
    const before = (await listAs(victim)).viewerId;
    await target.restart();
    expect((await listAs(victim)).viewerId).toBe(before);
    const reply = JSON.parse((await postJson(target.port, '/api/button', { customId: `cancel:${jobId}:0` }, { cookie: victim })).body) as { kind: string; action: string };
    expect(reply).toMatchObject({ kind: 'done', action: 'cancelled' });
  });

  it('WHEN a job from before server-issued tokens is in the store (owner id = the old public cookie) THEN it still shows and ℹ️ works, but no one can act as its owner', async () => {
    const oldCookie = '0123456789abcdef01234567';
    const old = jobRecord({ id: 'jbeforetokens', createdAt: new Date().toISOString(), requester: { platform: 'web', userId: oldCookie, channelId: 'playground' }, delivery: { platform: 'web', sessionId: oldCookie } });
    await target.emulator.ports.blobs.put(jobKeys.job(old.id), JSON.stringify(old), 'application/json');
    await target.emulator.ports.blobs.put(jobKeys.result(old.id), JSON.stringify(makeResult(old)), 'application/json');
    await target.restart(); // the channel index is read at start
    expect((await listAs()).messages.some((message) => message.jobId === old.id)).toBe(true);
    const visitor = await openSession(target.port);
    const info = JSON.parse((await postJson(target.port, '/api/button', { customId: `info:${old.id}:0` }, { cookie: visitor })).body) as { kind: string; title: string };
    expect(info).toMatchObject({ kind: 'info', title: `Job ${old.id}` });
    expect((await postJson(target.port, '/api/button', { customId: `delete:${old.id}:0` }, { cookie: `cascade_session=${oldCookie}` })).status).toBe(401);
    expect(JSON.parse((await postJson(target.port, '/api/button', { customId: `delete:${old.id}:0` }, { cookie: visitor })).body)).toMatchObject({ kind: 'rejected', code: 'not_allowed' });
    expect(await target.emulator.ports.blobs.exists(jobKeys.job(old.id))).toBe(true);
  });
});
