/**
 * Fixed-shape graph buckets (issue #25): the graph-file rewrite (onnx-dims.ts), the bucket tool (buckets.ts,
 * bin/model-buckets.ts) on copies of the fixture bundle in temporary folders, and the engine's choice of file per
 * call (sessions.ts) — a bucket when the feeds' shapes are the bucket's, the dynamic graph otherwise — on the CPU
 * provider. The fixture's own files are never modified.
 */
import { cp, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBucketArgs } from '../../bin/model-buckets.ts';
import { BundleError, loadBundle } from '../../gpu-runner/cascade/bundle.ts';
import { bindSymbols, bucketInputShapes, matchBucket, writeBucketGraphs } from '../../gpu-runner/cascade/buckets.ts';
import { createCascadeGenerator } from '../../gpu-runner/cascade/index.ts';
import { ManifestSchema, type Manifest } from '../../gpu-runner/cascade/manifest.ts';
import { fixSymbolicDims, graphInputShapes } from '../../gpu-runner/cascade/onnx-dims.ts';
import { ModelSession, tensor, type Tensor } from '../../gpu-runner/cascade/runtime.ts';
import { SessionPool } from '../../gpu-runner/cascade/sessions.ts';
import type { GenerateRequest } from '../../gpu-runner/generator.ts';
import { FIXTURE_DIR, maxAbsDiff } from './fixture.ts';

const EXTERNAL_DIR = join(import.meta.dirname, '../fixtures/external-data');

/** Deterministic values in [-1, 1) for every input of `shapes` (timestep_ratio in (0, 1)). */
function feedsFor(shapes: Record<string, number[]>, seed: number): Record<string, Tensor> {
  let state = seed >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const feeds: Record<string, Tensor> = {};
  for (const [name, dims] of Object.entries(shapes)) {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = name === 'timestep_ratio' ? 0.05 + 0.9 * next() : 2 * next() - 1;
    feeds[name] = tensor(data, dims);
  }
  return feeds;
}

async function tempCopy(dir: string, prefix: string): Promise<string> {
  const target = await mkdtemp(join(tmpdir(), prefix));
  await cp(dir, target, { recursive: true });
  return target;
}

let fixtureManifest: Manifest;
beforeAll(async () => {
  fixtureManifest = ManifestSchema.parse(JSON.parse(await readFile(join(FIXTURE_DIR, 'manifest.json'), 'utf8')));
});

describe('GIVEN the fixture Stage C graph bytes', () => {
  it('WHEN batch/height/width are fixed THEN those inputs read as numbers, the rest stay symbolic and are reported', async () => {
    const bytes = await readFile(join(FIXTURE_DIR, 'prior.onnx'));
    expect(graphInputShapes(bytes).get('sample')).toEqual(['batch', 16, 'height', 'width']);
    const result = fixSymbolicDims(bytes, { batch: 2, height: 3, width: 5 });
    const shapes = graphInputShapes(result.bytes);
    expect(shapes.get('sample')).toEqual([2, 16, 3, 5]);
    expect(shapes.get('clip_text')).toEqual([2, 'tokens', 32]);
    expect(result.fixed.sort()).toEqual(['batch', 'height', 'width']);
    expect(result.remaining.filter((u) => u.kind === 'input').map((u) => `${u.value}:${u.symbol}`)).toEqual(['clip_text:tokens', 'clip_img:images']);
    expect(() => fixSymbolicDims(bytes, { batch: 0 })).toThrow(/batch must be a positive integer/);
  });

  it('WHEN shapes disagree with the graph THEN bindSymbols names the input, axis and values', async () => {
    const inputs = graphInputShapes(await readFile(join(FIXTURE_DIR, 'prior.onnx')));
    const good = bucketInputShapes(fixtureManifest, { stage: 'prior', rows: 2, height: 3, width: 3 });
    expect(bindSymbols(inputs, good)).toEqual({ batch: 2, height: 3, width: 3, tokens: 77, images: 1 });
    expect(() => bindSymbols(inputs, { ...good, sample: [2, 15, 3, 3] })).toThrow(/input sample axis 1 is fixed at 16, the bucket gives 15/);
    expect(() => bindSymbols(inputs, { ...good, clip_text: [4, 77, 32] })).toThrow(/symbol batch would be both 2 and 4/);
    expect(() => bindSymbols(inputs, { ...good, extra: [1] })).toThrow(/the graph has no input extra/);
  });
});

