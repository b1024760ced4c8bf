/**
 * Cascade engine on the CPU provider (fixture bundle) and the TypeScript work per denoising step.
 *
 *   node bench/cascade-cpu.ts [rounds=5]
 *
 * 1. Fixture, 4 tiles at 128²: images/s, and TS work per step as a fraction of session.run time, where
 *    TS work = (Stage C + Stage B phase time) − (time awaiting onnxruntime in those stages), i.e. CFG, sampler, noise,
 *    stacking, fp16/fp32 conversion and feed building, stage setup included (an upper bound).
 * 2. Real Stable Cascade shapes at 1024², 4 tiles, with a stand-in model that returns a ready ε (no inference): the
 *    TS work of one step of Stage C (CFG 4, ρ 0.7: model batch [8, 16, 24, 24]) and Stage B (official CFG 1.1:
 *    [8, 4, 256, 256]; diffusers, no CFG: [4, 4, 256, 256]), with float32 graph I/O (the exporter's default) and with
 *    float16 I/O (conversion on this thread), to set against the GPU ms per step of bench/cascade-gpu-step.ts.
 */
import { createCascadeGenerator } from '../gpu-runner/cascade/index.ts';
import { createBatchNoise, createSeededNoise } from '../gpu-runner/cascade/noise.ts';
import { GdfSampler } from '../gpu-runner/cascade/scheduler.ts';
import { denoise } from '../gpu-runner/cascade/stages/denoise.ts';
import { FloatFeed, FloatFetch } from '../gpu-runner/cascade/stages/io.ts';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/cascade-tiny', import.meta.url));
const rounds = Number(process.argv[2] ?? 5);

async function fixtureRun(): Promise<void> {
  const generator = await createCascadeGenerator({ bundleDir: FIXTURE, provider: 'cpu' });
  const request = { kind: 'imagine' as const, prompt: 'a lighthouse at dusk', negativePrompt: 'blur', width: 128, height: 128, seeds: [1, 2, 3, 4], chaos: 0 };
  await generator.generate(request); // warm-up (first-run allocations, kernels)
  const before = generator.sessionStats();
  let loopMs = 0;
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const out = await generator.generate(request);
    loopMs += (out.timings.prior ?? 0) + (out.timings.decoder ?? 0);
  }
  const wall = performance.now() - t0;
  const after = generator.sessionStats();
  const ortMs = (['prior', 'decoder'] as const).reduce((sum, s) => sum + (after[s]?.runMs ?? 0) - (before[s]?.runMs ?? 0), 0);
  const steps = (['prior', 'decoder'] as const).reduce((sum, s) => sum + (after[s]?.runs ?? 0) - (before[s]?.runs ?? 0), 0);
  console.log(JSON.stringify({
    bench: 'fixture 4 tiles 128² (CPU provider)',
    imagesPerSecond: +((4 * rounds) / (wall / 1000)).toFixed(2),
    msPerGrid: +(wall / rounds).toFixed(1),
    denoisingSteps: steps,
    sessionRunMsPerStep: +(ortMs / steps).toFixed(3),
    tsMsPerStep: +((loopMs - ortMs) / steps).toFixed(3),
    tsFractionOfSessionRun: +((loopMs - ortMs) / ortMs).toFixed(4),
  }));
  await generator.dispose();
}

async function realShapeStep(label: string, dims: [number, number, number, number], cfg: number, rho: number, steps: number, io: 'float32' | 'float16'): Promise<void> {
  const [batch, c, h, w] = dims;
  const n = batch * c * h * w;
  const rows = cfg > 1 ? 2 * batch : batch;
  const eps = new Float32Array((rows / batch) * n).map((_, i) => Math.sin(i)); // stand-in ε ([cond; uncond] when guided)
  const feed = new FloatFeed(io);
  const fetch = new FloatFetch(io);
  const sampler = new GdfSampler({ steps, tStart: 1, shift: 2, rho, rMode: 'gdf', final: 'x0' });
  const init = new Float32Array(n);
  createBatchNoise([1, 2, 3, 4].map((s) => createSeededNoise(s, 0))).fill(init);
  const noise = createBatchNoise([1, 2, 3, 4].map((s) => createSeededNoise(s, 1)));
  const fetched = fetch.tensor([rows, c, h, w]);
  if (io === 'float16') (fetched.data as Uint16Array).set(feed.tensor(eps, [rows, c, h, w]).data as Uint16Array); // the "graph output", once
  else (fetched.data as Float32Array).set(eps);
  const t0 = performance.now();
  await denoise({
    sampler, init, batch, cfg, rho, noise,
    predict: async (samples) => {
      feed.tensor(samples, [rows, c, h, w]); // fp32 → fp16 for the graph (float32 I/O: no copy)
      return fetch.read(); // fp16 → fp32
    },
  });
  const perStep = (performance.now() - t0) / steps;
  console.log(JSON.stringify({ bench: `TS work per step, ${label}, ${io} I/O`, modelBatch: [rows, c, h, w], tsMsPerStep: +perStep.toFixed(2) }));
}

await fixtureRun();
for (const io of ['float32', 'float16'] as const) {
  await realShapeStep('Stage C 1024², 4 tiles, CFG 4 ρ 0.7', [4, 16, 24, 24], 4, 0.7, 20, io);
  await realShapeStep('Stage B 1024², 4 tiles, CFG 1.1 ρ 0.7 (official)', [4, 4, 256, 256], 1.1, 0.7, 10, io);
  await realShapeStep('Stage B 1024², 4 tiles, no CFG (diffusers)', [4, 4, 256, 256], 0, 0, 10, io);
}
