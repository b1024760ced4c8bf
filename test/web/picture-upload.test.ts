/**
 * POST /api/imagine (the playground's prompt with pictures) over HTTP against the emulator: multipart forms as the
 * page's FormData sends them, behind the playground's session and origin checks; per-picture weights and the start
 * image reach the job; malformed, oversized and hostile uploads get a sentence and leave nothing behind.
 */
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobSchema } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { WebPoster } from '../../bot/web/poster.ts';
import { MAX_PICTURE_FORM_BYTES } from '../../bot/web/picture-form.ts';
import { startWebPlayground, type WebPlayground } from '../../bot/web/server.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';

let emulator: TestEmulator;
let web: WebPlayground;
let session = '';
let png: Uint8Array;

beforeAll(async () => {
  emulator = await startTestEmulator();
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), maxPendingPerUser: 20 };
  web = await startWebPlayground({ bot, poster: new WebPoster(emulator.ports.blobs), port: 0 });
  session = ((await fetch(web.url)).headers.get('set-cookie') ?? '').split(';')[0]!;
  png = new Uint8Array(await sharp({ create: { width: 90, height: 60, channels: 3, background: '#248' } }).png().toBuffer());
});
afterAll(async () => {
  await web?.stop();
  await emulator?.stop();
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
});

function form(fields: Record<string, string>, files: Array<{ bytes: Uint8Array; name?: string; type?: string; weight?: string }>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  for (const file of files) {
    data.append('image', new Blob([Buffer.from(file.bytes)], { type: file.type ?? 'image/png' }), file.name ?? 'x.png');
    if (file.weight !== undefined) data.append('weight', file.weight);
  }
  return data;
}

const post = (body: BodyInit, headers: Record<string, string> = {}) => fetch(new URL('/api/imagine', web.url), { method: 'POST', body, headers: { cookie: session, ...headers } });
const inputs = async () => (await emulator.ports.blobs.list('jobs/')).filter((key) => key.includes('/inputs/'));

describe('GIVEN the playground session', () => {
  it('WHEN a prompt comes with two pictures and their weights THEN one job has them as image prompts with those weights', async () => {
    const response = await post(form({ text: '/imagine a harbour at night --seed 5', requestId: 'req-pictures-0001' }, [{ bytes: png, weight: '0.5' }, { bytes: png, weight: '2' }]));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.requester.platform).toBe('web');
    expect(job.request).toMatchObject({ prompt: 'a harbour at night', seed: 5 });
    expect(job.request.imagePrompts).toEqual([{ key: jobKeys.input(job.id, 0), weight: 0.5 }, { key: jobKeys.input(job.id, 1), weight: 2 }]);
  });

  it('WHEN the first picture is the start image (strength) THEN the job starts from it and only the second is an image prompt', async () => {
    const response = await post(form({ text: 'a harbour at dawn', strength: '0.4', requestId: 'req-pictures-0002' }, [{ bytes: png, weight: '1' }, { bytes: png, weight: '1.5' }]));
    expect(await response.json()).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ initImage: { key: jobKeys.input(job.id, 0), strength: 0.4 }, imagePrompts: [{ key: jobKeys.input(job.id, 1), weight: 1.5 }], aspect: { w: 3, h: 2 } });
  });

  it('WHEN /blend landscape comes with three pictures THEN one text-less job blends them; with one picture it is refused', async () => {
    expect(await (await post(form({ text: '/blend landscape', requestId: 'req-pictures-0003' }, [{ bytes: png }, { bytes: png }, { bytes: png }]))).json()).toMatchObject({ kind: 'accepted' });
    const job = JobSchema.parse((await takeJobs(emulator.ports.queue))[0]);
    expect(job.request).toMatchObject({ prompt: '', aspect: { w: 3, h: 2 } });
    expect(job.request.imagePrompts).toHaveLength(3);
    expect(await (await post(form({ text: '/blend' }, [{ bytes: png }]))).json()).toMatchObject({ kind: 'rejected', message: '/blend needs 2 to 5 pictures; 1 was given.' });
  });

  it('WHEN the form is malformed, oversized, another command, or the pictures are no pictures THEN a sentence each, nothing queued or stored', async () => {
    const before = await inputs();
    const cases: Array<[Promise<Response>, number, string]> = [
      [post(JSON.stringify({ text: 'x' }), { 'content-type': 'application/json' }), 415, 'multipart/form-data'],
      [post(form({ text: 'x' }, [])), 400, 'form field "image"'],
      [post(form({ text: 'x' }, Array.from({ length: 6 }, () => ({ bytes: png })))), 400, 'More than 5 pictures were given; at most 5 are used'],
      [post(form({ text: 'x' }, [{ bytes: png, weight: '7' }])), 400, 'weight of picture 1 must be a number from 0 to 3'],
      [post(form({ text: 'x' }, [{ bytes: png, weight: '1' }, { bytes: png }])), 400, 'one "weight" per picture'],
      [post('--b\r\nnot a form', { 'content-type': 'multipart/form-data; boundary=b' }), 400, 'not a well-formed multipart form'],
      [post(form({ text: '/settings --ar 3:2' }, [{ bytes: png }])), 200, 'Pictures go with /imagine'],
      [post(form({ text: 'x' }, [{ bytes: new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'), type: 'image/png' }])), 200, 'is not a picture this bot reads'],
      [post(form({ text: 'x --strength 0' }, [{ bytes: png }])), 200, '--strength 0: must be a number above 0'],
    ];
    for (const [pending, status, message] of cases) {
      const response = await pending;
      const body = (await response.json()) as { kind: string; message: string };
      expect([response.status, body.kind, body.message]).toEqual([status, 'rejected', expect.stringContaining(message)]);
    }
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
    expect(await inputs()).toEqual(before);
  });

  it('WHEN one streamed picture is over 10 MiB THEN 413 naming it, and nothing is queued', async () => {
    const response = await post(form({ text: 'x' }, [{ bytes: png }, { bytes: new Uint8Array(10 * 1024 * 1024 + 1) }]));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toBe('Picture 2 is over 10 MiB, the limit for one picture.');
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
  });

  it('WHEN the declared body is over the limit THEN 413 before it is read', async () => {
    const big = new Uint8Array(MAX_PICTURE_FORM_BYTES + 1);
    const response = await post(big, { 'content-type': 'multipart/form-data; boundary=b' });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { message: string }).message).toContain('at most 5 pictures of 10 MiB each');
  });
});

describe('GIVEN no session, or another site', () => {
  it('THEN the upload is refused before anything is read', async () => {
    const noSession = await fetch(new URL('/api/imagine', web.url), { method: 'POST', body: form({ text: 'x' }, [{ bytes: png }]) });
    expect(noSession.status).toBe(401);
    const crossOrigin = await post(form({ text: 'x' }, [{ bytes: png }]), { origin: 'https://evil.example' });
    expect(crossOrigin.status).toBe(403);
    expect(await takeJobs(emulator.ports.queue)).toEqual([]);
  });
});