describe('GIVEN a graph whose weights live in an external-data file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempCopy(EXTERNAL_DIR, 'bucket-external-');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('THEN its fixed-shape copy is as small as the graph file, reads the same .data file and gives the same output', async () => {
    const bytes = await readFile(join(dir, 'conv.onnx'));
    const fixed = fixSymbolicDims(bytes, { batch: 2, height: 5, width: 7 });
    await writeFile(join(dir, 'conv.b2-5x7.onnx'), fixed.bytes);
    expect(fixed.bytes.length).toBeLessThan(bytes.length + 16);
    expect((await stat(join(dir, 'conv.onnx.data'))).size).toBeGreaterThan(fixed.bytes.length); // the weights are not in it
    const feeds = feedsFor({ sample: [2, 4, 5, 7] }, 3);
    const dynamic = await ModelSession.open(join(dir, 'conv.onnx'), { provider: 'cpu', label: 'dynamic' });
    const bucket = await ModelSession.open(join(dir, 'conv.b2-5x7.onnx'), { provider: 'cpu', label: 'bucket' });
    expect(bucket.inputs[0]!.shape).toEqual([2, 4, 5, 7]);
    expect(dynamic.inputs[0]!.shape).toEqual(['batch', 4, 'height', 'width']);
    const a = (await dynamic.run(feeds)).eps!;
    const b = (await bucket.run(feeds)).eps!;
    expect(b.dims).toEqual([2, 4, 5, 7]);
    expect(maxAbsDiff(a.data as Float32Array, b.data as Float32Array)).toBeLessThanOrEqual(1e-6);
    await Promise.all([dynamic.release(), bucket.release()]);
    await unlink(join(dir, 'conv.onnx.data'));
    await expect(ModelSession.open(join(dir, 'conv.b2-5x7.onnx'), { provider: 'cpu', label: 'bucket' })).rejects.toThrow(/conv\.onnx\.data|external/i);
  });
});

