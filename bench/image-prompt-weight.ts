/**
 * What an image weight does, measured: Stage C's output moves away from the text-only output as a picture's weight
 * grows (scaling its embedding, what the engine does) versus giving the same picture k times (repeating its token
 * group). Relative L2 distance of Stage C's latents to the text-only run, same seeds and noise; the tiny fixture by
 * default (random weights: it shows the mechanics, not image quality), `--model <dir>` for a bundle with encoders.
 *
 *   npm run bench -- image-prompt-weight [--model models/demo]
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createCascadeGenerator } from '../gpu-runner/cascade/index.ts';

const { values } = parseArgs({ options: { model: { type: 'string' } } });
const generator = await createCascadeGenerator({ bundleDir: values.model ?? fileURLToPath(new URL('../test/fixtures/cascade-tiny', import.meta.url)), provider: 'cpu' });
const m = generator.bundle.manifest;
if (!m.imageEncoder) {
  console.log(`${m.name}: no image_encoder.onnx; nothing to measure`);
  process.exit(0);
}
const picture = new Uint8Array(await sharp({ create: { width: 200, height: 160, channels: 3, noise: { type: 'gaussian', mean: 120, sigma: 50 }, background: '#808080' } }).png().toBuffer());
const base = { kind: 'imagine' as const, prompt: 'a lighthouse at dusk', negativePrompt: '', width: m.resolution.base, height: m.resolution.base, seeds: [11, 12], chaos: 0 };
async function prior(prompts: { image: Uint8Array; weight: number }[]): Promise<Float32Array> {
  let out = new Float32Array(0);
  await generator.generate({ ...base, ...(prompts.length ? { imagePrompts: prompts } : {}) }, {}, { trace: (name, data) => name === 'prior/out' && (out = Float32Array.from(data)) });
  return out;
}
const norm = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
const distance = (a: Float32Array, b: Float32Array) => norm(a.map((v, i) => v - b[i]!)) / norm(b);
const textOnly = await prior([]);
const one = await prior([{ image: picture, weight: 1 }]);
console.log(`model ${m.name}: relative L2 distance of Stage C's output to the text-only output (and to weight 1)`);
for (const w of [0, 0.25, 0.5, 1, 1.5, 2, 3]) {
  const out = await prior([{ image: picture, weight: w }]);
  console.log(`  scale w = ${String(w).padEnd(5)} ${distance(out, textOnly).toFixed(4)}   (to w=1: ${distance(out, one).toFixed(4)})`);
}
for (const k of [1, 2, 3, 5]) {
  const out = await prior(Array.from({ length: k }, () => ({ image: picture, weight: 1 })));
  console.log(`  repeat ×${k}      ${distance(out, textOnly).toFixed(4)}   (to w=1: ${distance(out, one).toFixed(4)})`);
}
await generator.dispose();
