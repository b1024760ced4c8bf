/**
 * Quality and speed of the bundled demo model (models/demo) through the TypeScript cascade engine on the CPU.
 * Prints figures; asserts nothing (the CI subset with thresholds is test/demo-model/quality.test.ts).
 *
 *   node bench/demo-quality.ts                       # 200 held-out prompts + 2×2 grid timing + V / U checks
 *   node bench/demo-quality.ts --count 40            # first 40 held-out prompts only
 *   node bench/demo-quality.ts --sheets eval-dir     # judge PNG contact sheets written by tools/train-demo/export.py
 *   node bench/demo-quality.ts --json out.json       # also write the figures as JSON
 *   node bench/demo-quality.ts --bundle dir          # another bundle folder (e.g. a copy with other sampler settings)
 *   node bench/demo-quality.ts --seed-offset 1000003 # the same prompts with other seeds
 *   node bench/demo-quality.ts --prompts train.json  # another prompt document, e.g. training combinations
 *                                                        # (tools/train-demo/dataset.py --training-prompts train.json)
 *   node bench/demo-quality.ts --families            # also issue 21's families (test/support/demo-families.ts):
 *                                                        # two shapes, counts 1–4, unplaced, --ar canvases, --no colour
 *
 * Quality = test/support/shape-checker.ts (classical pixel statistics, blind to the prompt) against the held-out
 * prompts' ground truth (models/demo/heldout-prompts.json; combinations never seen in training).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCascadeGenerator } from '../gpu-runner/cascade/index.ts';
import type { ImageGenerator, RgbImage } from '../gpu-runner/generator.ts';
import { decodeToRgb } from '../gpu-runner/imaging.ts';
import { ATTRIBUTES, judgeImage, loadHeldout, score, THRESHOLDS, type HeldoutDocument, type Score } from '../test/support/shape-checker.ts';
import { quantile } from './percentiles.ts';
import { aspect, ASPECT_CANVASES, counts, decoderRoundTrip, img2img, imageVariation, meanIou, negativeCases, negatives, twoShapes } from '../test/support/demo-families.ts';

const BUNDLE = path.resolve(import.meta.dirname, '../models/demo');
const DEMO_PROMPT = 'a red circle at the top left on a blue background';

function crop(image: RgbImage, left: number, top: number, size: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + size * 3), y * size * 3);
  }
  return { width: size, height: size, data };
}

function printScore(label: string, s: Score): void {
  const cells = ATTRIBUTES.map((a) => `${a} ${(100 * s.accuracy[a]).toFixed(1)} % (≥ ${100 * THRESHOLDS[a]})`);
  console.log(`${label}: n=${s.count} | ${cells.join(' | ')} | all four ${(100 * s.allCorrect).toFixed(1)} %`);
  const confusions = new Map<string, number>();
  for (const m of s.misses.filter((miss) => miss.attribute === 'shape')) {
    const key = `${m.expected} → ${m.got ?? 'none'}`;
    confusions.set(key, (confusions.get(key) ?? 0) + 1);
  }
  const worst = [...confusions].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ${n}`);
  if (worst.length > 0) console.log(`  shape misses: ${worst.join(', ')}`);
}

async function judgeSheets(dir: string, doc: HeldoutDocument): Promise<Record<string, Score>> {
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
    tile: number; cols: number; prompts: string[];
    /** `expected`: per tile, attributes that differ from the held-out prompt's (e.g. img2img's new colour). */
    sheets: Record<string, { prior: unknown; decoder: unknown; count: number; expected?: Array<Record<string, string>> }>;
  };
  const out: Record<string, Score> = {};
  for (const [file, info] of Object.entries(index.sheets)) {
    const sheet = await decodeToRgb(readFileSync(path.join(dir, file)));
    const pairs = doc.prompts.slice(0, info.count).map((prompt, i) => {
      const tile = crop(sheet, (i % index.cols) * index.tile, Math.floor(i / index.cols) * index.tile, index.tile);
      return { expected: { ...prompt, ...info.expected?.[i] }, judged: judgeImage(tile, doc) };
    });
    out[file] = score(pairs);
    printScore(`${file} prior ${JSON.stringify(info.prior)} decoder ${JSON.stringify(info.decoder)}`, out[file]);
  }
  return out;
}

