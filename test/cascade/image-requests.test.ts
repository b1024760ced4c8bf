/**
 * Image prompts and image-to-image through the engine: a bundle without the encoders still serves text and refuses,
 * before any work, the requests that need one, naming the missing graph.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createCascadeGenerator, type CascadePipeline } from '../../gpu-runner/cascade/index.js';
import { MissingGraphError } from '../../gpu-runner/cascade/bundle.js';
import { FIXTURE_DIR } from './fixture.js';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let bare: CascadePipeline;
let dir: string;
let picture: Uint8Array;

beforeAll(async () => {
  // The fixture without its encoder sections: a bundle made before images-as-prompts.
  dir = await mkdtemp(join(tmpdir(), 'cascade-no-encoders-'));
  await cp(FIXTURE_DIR, dir, { recursive: true, filter: (src) => !src.includes('goldens') });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  delete manifest.imageEncoder;
  delete manifest.effnetEncoder;
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
  bare = await createCascadeGenerator({ bundleDir: dir, provider: 'cpu' });
  picture = new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer());
});
afterAll(async () => {
  await bare?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const base = { kind: 'imagine' as const, prompt: 'a fox', negativePrompt: '', width: 128, height: 128, seeds: [1], chaos: 0 };

describe('GIVEN a bundle without image encoders', () => {
  it('WHEN asked for an image prompt THEN it refuses naming image_encoder.onnx, and stays usable for text', async () => {
    const progress: unknown[] = [];
    const error = await bare.generate({ ...base, imagePrompts: [{ image: picture, weight: 1 }] }, { onProgress: (p) => progress.push(p) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingGraphError);
    expect((error as Error).message).toBe('model cascade-tiny has no image_encoder.onnx (manifest section imageEncoder), which an image prompt needs');
    expect(progress).toEqual([]);
    const out = await bare.generate(base);
    expect(out.images).toHaveLength(1);
  });

  it('WHEN asked for image-to-image THEN it refuses naming effnet_encoder.onnx', async () => {
    const error = await bare.generate({ ...base, init: { image: picture, strength: 0.6 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingGraphError);
    expect((error as Error).message).toContain('has no effnet_encoder.onnx (manifest section effnetEncoder), which image-to-image from a picture needs');
  });
});
