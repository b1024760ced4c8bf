/** A tile's download: the stored PNG, unchanged pixels, with its parameters in text chunks that sharp reads back. */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { tileDownload } from '../../bot/web/download.ts';
import { makeJob, makeResult, storeJob } from '../bot/support/fixtures.ts';
import { MemoryBlobStore } from '../bot/support/memory-ports.ts';

async function storedTile(blobs: MemoryBlobStore, key: string): Promise<Buffer> {
  const png = await sharp({ create: { width: 96, height: 64, channels: 3, background: { r: 10, g: 120, b: 230 } } }).png().toBuffer();
  await blobs.put(key, png, 'image/png');
  return png;
}

describe('GIVEN a finished job', () => {
  it('WHEN a tile is downloaded THEN the file is the stored PNG plus text chunks with prompt, negative prompt, seed, size, options, the reproduce line, model and job', async () => {
    const blobs = new MemoryBlobStore();
    const job = makeJob({ id: 'jdl1', request: { prompt: 'a lighthouse 灯台 🌊', negativePrompt: 'fog', aspect: { w: 3, h: 2 }, size: 'medium', seed: 42, chaos: 0, lite: false, count: 4 } });
    const result = makeResult(job);
    storeJob(blobs, job, result);
    const stored = await storedTile(blobs, result.images[1]!.key);

    const file = await tileDownload(blobs, job.id, 2);
    if ('error' in file) throw new Error(file.error);
    expect(file.fileName).toBe('cascade-jdl1-2.png');
    const meta = await sharp(file.bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 96, 64]);
    const text = Object.fromEntries((meta.comments ?? []).map((c) => [c.keyword, c.text]));
    expect(Object.keys(text)).toEqual(['prompt', 'negative_prompt', 'seed', 'size', 'options', 'reproduce', 'model', 'job']);
    expect(text).toMatchObject({ prompt: 'a lighthouse 灯台 🌊', negative_prompt: 'fog', seed: '1001', size: '96x64', model: 'demo (tiny)', job: 'jdl1 tile 2' });
    expect(text.options).toContain('--seed 1001');
    expect(text.reproduce).toBe(`/imagine a lighthouse 灯台 🌊 ${text.options}`);
    expect((await sharp(file.bytes).raw().toBuffer()).equals(await sharp(stored).raw().toBuffer())).toBe(true);
  });

  it('WHEN the tile does not exist or its image is gone THEN the answer is a 404 with a sentence', async () => {
    const blobs = new MemoryBlobStore();
    const job = makeJob({ id: 'jdl2' });
    storeJob(blobs, job, makeResult(job, 1));
    expect(await tileDownload(blobs, job.id, 3)).toEqual({ status: 404, error: 'Job jdl2 has no finished image 3 (deleted, expired or not done yet).' });
    expect(await tileDownload(blobs, job.id, 1)).toEqual({ status: 404, error: 'The image 1 of job jdl2 is no longer stored.' });
    expect(await tileDownload(blobs, 'jnone', 1)).toMatchObject({ status: 404 });
  });
});