/** `seedOffset` draws the same prompts with other seeds (the shape score moves by several points with them). */
async function heldoutQuality(generator: ImageGenerator, doc: HeldoutDocument, count: number, seedOffset: number): Promise<Score & { meanIou: number }> {
  const pairs = [];
  for (const expected of doc.prompts.slice(0, count)) {
    const out = await generator.generate({ kind: 'imagine', prompt: expected.prompt, negativePrompt: '', width: 256, height: 256, seeds: [(expected.seed + seedOffset) % 2 ** 31], chaos: 0 });
    pairs.push({ expected, judged: judgeImage(out.images[0]!, doc) });
  }
  return { ...score(pairs), meanIou: meanIou(pairs.map((p) => ({ expected: p.expected, iou: p.judged.iou, shape: p.judged.shape }))) };
}

/** Issue 21's families; `aspectCount` held-out prompts per --ar canvas (and per image family), `negativeCount` --no cases. */
async function families(generator: ImageGenerator, doc: HeldoutDocument, aspectCount: number, negativeCount: number, hasEffnetEncoder: boolean): Promise<Record<string, unknown>> {
  const f = doc.families;
  if (!f) throw new Error('the prompt document has no families (tools/train-demo/dataset.py --heldout writes them)');
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const out: Record<string, unknown> = {};
  const two = await twoShapes(generator, doc, f.two);
  console.log(`two shapes with positions (n=${two.n}): both right (colour + kind + side) ${pct(two.both)}; colour + side only ${pct(two.colourAndSide)}`);
  for (const m of two.misses.slice(0, 8)) console.log(`  miss ${m}`);
  const count = await counts(generator, doc, f.count);
  console.log(`counts 1–4 (n=${count.n}): exact ${pct(count.exact)} ${JSON.stringify(count.byCount)}; main colour ${pct(count.colour)}`);
  for (const m of count.misses.slice(0, 8)) console.log(`  miss ${m}`);
  const unplaced = await counts(generator, doc, f.unplaced);
  console.log(`no position given (n=${unplaced.n}): exactly one shape ${pct(unplaced.exact)}; its colour ${pct(unplaced.colour)}`);
  out.two = two;
  out.count = count;
  out.unplaced = unplaced;
  for (const canvas of ASPECT_CANVASES) {
    const a = await aspect(generator, doc, doc.prompts.slice(0, aspectCount), canvas);
    console.log(`--ar ${canvas.ar} (${canvas.width}×${canvas.height}, n=${a.n}): colour ${pct(a.colour)} background ${pct(a.background)} shape ${pct(a.shape)} position ${pct(a.position)}; circles round ${pct(a.roundCircles)} of ${a.circles} (mean w/h ${a.meanCircleAspect.toFixed(2)})`);
    out[`aspect ${canvas.ar}`] = a;
  }
  if (generator.acceptsImagePrompts) {
    const v = await imageVariation(generator, doc, doc.prompts.slice(0, aspectCount));
    printScore(`image variation, no text (first ${v.count} held-out scenes drawn exactly)`, v);
    out.imageVariation = v;
  } else console.log('image variation: skipped (the bundle has no image encoder)');
  if (hasEffnetEncoder) {
    const r = await img2img(generator, doc, doc.prompts.slice(0, aspectCount));
    console.log(`img2img at strength 0.5 with a new colour (n=${r.n}): position kept ${pct(r.positionKept)}, colour changed ${pct(r.colourChanged)}`);
    out.img2img = r;
    const trip = await decoderRoundTrip(generator, doc, doc.prompts.slice(0, aspectCount));
    printScore(`decoder round trip (scene drawn exactly, img2img at strength 0.05, n=${trip.count}; shape by class ${JSON.stringify(trip.shapeByClass)})`, trip);
    out.decoderRoundTrip = trip;
  } else console.log('img2img and decoder round trip: skipped (the bundle has no EfficientNet-role encoder)');
  const neg = await negatives(generator, doc, negativeCases(doc, negativeCount));
  console.log(`--no <colour> (n=${neg.n}, the colour it drew without the negative): colour changed ${pct(neg.avoided)}, a shape still drawn ${pct(neg.stillShape)}`);
  out.negatives = neg;
  return out;
}

async function gridSpeed(generator: ImageGenerator, runs: number): Promise<{ medianMs: number; runsMs: number[]; phases: Record<string, number> }> {
  const runsMs: number[] = [];
  let phases: Record<string, number> = {};
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const out = await generator.generate({ kind: 'imagine', prompt: DEMO_PROMPT, negativePrompt: '', width: 256, height: 256, seeds: [11, 12, 13, 14], chaos: 0 });
    if (i > 0) runsMs.push(performance.now() - t0); // the first call warms the sessions up
    phases = out.timings;
  }
  return { medianMs: quantile(runsMs, 0.5), runsMs, phases };
}

