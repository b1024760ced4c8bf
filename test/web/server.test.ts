/**
 * The playground server's edges, over HTTP against the emulator (no model needed): the session
 * cookie, what /api/image will and will not serve, refused cross-origin posts, and readable
 * answers to malformed requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { applyEvent, INITIAL_STATE } from '../../bot/job-state.ts';
import { buildJobMessage } from '../../bot/message-model.ts';
import { WebPoster } from '../../bot/web/poster.ts';
import { startWebPlayground, type WebPlayground } from '../../bot/web/server.ts';
import type { WebEvent } from '../../bot/web/web-message.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { makeJob, makeResult } from '../bot/support/fixtures.ts';

let emulator: TestEmulator;
let web: WebPlayground;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }) };
  web = await startWebPlayground({ bot, poster: new WebPoster(emulator.ports.blobs), port: 0 });
});

afterAll(async () => {
  await web?.stop();
  await emulator?.stop();
});

const url = (path: string) => new URL(path, web.url).href;

describe('GIVEN the playground server', () => {
  it('WHEN the page is opened THEN it is served with a session cookie that later requests keep, and pages see only its derived user id', async () => {
    const page = await fetch(url('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cascade_session=s1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict/);
    const session = cookie.split(';')[0]!;
    const again = await fetch(url('/'), { headers: { cookie: session } });
    expect(again.headers.get('set-cookie')).toBeNull();
    const messages = (await (await fetch(url('/api/messages'), { headers: { cookie: session } })).json()) as { viewerId: string };
    expect(messages.viewerId).toMatch(/^w[0-9a-f]{32}$/);
    expect(session).not.toContain(messages.viewerId.slice(1));
  });

  it('WHEN an image is asked for THEN only jobs/{id}/ images are served, with their type, and others get a sentence', async () => {
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10]);
    await emulator.ports.blobs.put('jobs/j1/image-1.png', png, 'image/png');
    await emulator.ports.blobs.put('pending/web/x/1-j1', 'secret-ish', 'text/plain');
    const ok = await fetch(url('/api/image?key=jobs/j1/image-1.png'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(png);
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0]);
    await emulator.ports.blobs.put('jobs/j1/preview.jpg', jpeg, 'image/jpeg');
    const preview = await fetch(url('/api/image?key=jobs/j1/preview.jpg'));
    expect([preview.status, preview.headers.get('content-type'), preview.headers.get('cache-control')]).toEqual([200, 'image/jpeg', 'no-cache']);
    expect(new Uint8Array(await preview.arrayBuffer())).toEqual(jpeg);
    for (const key of ['pending/web/x/1-j1', 'jobs/j1/job.json', 'jobs/../pending/web/x/1-j1', 'jobs/..png', 'jobs/J1/image-1.png', 'jobs/j1/inputs/5.png', 'jobs/j1/inputs/0.jpg', 'jobs/j1/image-1.gif', 'jobs/j1/latent-1.f32', 'jobs/j1/latents.f32']) {
      const refused = await fetch(url(`/api/image?key=${encodeURIComponent(key)}`));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: string }).error).toBe('key must name an image under jobs/{id}/');
    }
    const missing = await fetch(url('/api/image?key=jobs/j2/image-1.png'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain('No image at jobs/j2/image-1.png');
  });

  it('WHEN a job\'s uploaded picture is asked for (ℹ️ shows it) THEN a session gets it, a request without the session cookie does not, nor one for a job that is not a playground job or is gone', async () => {
    const session = (await fetch(url('/'))).headers.get('set-cookie')!.split(';')[0]!;
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 7]);
    const web = makeJob({ id: 'jupload1', requester: { platform: 'web', userId: 'someone-else', channelId: 'playground' }, delivery: { platform: 'web', sessionId: 's9' } });
    await emulator.ports.blobs.put(jobKeys.job(web.id), JSON.stringify(web), 'application/json');
    await emulator.ports.blobs.put(jobKeys.input(web.id, 0), png, 'image/png');
    const picture = (key: string, cookie?: string) => fetch(url(`/api/image?key=${encodeURIComponent(key)}`), cookie ? { headers: { cookie } } : {});
    const ok = await picture(jobKeys.input(web.id, 0), session);
    expect([ok.status, ok.headers.get('content-type'), ok.headers.get('cache-control')]).toEqual([200, 'image/png', 'private, max-age=3600']);
    expect(new Uint8Array(await ok.arrayBuffer())).toEqual(png);
    const noSession = await picture(jobKeys.input(web.id, 0));
    expect(noSession.status).toBe(401);
    expect(((await noSession.json()) as { error: string }).error).toContain('playground sessions only');
    const forged = await picture(jobKeys.input(web.id, 0), 'cascade_session=s1.00000000000000000000000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.status).toBe(401);
    // A Discord job's upload in the same store is not the playground's to show.
    const discord = makeJob({ id: 'jupload2' });
    await emulator.ports.blobs.put(jobKeys.job(discord.id), JSON.stringify(discord), 'application/json');
    await emulator.ports.blobs.put(jobKeys.input(discord.id, 0), png, 'image/png');
    const other = await picture(jobKeys.input(discord.id, 0), session);
    expect([other.status, ((await other.json()) as { error: string }).error]).toEqual([404, 'There is no playground job jupload2.']);
    await emulator.ports.blobs.put(jobKeys.input('jnojob', 0), png, 'image/png');
    expect((await picture(jobKeys.input('jnojob', 0), session)).status).toBe(404);
    const missing = await picture(jobKeys.input(web.id, 1), session);
    expect([missing.status, ((await missing.json()) as { error: string }).error]).toEqual([404, `No picture at ${jobKeys.input(web.id, 1)} (deleted or expired).`]);
  });

  // Links are signed when the job is seen running (its tile keys follow from the job) or, if it never was, on completion.
  it.each([['seen running first', true], ['completed at once', false]])('WHEN a completed message is delivered (%s) THEN each tile carries a direct link that serves the same bytes as /api/image, and other messages carry none', async (_, runningFirst) => {
    const poster = new WebPoster(emulator.ports.blobs);
    const job = makeJob({ id: runningFirst ? 'jlinks1' : 'jlinks2' });
    const result = makeResult(job);
    for (const image of result.images) await emulator.ports.blobs.put(image.key, new Uint8Array([137, 80, 78, 71, image.index]), 'image/png');
    const seen: WebEvent[] = [];
    poster.subscribe((event) => seen.push(event));
    const running = applyEvent(INITIAL_STATE, { v: 1, jobId: job.id, at: 1, type: 'started', runnerId: 'r1', attempt: 1 });
    if (runningFirst) await poster.deliver(job, buildJobMessage(job, running));
    const done = applyEvent(running, { v: 1, jobId: job.id, at: 2, type: 'completed', resultKey: jobKeys.result(job.id) });
    await poster.deliver(job, buildJobMessage(job, { ...done, result }), undefined, { result });

    const messages = seen.map((event) => (event.type === 'message' ? event.message : undefined));
    expect(messages).toHaveLength(runningFirst ? 2 : 1);
    if (runningFirst) expect(messages[0]?.tiles).toBeUndefined();
    const tiles = messages.at(-1)?.tiles ?? [];
    expect(tiles.map((tile) => tile.key)).toEqual(result.images.map((image) => image.key));
    for (const tile of tiles) {
      expect(tile.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/);
      const direct = await fetch(tile.url!);
      expect(direct.status).toBe(200);
      const throughServer = await fetch(url(`/api/image?key=${encodeURIComponent(tile.key)}`));
      expect(new Uint8Array(await direct.arrayBuffer())).toEqual(new Uint8Array(await throughServer.arrayBuffer()));
    }
  });

  it('WHEN another site posts a command THEN it is refused and nothing is queued', async () => {
    const response = await fetch(url('/api/command'), { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a fox' }) });
    expect(response.status).toBe(403);
    expect((await emulator.ports.queue.depth()).visible).toBe(0);
  });

  it('WHEN a request is malformed THEN the answer says what was expected', async () => {
    const cookie = (await fetch(url('/'))).headers.get('set-cookie')!.split(';')[0]!;
    const post = (path: string, body: string) => fetch(url(path), { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body });
    expect(await (await post('/api/command', 'not json')).json()).toEqual({ error: 'The body must be a JSON object.' });
    expect(await (await post('/api/command', '{"prompt":"a fox"}')).json()).toEqual({ error: 'Send { "text": "/imagine …" }.' });
    expect(await (await post('/api/button', '{}')).json()).toEqual({ error: 'Send { "customId": "upscale:j…:2" }.' });
    expect((await post('/api/command', JSON.stringify({ text: 'x'.repeat(20_000) }))).status).toBe(400);
    const lost = await fetch(url('/nowhere'));
    expect(lost.status).toBe(404);
    expect(await lost.json()).toEqual({ error: 'Nothing at GET /nowhere.' });
    const wrongMethod = await fetch(url('/api/command'));
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ error: '/api/command takes POST, not GET.' });
    for (const limit of ['0', '101', 'x', '2.5']) expect((await fetch(url(`/api/messages?limit=${limit}`))).status).toBe(400);
    expect(await (await fetch(url('/api/messages?before=nonsense'))).json()).toEqual({ error: 'before must be the "older" cursor of an earlier page.' });
    for (const query of ['', '?job=j1', '?job=j1&tile=5', '?job=../x&tile=1', '?job=j1&tile=1.5']) {
      const response = await fetch(url(`/api/download${query}`));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'Give job=<job id> and tile=1…4.' });
    }
    const missing = await fetch(url('/api/download?job=jnothere&tile=1'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toContain('Job jnothere has no finished image 1');
    const favicon = await fetch(url('/favicon.ico'));
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('content-type')).toBe('image/svg+xml');
  });
});

describe('GIVEN the web poster\'s time estimate', () => {
  it('WHEN jobs have taken 10 s and 20 s THEN a job queued at place 3 is estimated at about 3 typical jobs and a running one at the rest of one; finished jobs and a cold start have none', async () => {
    let now = 0;
    const poster = new WebPoster(emulator.ports.blobs, () => now);
    const seen: WebEvent[] = [];
    poster.subscribe((event) => seen.push(event));
    const last = () => (seen.at(-1) as Extract<WebEvent, { type: 'message' }>).message;
    const run = async (id: string, seconds: number) => {
      const job = makeJob({ id });
      const running = applyEvent(INITIAL_STATE, { v: 1, jobId: id, at: 1, type: 'started', runnerId: 'r1', attempt: 1 });
      await poster.deliver(job, buildJobMessage(job, running));
      // Cold start: nothing finished yet, no estimate; then the rest of one typical job (10 s).
      expect(last().etaSeconds).toBe(id === 'jeta1' ? undefined : 10);
      now += seconds * 1000;
      const result = makeResult(job);
      await poster.deliver(job, buildJobMessage(job, { phase: 'completed', result, updatedAt: now }), undefined, { result });
      expect(last().etaSeconds).toBeUndefined();
    };
    await run('jeta1', 10);
    await run('jeta2', 20);
    const queued = makeJob({ id: 'jeta3' });
    await poster.deliver(queued, buildJobMessage(queued, { phase: 'queued', position: 3, updatedAt: now }));
    expect(last().etaSeconds).toBe(60); // median of [10, 20] → the upper one of two: 20 s × 3
    await poster.deliver(queued, buildJobMessage(queued, { phase: 'running', progress: { fraction: 0.25 }, updatedAt: now }));
    expect(last().etaSeconds).toBe(15);
  });
});
