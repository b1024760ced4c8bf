/**
 * Hostile uploads (bot/uploads.ts): every bad picture is refused with a sentence that says what was wrong and what is
 * accepted, nothing is decoded beyond the limits, no URL outside the platform's file hosts is fetched, and a refused
 * job leaves nothing in the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { allowedFileUrl, checkUpload, DISCORD_CDN, fetchPlatformFile, STORED_MAX_SIDE, UPLOAD_LIMITS, UploadError } from '../../bot/uploads.ts';
import { blend, imagine } from '../../bot/commands/index.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { MemoryBlobStore, MemoryEventBus, MemoryJobQueue } from '../bot/support/memory-ports.ts';
import { alice, contextFor } from '../bot/support/fixtures.ts';

async function problemOf(bytes: Uint8Array): Promise<UploadError> {
  const error = await checkUpload(bytes, 'The image').then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UploadError);
  return error as UploadError;
}

const png = async (width: number, height: number, extra: (s: ReturnType<typeof sharp>) => ReturnType<typeof sharp> = (s) => s) =>
  new Uint8Array(await extra(sharp({ create: { width, height, channels: 4, background: { r: 200, g: 30, b: 30, alpha: 0.5 } } })).png().toBuffer());

/** A valid 1×1 PNG whose header claims width × height (a decompression bomb's header), CRC fixed so it parses. */
async function pngClaiming(width: number, height: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(await png(1, 1));
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}

describe('GIVEN pictures sent to the bot', () => {
  it('WHEN a PNG with alpha is sent THEN it is kept as an opaque RGB PNG', async () => {
    const out = await checkUpload(await png(300, 200), 'The image');
    const meta = await sharp(out.png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels, meta.hasAlpha]).toEqual(['png', 300, 200, 3, false]);
  });

  it('WHEN a large JPEG with EXIF orientation is sent THEN it is stored upright and at most STORED_MAX_SIDE px', async () => {
    const jpeg = new Uint8Array(await sharp({ create: { width: 4000, height: 1000, channels: 3, background: '#123456' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const out = await checkUpload(jpeg, 'The image');
    expect([out.width, out.height]).toEqual([STORED_MAX_SIDE / 4, STORED_MAX_SIDE]);
  });

  it('WHEN the bytes are not a picture (text, SVG, HTML posing as .png) THEN it is refused, naming the accepted formats', async () => {
    for (const text of ['hello', '<svg xmlns="http://www.w3.org/2000/svg"><image href="http://169.254.169.254/"/></svg>', '<html>not an image</html>']) {
      const error = await problemOf(new TextEncoder().encode(text));
      expect(error.problem).toBe('not_an_image');
      expect(error.message).toMatch(/still PNG, JPEG or WebP/);
    }
  });

  it('WHEN a GIF or an animated WebP is sent THEN it is refused as animated / not accepted', async () => {
    const gif = new Uint8Array(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).gif().toBuffer());
    expect((await problemOf(gif)).problem).toBe('unsupported_format');
    const frame = (colour: string) => sharp({ create: { width: 8, height: 8, channels: 3, background: colour } }).png().toBuffer();
    const animated = new Uint8Array(await sharp([await frame('#0f0'), await frame('#00f')], { join: { animated: true } }).webp({ loop: 0, delay: [100, 100] }).toBuffer());
    const error = await problemOf(animated);
    expect(error.problem).toBe('animated');
    expect(error.message).toMatch(/animated \(2 frames\)/);
  });

  it('WHEN a header claims a decompression bomb (50 000 × 50 000) THEN it is refused from the header, before decoding', async () => {
    const bomb = await pngClaiming(50_000, 50_000);
    const started = performance.now();
    const error = await problemOf(bomb);
    expect(error.problem).toBe('too_many_pixels');
    expect(error.message).toBe('The image is 50000×50000 px; at most 36 megapixels and 12000 px a side are accepted. Send a smaller picture.');
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await problemOf(await pngClaiming(20_000, 10)))).toMatchObject({ problem: 'too_many_pixels' });
  });

  it('WHEN a file is over the byte limit THEN it is refused unread; a truncated PNG is refused as damaged', async () => {
    const big = new Uint8Array(UPLOAD_LIMITS.maxBytes + 1);
    big.set([0x89, 0x50, 0x4e, 0x47]);
    expect((await problemOf(big)).message).toMatch(/is 10\.0 MiB; the limit is 10\.0 MiB/);
    const whole = await png(64, 64, (s) => s.png({ compressionLevel: 0 }));
    const error = await problemOf(whole.subarray(0, Math.floor(whole.length / 2)));
    expect(error.problem).toBe('not_an_image');
  });
});