/** Variation and upscale of the demo prompt's tiles: does the checker still see the same picture? */
async function variationAndUpscale(generator: ImageGenerator, doc: HeldoutDocument): Promise<Record<string, string>> {
  const expected = { shape: 'circle', colour: 'red', background: 'blue', position: 'top-left' };
  const base = await generator.generate({ kind: 'imagine', prompt: DEMO_PROMPT, negativePrompt: '', width: 256, height: 256, seeds: [21, 22, 23, 24], chaos: 0 });
  const report: Record<string, string> = {};
  const kept = (images: RgbImage[]): string =>
    `${images.filter((im) => { const j = judgeImage(im, doc); return ATTRIBUTES.every((a) => j[a] === expected[a]); }).length}/${images.length}`;
  report.imagine = kept(base.images);
  for (const strength of ['subtle', 'strong'] as const) {
    const v = await generator.generate({ kind: 'variation', prompt: DEMO_PROMPT, negativePrompt: '', width: 256, height: 256, seeds: [31, 32, 33, 34], source: base.latents[0]!, strength });
    report[`variation-${strength}`] = kept(v.images);
  }
  const u = await generator.generate({ kind: 'upscale', prompt: DEMO_PROMPT, negativePrompt: '', width: 512, height: 512, seeds: [41], source: base.latents[0]! });
  report.upscale = `${kept(u.images)} at ${u.images[0]!.width}×${u.images[0]!.height}`;
  return report;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { families: { type: 'boolean' }, 'aspect-count': { type: 'string', default: '60' }, 'negative-count': { type: 'string', default: '40' }, 'skip-heldout': { type: 'boolean' }, count: { type: 'string' }, sheets: { type: 'string' }, json: { type: 'string' }, runs: { type: 'string' }, bundle: { type: 'string' }, prompts: { type: 'string' }, 'seed-offset': { type: 'string', default: '0' } } });
  const seedOffset = Number(values['seed-offset']);
  if (!Number.isInteger(seedOffset) || seedOffset < 0) throw new Error(`--seed-offset must be a whole number ≥ 0, got ${values['seed-offset']}`);
  const doc = await loadHeldout(values.prompts);
  const figures: Record<string, unknown> = {};
  if (values.sheets) {
    figures.sheets = await judgeSheets(values.sheets, doc);
  } else {
    const generator = await createCascadeGenerator({ bundleDir: values.bundle ?? BUNDLE, provider: 'cpu' });
    try {
      const speed = await gridSpeed(generator, Number(values.runs ?? 5));
      console.log(`2×2 grid of 256×256 (onnxruntime-node CPU): median ${(speed.medianMs / 1000).toFixed(2)} s over ${speed.runsMs.length} runs ` +
        `[${speed.runsMs.map((t) => (t / 1000).toFixed(2)).join(', ')}]; phases of the last (ms): ${JSON.stringify(speed.phases)}`);
      figures.grid = speed;
      figures.variationUpscale = await variationAndUpscale(generator, doc);
      console.log(`demo prompt, attributes kept (all four): ${JSON.stringify(figures.variationUpscale)}`);
      if (!values['skip-heldout']) {
        const count = Number(values.count ?? doc.prompts.length);
        const t0 = performance.now();
        const s = await heldoutQuality(generator, doc, count, seedOffset);
        printScore(`${values.prompts ? `prompts of ${values.prompts}` : 'held-out prompts'} through the engine (${((performance.now() - t0) / 1000).toFixed(0)} s)`, s);
        console.log(`  edge IoU of the main shape with its ideal outline (right class only): mean ${s.meanIou.toFixed(3)}`);
        for (const miss of s.misses.slice(0, 40)) console.log(`  miss ${miss.attribute}: expected ${miss.expected}, got ${miss.got} — "${miss.prompt}"`);
        figures.heldout = s;
      }
      if (values.families) figures.families = await families(generator, doc, Number(values['aspect-count']), Number(values['negative-count']), generator.bundle.manifest.effnetEncoder !== undefined);
    } finally {
      await generator.dispose();
    }
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(figures, null, 1));
}

await main();
