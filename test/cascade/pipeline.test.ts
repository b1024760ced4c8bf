/**
 * The engine end to end on the fixture bundle (CPU provider): determinism, per-tile seeds, chaos, variation and
 * upscale shapes and determinism, cancellation mid-loop, low-memory mode, input errors.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerateOutput, GenerateProgress, GenerateRequest } from '../../gpu-runner/generator.ts';
import { createCascadeGenerator, type CascadePipeline } from '../../gpu-runner/cascade/index.ts';
import type { NoiseWorker } from '../../gpu-runner/cascade/noise-worker.ts';
import { seededStageNoise } from '../../gpu-runner/cascade/stages/seeds.ts';
import { FIXTURE_DIR, maxAbsDiff } from './fixture.ts';

let generator: CascadePipeline;
beforeAll(async () => {
  generator = await createCascadeGenerator({ bundleDir: FIXTURE_DIR, provider: 'cpu' });
});
afterAll(async () => {
  await generator?.dispose();
});

const imagine = (over: Partial<Extract<GenerateRequest, { kind: 'imagine' }>> = {}): GenerateRequest => ({
  kind: 'imagine', prompt: 'a castle on a hill', negativePrompt: 'fog', width: 128, height: 128, seeds: [11, 22], chaos: 0, ...over,
});

function sameBytes(a: GenerateOutput, b: GenerateOutput): boolean {
  return a.images.every((img, i) => Buffer.from(img.data).equals(Buffer.from(b.images[i]!.data))) &&
    a.latents.every((l, i) => Buffer.from(l.data.buffer).equals(Buffer.from(b.latents[i]!.data.buffer)));
}

describe('GIVEN the fixture engine on the CPU provider', () => {
  it('WHEN the same request runs twice THEN images and latents are identical bytes; another seed differs', async () => {
    const a = await generator.generate(imagine());
    const b = await generator.generate(imagine());
    expect(a.images.map((i) => [i.width, i.height, i.data.length])).toEqual([[128, 128, 128 * 128 * 3], [128, 128, 128 * 128 * 3]]);
    expect(a.latents.map((l) => l.dims)).toEqual([[16, 3, 3], [16, 3, 3]]);
    expect(sameBytes(a, b)).toBe(true);
    const c = await generator.generate(imagine({ seeds: [11, 23] }));
    expect(Buffer.from(c.images[0]!.data).equals(Buffer.from(a.images[0]!.data))).toBe(true);
    expect(Buffer.from(c.images[1]!.data).equals(Buffer.from(a.images[1]!.data))).toBe(false);
  });

  it('WHEN the per-step noise is drawn on the JS thread instead of the noise worker THEN the bytes are the same', async () => {
    const viaWorker = await generator.generate(imagine({ seeds: [11, 22, 33] }));
    const { priorSteps, decoderSteps } = seededStageNoise([11, 22, 33]);
    const onThread = await generator.generate(imagine({ seeds: [11, 22, 33] }), {}, { noise: { priorSteps, decoderSteps } });
    expect(sameBytes(viaWorker, onThread)).toBe(true);
    // One worker per engine, kept between generations (dispose ends it).
    expect((generator as unknown as { noiseWorker: NoiseWorker }).noiseWorker.running).toBe(true);
  });

  it('WHEN a tile is generated alone THEN it matches the same seed inside a batch (per-tile noise, per-image CFG)', async () => {
    const batch = await generator.generate(imagine({ seeds: [5, 6, 7, 8] }));
    const alone = await generator.generate(imagine({ seeds: [7] }));
    expect(maxAbsDiff(alone.latents[0]!.data, batch.latents[2]!.data)).toBeLessThan(1e-3);
  });

  it('WHEN chaos is raised THEN every tile latent changes, deterministically (chaos 0 is covered by the parity test)', async () => {
    const calm = await generator.generate(imagine({ seeds: [1, 2, 3, 4] }));
    const wild = await generator.generate(imagine({ seeds: [1, 2, 3, 4], chaos: 100 }));
    const wildAgain = await generator.generate(imagine({ seeds: [1, 2, 3, 4], chaos: 100 }));
    expect(sameBytes(wild, wildAgain)).toBe(true);
    for (let i = 0; i < 4; i++) expect(maxAbsDiff(calm.latents[i]!.data, wild.latents[i]!.data)).toBeGreaterThan(1e-3);
    await expect(generator.generate(imagine({ chaos: 101 }))).rejects.toThrow(/chaos must be in \[0, 100\]/);
  });

  it('WHEN a non-square allowed size is asked THEN geometry follows the manifest (h_c = ceil(H/42.67), image = W×H)', async () => {
    const out = await generator.generate(imagine({ width: 256, height: 64, seeds: [3] }));
    expect([out.images[0]!.width, out.images[0]!.height]).toEqual([256, 64]);
    expect(out.latents[0]!.dims).toEqual([16, 2, 6]);
  });

  it('WHEN a variation is asked THEN it starts from the stored latent, runs round(steps·t_start) prior steps, and is deterministic', async () => {
    const source = (await generator.generate(imagine({ seeds: [9] }))).latents[0]!;
    const variation = (strength: 'subtle' | 'strong', seeds = [1, 2, 3]) => {
      const steps: GenerateProgress[] = [];
      const run = generator.generate(
        { kind: 'variation', prompt: 'a castle on a hill', negativePrompt: 'fog', width: 128, height: 128, seeds, source, strength },
        { onProgress: (p) => steps.push(p) },
      );
      return run.then((out) => ({ out, priorSteps: steps.filter((p) => p.stage === 'prior').length, last: steps.at(-1) }));
    };
    const subtle = await variation('subtle');
    const strong = await variation('strong');
    expect(subtle.priorSteps).toBe(3); // round(6 · 0.5)
    expect(strong.priorSteps).toBe(5); // round(6 · 0.8)
    expect(subtle.last?.fraction).toBe(1);
    expect(subtle.out.images.map((i) => [i.width, i.height])).toEqual([[128, 128], [128, 128], [128, 128]]);
    expect(subtle.out.latents.map((l) => l.dims)).toEqual([[16, 3, 3], [16, 3, 3], [16, 3, 3]]);
    expect(sameBytes(subtle.out, (await variation('subtle')).out)).toBe(true);
    expect(maxAbsDiff(subtle.out.latents[0]!.data, strong.out.latents[0]!.data)).toBeGreaterThan(1e-3);
    const wrong = { dims: [16, 3, 6] as [number, number, number], data: new Float32Array(16 * 18) };
    await expect(
      generator.generate({ kind: 'variation', prompt: 'x', negativePrompt: '', width: 128, height: 128, seeds: [1], source: wrong, strength: 'subtle' }),
    ).rejects.toThrow(/stored latent \[16, 3, 6\] .* expected \[16, 3, 3\] for 128×128/);
  });

  it('WHEN an upscale is asked THEN Stage B + A decode the stored latent at 2× and the latent comes back unchanged', async () => {
    const source = (await generator.generate(imagine({ seeds: [9] }))).latents[0]!;
    const stages: string[] = [];
    const request: GenerateRequest = { kind: 'upscale', prompt: 'a castle on a hill', negativePrompt: 'fog', width: 256, height: 256, seeds: [9], source };
    const up = await generator.generate(request, { onProgress: (p) => stages.push(p.stage) });
    expect(up.images.map((i) => [i.width, i.height, i.data.length])).toEqual([[256, 256, 256 * 256 * 3]]);
    expect(up.latents[0]!.dims).toEqual(source.dims);
    expect(Buffer.from(up.latents[0]!.data.buffer).equals(Buffer.from(source.data.buffer))).toBe(true);
    expect(new Set(stages)).toEqual(new Set(['decoder', 'vqgan']));
    expect(sameBytes(up, await generator.generate(request))).toBe(true);
  });

  it('WHEN previews are asked THEN the previewer shows each image of the batch during Stage C', async () => {
    const previews: { count: number; width: number; height: number; fraction: number }[] = [];
    await generator.generate(imagine({ seeds: [1, 2, 3] }), {
      onPreview: (images, fraction) => previews.push({ count: images.length, width: images[0]!.width, height: images[0]!.height, fraction }),
    });
    expect(previews.length).toBe(5); // after prior steps 1..5 of 6 (not after the last: the final image follows)
    expect(previews.every((p) => p.count === 3 && p.width === 12 && p.height === 12 && p.fraction > 0 && p.fraction < 1)).toBe(true);
  });

  it('WHEN the signal aborts between steps THEN generate rejects with AbortError and the engine keeps working', async () => {
    const controller = new AbortController();
    const seen: GenerateProgress[] = [];
    const run = generator.generate(imagine(), {
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.stage === 'prior' && p.step === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen.map((p) => `${p.stage}:${p.step}`)).toEqual(['prior:1', 'prior:2']);
    expect((await generator.generate(imagine({ seeds: [1] }))).images).toHaveLength(1);
  });

  it('WHEN a size is not allowed or a seed is invalid THEN the error says what is allowed', async () => {
    await expect(generator.generate(imagine({ width: 100 }))).rejects.toThrow(/image width 100 is not allowed by model cascade-tiny: use a multiple of 64 in \[64, 256\]/);
    await expect(generator.generate(imagine({ height: 320 }))).rejects.toThrow(/height 320/);
    await expect(generator.generate(imagine({ seeds: [] }))).rejects.toThrow(/at least one seed/);
    await expect(generator.generate(imagine({ seeds: [-1] }))).rejects.toThrow(/seed -1/);
  });
});

describe('GIVEN the engine in low-memory mode', () => {
  it('THEN it produces the same bytes as the normal mode (and skips previews, which would evict Stage C)', async () => {
    const low = await createCascadeGenerator({ bundleDir: FIXTURE_DIR, provider: 'cpu', lowMemory: true });
    try {
      let previews = 0;
      const a = await low.generate(imagine({ seeds: [4, 5] }), { onPreview: () => previews++ });
      expect(previews).toBe(0);
      const b = await generator.generate(imagine({ seeds: [4, 5] }));
      expect(sameBytes(a, b)).toBe(true);
    } finally {
      await low.dispose();
    }
  });
});

describe('GIVEN a bundle whose Stage B and Stage A graphs have float16 weights and I/O', () => {
  it('THEN the engine feeds and reads float16 in the loop and in the decode, and stays close to the float32 graphs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cascade-fp16-'));
    try {
      await cp(FIXTURE_DIR, dir, { recursive: true, filter: (src) => !src.includes('goldens') });
      type Section = Record<string, unknown>;
      const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { vqgan: Section; decoder: Section };
      manifest.vqgan = { ...manifest.vqgan, file: 'vqgan_decoder.fp16.onnx', dtype: 'float16' };
      manifest.decoder = { ...manifest.decoder, file: 'decoder.fp16.onnx', dtype: 'float16' };
      delete manifest.vqgan.sha256;
      delete manifest.decoder.sha256;
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest));
      const half = await createCascadeGenerator({ bundleDir: dir, provider: 'cpu' });
      try {
        const traced: Record<string, Float32Array> = {};
        const trace = (name: string, data: Float32Array) => {
          traced[`half ${name}`] = Float32Array.from(data);
        };
        const a = await half.generate(imagine({ seeds: [4, 5] }), {}, { trace });
        const b = await generator.generate(imagine({ seeds: [4, 5] }), {}, { trace: (name, data) => (traced[name] = Float32Array.from(data)) });
        expect(Buffer.from(a.latents[0]!.data.buffer).equals(Buffer.from(b.latents[0]!.data.buffer))).toBe(true); // Stage C is float32 in both
        const stageB = traced['half decoder/out']!;
        const reference = traced['decoder/out']!;
        const relative = maxAbsDiff(stageB, reference) / Math.max(...reference.map(Math.abs));
        let sum = 0;
        let max = 0;
        a.images.forEach((img, i) => img.data.forEach((v, k) => {
          const d = Math.abs(v - b.images[i]!.data[k]!);
          sum += d;
          max = Math.max(max, d);
        }));
        const mean = sum / (a.images.length * a.images[0]!.data.length);
        console.log(`fp16 Stage B + A vs fp32: Stage B latents max |Δ| ${(relative * 100).toFixed(3)} % of max |x|; image mean ${mean.toFixed(3)} levels, max ${max}`);
        expect(relative).toBeGreaterThan(0); // it really ran the float16 graphs
        expect(relative).toBeLessThan(0.005); // observed 0.07 %
        expect(mean).toBeLessThan(1); // observed 0.05 levels
      } finally {
        await half.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
