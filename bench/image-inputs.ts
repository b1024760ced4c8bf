/**
 * Images as prompts: per-picture cost on the CPU (upload check + normalisation, preprocessing, encoder call) and the
 * time each request kind adds to a job, on a bundle with encoders (default: the tiny fixture; `--model <dir>` for
 * another, e.g. the demo once it has them). Prints medians over repeats; never asserts.
 *
 *   npm run bench -- image-inputs [--model models/demo] [--repeats 5]
 *
 * Figures, 2026-12-07, the shared dev machine (AMD EPYC, 2 CPU cores shared with four other engineers' work, load
 * average ~1.7 during the runs; an earlier run at load 5–9 gave 2–3× these job times, so read them as ±30 %), 5 repeats,
 * median ms, onnxruntime-node CPU. 4-image jobs at the bundle's base size and default steps; the same stored picture
 * (a 3000×2000 noisy JPEG, normalised to a ≤ 1536 px PNG) everywhere.
 *
 *   per picture                                          demo (256², 12+4 steps)   tiny fixture (128²)
 *   upload check + normalise (3000×2000 JPEG)                  114.6                   105.1
 *   CLIP image encoder, 1 picture (preprocessing + call)        37.3                    20.3
 *   CLIP image encoder, 5 pictures in one call                 111.1 (22 / picture)     59.5
 *   EfficientNet encoder, 1 picture (preprocessing + call)      38.4                    31.2
 *   per job                                                   demo                      tiny
 *   text only (4 images)                                       433.8                    65.6
 *   + 1 image prompt (variation)                               +48.9  (+11 %)           +20.9
 *   /blend of 2 pictures (no text)                             +94.7  (+22 %)           +12.3
 *   + 5 image prompts                                         +107.7  (+25 %)           +67.0
 *   image-to-image at strength 1 (same steps)                 +108.3  (+25 %)           +15.1
 *
 * On the demo the added time is the encoder call plus preprocessing of the 1536-px stored PNG (sharp, ~25 ms a picture);
 * the demo prior takes one clip_img group (manifest prior.clipImageGroups), so extra pictures cost only encoding. The
 * upload check runs in the bot once per picture, not in the job.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkUpload } from '../bot/uploads.ts';
import { createCascadeGenerator } from '../gpu-runner/cascade/index.ts';
import { clipPixels, effnetPixels } from '../gpu-runner/cascade/stages/image-input.ts';
import { quantile } from './percentiles.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, repeats: { type: 'string', default: '5' } } });
const bundleDir = values.model ?? fileURLToPath(new URL('../test/fixtures/cascade-tiny', import.meta.url));
const repeats = Number(values.repeats);
const generator = await createCascadeGenerator({ bundleDir, provider: 'cpu' });
const m = generator.bundle.manifest;
if (!m.imageEncoder || !m.effnetEncoder) {
  console.log(`${m.name}: no ${!m.imageEncoder ? 'image_encoder.onnx' : 'effnet_encoder.onnx'}; nothing to measure`);
  process.exit(0);
}
async function time(work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  await work(); // warm-up (session creation, kernels)
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
  }
  return quantile(samples, 0.5);
}

const photo = new Uint8Array(await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 90 }).toBuffer());
const stored = (await checkUpload(photo, 'bench')).png;
const base = { kind: 'imagine' as const, prompt: 'a red house by a lake', negativePrompt: '', width: m.resolution.base, height: m.resolution.base, seeds: [1, 2, 3, 4], chaos: 0 };
const rows: [string, number][] = [
  ['upload check + normalise (3000×2000 JPEG → PNG ≤ 1536)', await time(() => checkUpload(photo, 'bench'))],
  [`CLIP preprocessing (→ ${m.imageEncoder.size}²)`, await time(() => clipPixels(stored, m.imageEncoder!))],
  [`EfficientNet preprocessing (→ ${m.effnetEncoder.cell}·latent)`, await time(() => effnetPixels(stored, m.effnetEncoder!, 24, 24))],
];
/** Median job time, and the median of one of its phases (pipeline timings: imageEncoder = CLIP preprocessing + call). */
async function job(request: Parameters<typeof generator.generate>[0], phase?: string): Promise<{ ms: number; phaseMs: number }> {
  const phases: number[] = [];
  const ms = await time(async () => {
    const out = await generator.generate(request);
    if (phase) phases.push(out.timings[phase] ?? NaN);
  });
  return { ms, phaseMs: phase ? quantile(phases.slice(1), 0.5) : NaN };
}
const textOnly = (await job(base)).ms;
const one = await job({ ...base, imagePrompts: [{ image: stored, weight: 1 }] }, 'imageEncoder');
const two = await job({ ...base, prompt: '', imagePrompts: [{ image: stored, weight: 1 }, { image: stored, weight: 1 }] }, 'imageEncoder');
const five = await job({ ...base, imagePrompts: Array.from({ length: 5 }, () => ({ image: stored, weight: 1 })) }, 'imageEncoder');
const img2img = await job({ ...base, init: { image: stored, strength: 1 } }, 'effnetEncoder');
rows.push(
  ['CLIP image encoder, 1 picture (preprocessing + call)', one.phaseMs],
  ['CLIP image encoder, 5 pictures in one call', five.phaseMs],
  [`EfficientNet encoder, 1 picture (preprocessing + call, ${m.resolution.base}²)`, img2img.phaseMs],
  ['job, text only (4 images)', textOnly],
  ['job + 1 image prompt (variation)', one.ms],
  ['job, /blend of 2 pictures (no text)', two.ms],
  ['job + 5 image prompts', five.ms],
  ['job, image-to-image at strength 1 (same steps)', img2img.ms],
);
console.log(`model ${m.name} (${m.variant}), ${repeats} repeats, median ms, onnxruntime CPU`);
for (const [label, ms] of rows) console.log(`  ${label.padEnd(64)} ${ms.toFixed(1)}`);
const added = (ms: number) => `${(ms - textOnly).toFixed(1)} ms (${((ms / textOnly - 1) * 100).toFixed(1)} %)`;
console.log(`  added per job: 1 image prompt ${added(one.ms)}, /blend of 2 ${added(two.ms)}, 5 image prompts ${added(five.ms)}, image-to-image ${added(img2img.ms)}`);
await generator.dispose();