describe('GIVEN image links', () => {
  it('THEN only https on Discord CDN hosts, default port, no credentials, is allowed', () => {
    expect(allowedFileUrl('https://cdn.discordapp.com/attachments/1/2/a.png?ex=1', DISCORD_CDN).hostname).toBe('cdn.discordapp.com');
    expect(allowedFileUrl('https://media.discordapp.net/attachments/1/2/a.png', DISCORD_CDN).hostname).toBe('media.discordapp.net');
    for (const bad of [
      'http://cdn.discordapp.com/a.png',
      'https://cdn.discordapp.com.evil.example/a.png',
      'https://evil.example/cdn.discordapp.com/a.png',
      'https://user:pw@cdn.discordapp.com/a.png',
      'https://cdn.discordapp.com:8443/a.png',
      'file:///etc/passwd',
      'https://169.254.169.254/latest/meta-data/',
      'https://127.0.0.1/a.png',
      'not a url',
    ]) {
      expect(() => allowedFileUrl(bad, DISCORD_CDN), bad).toThrow(UploadError);
    }
  });

  describe('AND a platform file host (loopback stand-in)', () => {
    let server: Server;
    let base: string;
    const source = { hosts: ['files.example'], allowInsecureLoopback: true, headers: { authorization: 'Bearer xoxb-test' } };
    const seen: string[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
        if (req.url === '/ok') return void res.end(Buffer.from('picture-bytes'));
        if (req.url === '/redirect') return void res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
        if (req.url === '/huge') {
          // No content-length: the cap must hold while reading.
          res.writeHead(200, { 'transfer-encoding': 'chunked' });
          const chunk = Buffer.alloc(1024 * 1024);
          let sent = 0;
          const pump = () => {
            while (sent < 12 && res.write(chunk)) sent++;
            if (sent < 12) res.once('drain', pump);
            else res.end();
          };
          return void pump();
        }
        if (req.url === '/declared') return void res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) }).end();
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('WHEN the file is there THEN its bytes come back, fetched with the platform token', async () => {
      expect(new TextDecoder().decode(await fetchPlatformFile(`${base}/ok`, source))).toBe('picture-bytes');
      expect(seen.at(-1)).toBe('/ok Bearer xoxb-test');
    });

    it('WHEN the host redirects (e.g. to the metadata service) THEN the redirect is not followed', async () => {
      await expect(fetchPlatformFile(`${base}/redirect`, source)).rejects.toMatchObject({ problem: 'download_failed' });
    });

    it('WHEN the file is larger than the limit (declared or streamed) THEN the download stops at the limit', async () => {
      await expect(fetchPlatformFile(`${base}/declared`, source)).rejects.toMatchObject({ problem: 'too_large' });
      await expect(fetchPlatformFile(`${base}/huge`, source)).rejects.toMatchObject({ problem: 'too_large' });
    });

    it('WHEN the host answers 404 THEN the refusal says so', async () => {
      await expect(fetchPlatformFile(`${base}/gone`, source)).rejects.toThrow(/answered 404/);
    });
  });
});

describe('GIVEN commands with pictures', () => {
  let blobs: MemoryBlobStore;
  let queue: MemoryJobQueue;
  let deps: BotDeps;
  beforeEach(() => {
    blobs = new MemoryBlobStore();
    queue = new MemoryJobQueue();
    deps = { queue, events: new MemoryEventBus(), blobs, moderation: createModerationPolicy({ blocklist: [], restrictedOnly: [] }), randomSeed: () => 5, now: () => Date.parse('2026-12-07T10:00:00Z'), maxPendingPerUser: 1 };
  });
  const inputKeys = async () => (await blobs.list('jobs/')).filter((key) => key.includes('/inputs/'));

  it('WHEN one picture of several is bad THEN the command is refused naming it, and nothing is stored or queued', async () => {
    const reply = await imagine(deps, contextFor(alice), 'a fox', {}, undefined, [await png(64, 64), new TextEncoder().encode('oops')]);
    expect(reply).toEqual({ kind: 'rejected', code: 'bad_upload', message: expect.stringMatching(/^Image 2 is not a picture/) });
    expect(queue.sent).toHaveLength(0);
    expect(await inputKeys()).toEqual([]);
  });

  it('WHEN the job is refused at the cap THEN its pictures are removed again', async () => {
    expect(await imagine(deps, contextFor(alice, { sourceId: 'd:1' }), 'first')).toMatchObject({ kind: 'accepted' });
    const reply = await blend(deps, contextFor(alice, { sourceId: 'd:2' }), [await png(32, 32), await png(40, 40)], 'portrait');
    expect(reply).toMatchObject({ kind: 'rejected', code: 'too_many_pending' });
    expect(await inputKeys()).toEqual([]);
  });

  it('WHEN six pictures come with /blend or one THEN it is refused before anything is read', async () => {
    const one = await png(16, 16);
    expect(await blend(deps, contextFor(alice), [one])).toMatchObject({ kind: 'rejected', message: '/blend needs 2 to 5 pictures; 1 was given.' });
    expect(await blend(deps, contextFor(alice), Array.from({ length: 6 }, () => one))).toMatchObject({ kind: 'rejected', message: '/blend needs 2 to 5 pictures; 6 were given.' });
    expect(await blend(deps, contextFor(alice), [one, one], 'round')).toMatchObject({ kind: 'rejected', message: '/blend shape must be one of square, portrait, landscape.' });
  });
});