describe('GIVEN a copy of the fixture bundle with the buckets of a 4-image 128×128 grid', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempCopy(FIXTURE_DIR, 'bucket-bundle-');
    const specs = parseBucketArgs(fixtureManifest, ['128x128:4'], ['prior:2:3x3'], true);
    await writeBucketGraphs(dir, specs);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('THEN the manifest declares each bucket with its file, sha256 and shapes, and the bundle loads (hashes checked)', async () => {
    const bundle = await loadBundle(dir);
    const m = bundle.manifest;
    expect(m.prior.buckets.map((b) => b.file)).toEqual(['prior.b8-3x3.onnx', 'prior.b2-3x3.onnx']);
    expect(m.prior.buckets[0]!.inputs.sample).toEqual([8, 16, 3, 3]); // CFG 4: 4 images → 8 rows
    expect(m.decoder.buckets.map((b) => [b.file, b.inputs.sample, b.inputs.effnet])).toEqual([['decoder.b4-32x32.onnx', [4, 4, 32, 32], [4, 16, 3, 3]]]);
    expect(m.vqgan.buckets.map((b) => b.file)).toEqual(['vqgan_decoder.b4-32x32.onnx']);
    expect(m.previewer?.buckets.map((b) => b.file)).toEqual(['previewer.b4-3x3.onnx']);
    expect(m.prior.buckets.every((b) => b.warm && /^[0-9a-f]{64}$/.test(b.sha256 ?? ''))).toBe(true);
    expect(m.textEncoder.buckets).toEqual([]);
  });

  it('THEN each bucket graph gives the dynamic graph\'s output for the same feeds (CPU provider)', async () => {
    const m = (await loadBundle(dir)).manifest;
    for (const stage of ['prior', 'decoder', 'vqgan', 'previewer'] as const) {
      const graph = m[stage]!;
      const dynamic = await ModelSession.open(join(dir, graph.file), { provider: 'cpu', label: stage });
      for (const bucket of graph.buckets) {
        const session = await ModelSession.open(join(dir, bucket.file), { provider: 'cpu', label: bucket.file });
        const feeds = feedsFor(bucket.inputs, 17);
        const want = await dynamic.run(feeds);
        const got = await session.run(feeds);
        for (const [name, value] of Object.entries(want)) {
          expect(got[name]!.dims, `${bucket.file} ${name}`).toEqual(value.dims);
          expect(maxAbsDiff(got[name]!.data as Float32Array, value.data as Float32Array), `${bucket.file} ${name}`).toBeLessThanOrEqual(1e-5);
        }
        await session.release();
      }
      await dynamic.release();
    }
  });

  it('THEN the pool runs the bucket whose shapes the feeds have, and the dynamic graph for any other shape', async () => {
    const bundle = await loadBundle(dir, { checkHashes: false });
    const pool = new SessionPool(bundle, 'cpu', { lowMemory: false });
    try {
      await pool.validateAll();
      // Warm buckets are open from the start; a stage with one has not opened its dynamic graph.
      expect(pool.openFiles()).toEqual(expect.arrayContaining(['prior.b8-3x3.onnx', 'prior.b2-3x3.onnx', 'decoder.b4-32x32.onnx', 'vqgan_decoder.b4-32x32.onnx', 'text_encoder.onnx']));
      expect(pool.openFiles()).not.toContain('prior.onnx');
      const prior = await pool.get('prior');
      const at = (rows: number, h: number, w: number) => feedsFor(bucketInputShapes(bundle.manifest, { stage: 'prior', rows, height: h, width: w }), rows);
      await prior.run(at(8, 3, 3));
      expect(prior.lastFile).toBe('prior.b8-3x3.onnx');
      await prior.run(at(2, 3, 3));
      expect(prior.lastFile).toBe('prior.b2-3x3.onnx');
      await prior.run(at(6, 3, 3));
      expect(prior.lastFile).toBe('prior.onnx');
      await prior.run(at(2, 2, 6));
      expect(prior.lastFile).toBe('prior.onnx');
      // Two clip_img groups (two image prompts): no bucket has that shape.
      const twoGroups = at(2, 3, 3);
      twoGroups.clip_img = tensor(new Float32Array(2 * 2 * 24), [2, 2, 24]);
      await prior.run(twoGroups);
      expect(prior.lastFile).toBe('prior.onnx');
      expect(pool.sessionStats().prior?.runs).toBe(5);
    } finally {
      await pool.releaseAll();
    }
  });

  it('THEN in low-memory mode at most one session is open: validation leaves none, each call opens only its own', async () => {
    const bundle = await loadBundle(dir, { checkHashes: false });
    const pool = new SessionPool(bundle, 'cpu', { lowMemory: true });
    try {
      await pool.validateAll();
      expect(pool.openFiles()).toEqual([]);
      const prior = await pool.get('prior');
      const at = (rows: number) => feedsFor(bucketInputShapes(bundle.manifest, { stage: 'prior', rows, height: 3, width: 3 }), rows);
      await prior.run(at(8));
      expect(pool.openFiles()).toEqual(['prior.b8-3x3.onnx']);
      await prior.run(at(6));
      expect(pool.openFiles()).toEqual(['prior.onnx']);
      await pool.done('prior');
      expect(pool.openFiles()).toEqual([]);
    } finally {
      await pool.releaseAll();
    }
  });

  it('THEN a 4-image grid through the engine gives the same pixels as the bundle without buckets, having run the buckets', async () => {
    const request: GenerateRequest = { kind: 'imagine', prompt: 'a red square', negativePrompt: '', width: 128, height: 128, seeds: [1, 2, 3, 4], chaos: 0 };
    const plain = await createCascadeGenerator({ bundleDir: FIXTURE_DIR, provider: 'cpu' });
    const bucketed = await createCascadeGenerator({ bundleDir: dir, provider: 'cpu' });
    try {
      const a = await plain.generate(request);
      const b = await bucketed.generate(request);
      for (let i = 0; i < 4; i++) {
        const diff = a.images[i]!.data.reduce((worst, v, k) => Math.max(worst, Math.abs(v - b.images[i]!.data[k]!)), 0);
        expect(diff, `tile ${i}`).toBeLessThanOrEqual(1);
        // Fixed shapes let onnxruntime pick other kernels (float rounding); 10 guided steps carry it to ~5e-4, the
        // same size as the batch-vs-alone difference the pipeline tests allow.
        expect(maxAbsDiff(a.latents[i]!.data, b.latents[i]!.data), `tile ${i} latent`).toBeLessThan(1e-3);
      }
      // Stage C, B and A ran on bucket files: no dynamic session of those stages was opened.
      expect(bucketed.sessionStats().prior?.runs).toBe(fixtureManifest.prior.sampler.steps);
      const open = bucketed.openGraphFiles();
      expect(open).toEqual(expect.arrayContaining(['prior.b8-3x3.onnx', 'decoder.b4-32x32.onnx', 'vqgan_decoder.b4-32x32.onnx']));
      for (const dynamic of ['prior.onnx', 'decoder.onnx', 'vqgan_decoder.onnx']) expect(open).not.toContain(dynamic);
    } finally {
      await Promise.all([plain.dispose(), bucketed.dispose()]);
    }
  });
});

