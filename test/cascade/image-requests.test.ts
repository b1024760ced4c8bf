/**
 * Image prompts and image-to-image through the engine: a bundle without the encoders still serves text and refuses,
 * before any work, the requests that need one, naming the missing graph.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createCascadeGenerator, type CascadePipeline } from '../../gpu-runner/cascade/index.ts';
import { MissingGraphError } from '../../gpu-runner/cascade/bundle.ts';
import { FIXTURE_DIR } from './fixture.ts';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let bare: CascadePipeline;
let full: CascadePipeline;
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
  full = await createCascadeGenerator({ bundleDir: FIXTURE_DIR, provider: 'cpu' });
  picture = new Uint8Array(await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer());
});
afterAll(async () => {
  await bare?.dispose();
  await full?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const base = { kind: 'imagine' as const, prompt: 'a fox', negativePrompt: '', width: 128, height: 128, seeds: [1], chaos: 0 };

describe('GIVEN a bundle without image encoders', () => {
  it('WHEN asked for an image prompt THEN it refuses naming image_encoder.onnx, and stays usable for text', async () => {
    const progress: unknown[] = [];
    const error = await bare.generate({ ...base, imagePrompts: [{ image: picture, weight: 1 }] }, { onProgress: (p) => progress.push(p) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingGraphError);
    // The runner ends a job on this code at once, without a retry (gpu-runner/worker-job.ts).
    expect(error).toMatchObject({ code: 'unsupported_request', context: { stage: 'imageEncoder', modelName: 'cascade-tiny' } });
    expect((error as Error).message).toBe('The model cascade-tiny cannot take image prompts: it has no image_encoder.onnx (manifest section imageEncoder).');
    expect(progress).toEqual([]);
    const out = await bare.generate(base);
    expect(out.images).toHaveLength(1);
  });

  it('WHEN asked for image-to-image THEN it refuses naming effnet_encoder.onnx', async () => {
    const error = await bare.generate({ ...base, init: { image: picture, strength: 0.6 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingGraphError);
    expect((error as Error).message).toContain('cannot take image-to-image from a picture: it has no effnet_encoder.onnx (manifest section effnetEncoder).');
  });
});

/** Stage C's output (traced) and the progress steps of one request on the fixture with its encoders. */
async function run(request: Parameters<CascadePipeline['generate']>[0]) {
  const traced = new Map<string, Float32Array>();
  const priorSteps: number[] = [];
  const out = await full.generate(request, { onProgress: (p) => p.stage === 'prior' && priorSteps.push(p.step) }, { trace: (name, data) => traced.set(name, Float32Array.from(data)) });
  return { out, traced, priorSteps, prior: traced.get('prior/out')! };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('GIVEN the fixture bundle with its image encoders', () => {
  it('WHEN a picture is an image prompt THEN Stage C sees it; at weight 0 it is exactly as if absent', async () => {
    const textOnly = await run({ ...base, seeds: [3] });
    const weighted = await run({ ...base, seeds: [3], imagePrompts: [{ image: picture, weight: 1 }] });
    const zero = await run({ ...base, seeds: [3], imagePrompts: [{ image: picture, weight: 0 }] });
    expect(weighted.traced.get('image/embeds')).toHaveLength(24);
    expect(maxDiff(weighted.prior, textOnly.prior)).toBeGreaterThan(1e-3);
    expect(maxDiff(zero.prior, textOnly.prior)).toBe(0);
    expect(weighted.out.timings.imageEncoder).toBeGreaterThanOrEqual(0);
  });

  it('WHEN weights differ THEN each embedding is scaled by its weight (one encoder call for all pictures)', async () => {
    const other = new Uint8Array(await sharp({ create: { width: 48, height: 80, channels: 3, background: '#cc2200' } }).png().toBuffer());
    const ones = await run({ ...base, imagePrompts: [{ image: picture, weight: 1 }, { image: other, weight: 1 }] });
    const scaled = await run({ ...base, imagePrompts: [{ image: picture, weight: 0.5 }, { image: other, weight: 2 }] });
    const a = ones.traced.get('image/embeds')!;
    const b = scaled.traced.get('image/embeds')!;
    expect(a).toHaveLength(48);
    for (let k = 0; k < 24; k++) expect(b[k]).toBeCloseTo(0.5 * a[k]!, 6);
    for (let k = 24; k < 48; k++) expect(b[k]).toBeCloseTo(2 * a[k]!, 6);
    expect(maxDiff(ones.prior, scaled.prior)).toBeGreaterThan(1e-3);
  });

  it('WHEN the prompt is empty THEN the pictures alone drive a variation', async () => {
    const { out, prior } = await run({ ...base, prompt: '', imagePrompts: [{ image: picture, weight: 1 }] });
    expect(out.images).toHaveLength(1);
    expect(prior.every(Number.isFinite)).toBe(true);
  });

  it('WHEN six pictures or a weight above 3 are given THEN the request is refused before any work', async () => {
    const six = Array.from({ length: 6 }, () => ({ image: picture, weight: 1 }));
    await expect(full.generate({ ...base, imagePrompts: six })).rejects.toThrow(/at most 5 image prompts/);
    await expect(full.generate({ ...base, imagePrompts: [{ image: picture, weight: 3.5 }] })).rejects.toThrow(/weight must be in \[0, 3\]/);
    await expect(full.generate({ ...base, init: { image: picture, strength: 0 } })).rejects.toThrow(/strength must be in \(0, 1\]/);
  });

  it('WHEN image-to-image starts from a picture THEN its latent goes through the img2img loop for round(steps · strength) steps', async () => {
    const half = await run({ ...base, seeds: [1, 2], init: { image: picture, strength: 0.5 } });
    expect(half.traced.get('init/latent')).toHaveLength(16 * 3 * 3);
    expect(half.priorSteps).toEqual([1, 2, 3]); // the fixture's 6 steps × 0.5
    const low = await run({ ...base, seeds: [1, 2], init: { image: picture, strength: 0.2 } });
    expect(low.priorSteps).toEqual([1]);
    // Weaker re-noising keeps the start latent closer (the picture's) than stronger re-noising does.
    const start = half.traced.get('init/latent')!;
    const distance = (x: Float32Array) => maxDiff(x.subarray(0, start.length), start);
    expect(distance(low.prior)).toBeLessThan(distance(half.prior));
  });

  it('WHEN the picture is not an image THEN the engine says so', async () => {
    await expect(full.generate({ ...base, imagePrompts: [{ image: new TextEncoder().encode('not a picture'), weight: 1 }] })).rejects.toThrow();
  });
});
