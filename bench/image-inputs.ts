/**
 * Images as prompts: per-picture cost on the CPU (upload check + normalisation, preprocessing, encoder call) and the
 * time each request kind adds to a job, on a bundle with encoders (default: the tiny fixture; `--model <dir>` for
 * another, e.g. the demo once it has them). Prints medians over repeats; never asserts.
 *
 *   npm run bench -- image-inputs [--model models/demo] [--repeats 5]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { checkUpload } from '../bot/uploads.js';
import { createCascadeGenerator } from '../gpu-runner/cascade/index.js';
import { clipPixels, effnetPixels } from '../gpu-runner/cascade/stages/image-input.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, repeats: { type: 'string', default: '5' } } });
const bundleDir = values.model ?? fileURLToPath(new URL('../test/fixtures/cascade-tiny', import.meta.url));
const repeats = Number(values.repeats);
const generator = await createCascadeGenerator({ bundleDir, provider: 'cpu' });
const m = generator.bundle.manifest;
if (!m.imageEncoder || !m.effnetEncoder) {
  console.log(`${m.name}: no ${!m.imageEncoder ? 'image_encoder.onnx' : 'effnet_encoder.onnx'}; nothing to measure`);
  process.exit(0);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function time(work: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  await work(); // warm-up (session creation, kernels)
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await work();
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

const photo = new Uint8Array(await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg({ quality: 90 }).toBuffer());
const stored = (await checkUpload(photo, 'bench')).png;
const base = { kind: 'imagine' as const, prompt: 'a red house by a lake', negativePrompt: '', width: m.resolution.base, height: m.resolution.base, seeds: [1, 2, 3, 4], chaos: 0 };
const rows: [string, number][] = [
  ['upload check + normalise (3000×2000 JPEG → PNG ≤ 1536)', await time(() => checkUpload(photo, 'bench'))],
  [`CLIP preprocessing (→ ${m.imageEncoder.size}²)`, await time(() => clipPixels(stored, m.imageEncoder!))],
  [`EfficientNet preprocessing (→ ${m.effnetEncoder.cell}·latent)`, await time(() => effnetPixels(stored, m.effnetEncoder!, 24, 24))],
];
const textOnly = await time(() => generator.generate(base));
const onePicture = await time(() => generator.generate({ ...base, imagePrompts: [{ image: stored, weight: 1 }] }));
const fivePictures = await time(() => generator.generate({ ...base, imagePrompts: Array.from({ length: 5 }, () => ({ image: stored, weight: 1 })) }));
const img2img = await time(() => generator.generate({ ...base, init: { image: stored, strength: 1 } }));
rows.push(['job, text only (4 images)', textOnly], ['job + 1 image prompt', onePicture], ['job + 5 image prompts', fivePictures], ['job, image-to-image at strength 1 (same steps)', img2img]);
console.log(`model ${m.name} (${m.variant}), ${repeats} repeats, median ms, onnxruntime CPU`);
for (const [label, ms] of rows) console.log(`  ${label.padEnd(58)} ${ms.toFixed(1)}`);
console.log(`  added per job: 1 image prompt ${(onePicture - textOnly).toFixed(1)} ms (${((onePicture / textOnly - 1) * 100).toFixed(1)} %), 5 image prompts ${(fivePictures - textOnly).toFixed(1)} ms, image-to-image ${(img2img - textOnly).toFixed(1)} ms`);
await generator.dispose();