describe('GIVEN bucket declarations that do not hold', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempCopy(FIXTURE_DIR, 'bucket-bad-');
    await writeBucketGraphs(dir, parseBucketArgs(fixtureManifest, [], ['prior:2:3x3', 'prior:4:3x3'], false));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function withManifest(edit: (m: Record<string, Record<string, unknown>>) => void): Promise<string> {
    const copy = await tempCopy(dir, 'bucket-bad-edit-');
    const raw = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    edit(raw);
    await writeFile(join(copy, 'manifest.json'), JSON.stringify(raw));
    return copy;
  }

  it('WHEN two buckets declare the same shapes, or a bucket file is missing THEN the bundle is refused at load', async () => {
    const duplicate = await withManifest((m) => {
      const buckets = m.prior!.buckets as { file: string }[];
      m.prior!.buckets = [buckets[0], { ...buckets[0]!, file: buckets[1]!.file, sha256: undefined }];
    });
    await expect(loadBundle(duplicate, { checkHashes: false })).rejects.toThrow(/prior\.buckets\[1\] has the same input shapes as prior\.buckets\[0\]/);
    const missing = await withManifest((m) => {
      (m.prior!.buckets as { file: string }[])[0]!.file = 'prior.b9-9x9.onnx';
    });
    await expect(loadBundle(missing, { checkHashes: false })).rejects.toThrow(/prior\.buckets\[0\]\.file: file prior\.b9-9x9\.onnx is missing/);
    await Promise.all([rm(duplicate, { recursive: true }), rm(missing, { recursive: true })]);
  });

  it('WHEN a bucket file has other shapes than declared THEN the first call that fits the declaration fails naming both', async () => {
    // Swap the files of the 2-row and 4-row buckets (hashes off): the declaration says 2 rows, the graph takes 4.
    const swapped = await withManifest((m) => {
      const [two, four] = m.prior!.buckets as { file: string; sha256?: string }[];
      [two!.file, four!.file] = [four!.file, two!.file];
      delete two!.sha256;
      delete four!.sha256;
    });
    const bundle = await loadBundle(swapped, { checkHashes: false });
    const pool = new SessionPool(bundle, 'cpu', { lowMemory: false });
    try {
      const prior = await pool.get('prior');
      const feeds = feedsFor(bucketInputShapes(bundle.manifest, { stage: 'prior', rows: 2, height: 3, width: 3 }), 5);
      const error = await prior.run(feeds).then(() => undefined, (err: unknown) => err);
      expect(error).toBeInstanceOf(BundleError);
      expect(String(error)).toMatch(/prior bucket prior\.b4-3x3\.onnx: input sample has shape \[4, 16, 3, 3\], the manifest declares \[2, 16, 3, 3\]/);
    } finally {
      await pool.releaseAll();
      await rm(swapped, { recursive: true });
    }
  });

  it('WHEN cold buckets outnumber maxColdBuckets THEN the least recently used one is closed', async () => {
    const bundle = await loadBundle(dir, { checkHashes: false });
    const pool = new SessionPool(bundle, 'cpu', { lowMemory: false, maxColdBuckets: 1 });
    try {
      const prior = await pool.get('prior');
      const at = (rows: number) => feedsFor(bucketInputShapes(bundle.manifest, { stage: 'prior', rows, height: 3, width: 3 }), rows);
      await prior.run(at(2));
      expect(pool.openFiles()).toEqual(['prior.b2-3x3.onnx']);
      await prior.run(at(4));
      expect(pool.openFiles()).toEqual(['prior.b4-3x3.onnx']);
      await prior.run(at(6));
      expect(pool.openFiles().sort()).toEqual(['prior.b4-3x3.onnx', 'prior.onnx']);
    } finally {
      await pool.releaseAll();
    }
  });
});

describe('GIVEN the bucket arguments', () => {
  it('THEN a grid gives Stage C at 2N rows when guided, Stage B and A at N, and bad values are named', () => {
    const specs = parseBucketArgs(fixtureManifest, ['256x128:2', '256x128:2'], [], false);
    expect(specs.map((s) => `${s.stage}:${s.rows}:${s.height}x${s.width}`)).toEqual(['prior:4:3x6', 'decoder:2:32x64', 'vqgan:2:32x64', 'previewer:2:3x6']);
    expect(() => parseBucketArgs(fixtureManifest, ['1024'], [], false)).toThrow(/--grid 1024: expected WxH:N/);
    expect(() => parseBucketArgs(fixtureManifest, [], ['effnetEncoder:1:3x3'], false)).toThrow(/stage must be one of prior, decoder/);
    expect(() => parseBucketArgs(fixtureManifest, [], ['prior:0:3x3'], false)).toThrow(/--bucket rows must be a positive integer/);
  });

  it('THEN matchBucket wants every input at exactly the declared dims', () => {
    const buckets = [{ inputs: { a: [1, 2], b: [3] } }, { inputs: { a: [2, 2], b: [3] } }];
    expect(matchBucket(buckets, { a: [2, 2], b: [3] })).toBe(buckets[1]);
    expect(matchBucket(buckets, { a: [2, 2] })).toBeUndefined();
    expect(matchBucket(buckets, { a: [2, 2], b: [3], c: [1] })).toBeUndefined();
    expect(matchBucket(buckets, { a: [2, 2, 1], b: [3] })).toBeUndefined();
  });
});
