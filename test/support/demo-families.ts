/**
 * Issue 21's evaluation families of the demo model, through any ImageGenerator (the TypeScript cascade engine in
 * bench/demo-quality.ts and test/demo-model/), judged by test/support/shape-checker.ts. Each family takes a list of
 * prompts (the full held-out family in the bench, a fixed slice in the suite) and returns its hit rates.
 */
import { resolveDimensions } from '../../core/dimensions.ts';
import type { ImageGenerator, RgbImage } from '../../gpu-runner/generator.ts';
import { encodePng } from '../../gpu-runner/imaging.ts';
import { judgeImage, judgeRegions, renderScene, score, type HeldoutDocument, type HeldoutPrompt, type Score } from './shape-checker.ts';

type Families = NonNullable<HeldoutDocument['families']>;
export type TwoPrompt = Families['two'][number];
export type CountPrompt = Families['count'][number];

async function draw(generator: ImageGenerator, prompt: string, seed: number, width = 256, height = 256, negativePrompt = ''): Promise<RgbImage> {
  const out = await generator.generate({ kind: 'imagine', prompt, negativePrompt, width, height, seeds: [seed], chaos: 0 });
  return out.images[0]!;
}

const share = (hits: number, n: number) => (n === 0 ? 0 : hits / n);

/** Both shapes right: for each named shape a region of its colour and kind on its side (centroid left / right of the middle). */
export async function twoShapes(generator: ImageGenerator, doc: HeldoutDocument, prompts: readonly TwoPrompt[]): Promise<{ n: number; both: number; colourAndSide: number; misses: string[] }> {
  let both = 0;
  let colourAndSide = 0;
  const misses: string[] = [];
  for (const p of prompts) {
    const { regions } = judgeRegions(await draw(generator, p.prompt, p.seed), doc);
    const top = regions.slice(0, 3);
    const side = (cx: number) => (cx < 0.5 ? 'left' : 'right');
    const found = p.shapes.map((s) => top.some((r) => r.colour === s.colour && r.shape === s.shape && side(r.cx) === s.side));
    const placed = p.shapes.map((s) => top.some((r) => r.colour === s.colour && side(r.cx) === s.side));
    if (found.every(Boolean)) both++;
    else misses.push(`"${p.prompt}" → ${top.map((r) => `${r.colour} ${r.shape} ${side(r.cx)}`).join(', ') || 'nothing'}`);
    if (placed.every(Boolean)) colourAndSide++;
  }
  return { n: prompts.length, both: share(both, prompts.length), colourAndSide: share(colourAndSide, prompts.length), misses };
}

/** Exactly `count` shapes stand out (and, reported beside it, the largest has the named colour). */
export async function counts(generator: ImageGenerator, doc: HeldoutDocument, prompts: readonly CountPrompt[]): Promise<{ n: number; exact: number; colour: number; byCount: Record<number, string>; misses: string[] }> {
  let exact = 0;
  let colour = 0;
  const perCount = new Map<number, [number, number]>();
  const misses: string[] = [];
  for (const p of prompts) {
    const { regions } = judgeRegions(await draw(generator, p.prompt, p.seed), doc);
    const ok = regions.length === p.count;
    const tally = perCount.get(p.count) ?? [0, 0];
    perCount.set(p.count, [tally[0] + (ok ? 1 : 0), tally[1] + 1]);
    if (ok) exact++;
    else misses.push(`"${p.prompt}" → ${regions.length}`);
    if (regions[0]?.colour === p.colour) colour++;
  }
  const byCount = Object.fromEntries([...perCount].sort((a, b) => a[0] - b[0]).map(([c, [h, n]]) => [c, `${h}/${n}`]));
  return { n: prompts.length, exact: share(exact, prompts.length), colour: share(colour, prompts.length), byCount, misses };
}

/** The canvases of the aspect family: what the bot asks for with --ar 16:9, 9:16 (medium) and 2:3 (large). */
export const ASPECT_CANVASES = [
  { ar: '16:9', ...resolveDimensions({ w: 16, h: 9 }, 'medium', 256) },
  { ar: '9:16', ...resolveDimensions({ w: 9, h: 16 }, 'medium', 256) },
  { ar: '2:3', ...resolveDimensions({ w: 2, h: 3 }, 'large', 256) },
] as const;

/** Held-out single prompts on a non-square canvas: colour / background / shape / position, and for circles whether the
 * bounding box is round (width / height within 0.8–1.25). */
export async function aspect(generator: ImageGenerator, doc: HeldoutDocument, prompts: readonly HeldoutPrompt[], canvas: { width: number; height: number }): Promise<{ n: number; colour: number; background: number; shape: number; position: number; circles: number; roundCircles: number; meanCircleAspect: number }> {
  const hits = { colour: 0, background: 0, shape: 0, position: 0 };
  let circles = 0;
  let round = 0;
  let aspectSum = 0;
  for (const p of prompts) {
    const j = judgeImage(await draw(generator, p.prompt, p.seed, canvas.width, canvas.height), doc);
    for (const a of ['colour', 'background', 'shape', 'position'] as const) if (j[a] === p[a]) hits[a]++;
    if (p.shape === 'circle' && j.boxAspect > 0) {
      circles++;
      aspectSum += j.boxAspect;
      if (j.boxAspect >= 0.8 && j.boxAspect <= 1.25) round++;
    }
  }
  const n = prompts.length;
  return { n, colour: share(hits.colour, n), background: share(hits.background, n), shape: share(hits.shape, n), position: share(hits.position, n), circles, roundCircles: share(round, circles), meanCircleAspect: circles ? aspectSum / circles : 0 };
}

/** `--no <colour>`: a prompt that names no colour is drawn once; then again with the colour it came out in as the
 * negative prompt (what a user does who wants anything but that). Share of pictures whose main colour changed, and
 * share that still hold a shape. */
export async function negatives(generator: ImageGenerator, doc: HeldoutDocument, cases: readonly { prompt: string; seed: number }[]): Promise<{ n: number; avoided: number; stillShape: number }> {
  let avoided = 0;
  let stillShape = 0;
  let n = 0;
  for (const c of cases) {
    const first = judgeImage(await draw(generator, c.prompt, c.seed), doc).colour;
    if (first === null) continue;
    n++;
    const again = judgeImage(await draw(generator, c.prompt, c.seed, 256, 256, first), doc);
    if (again.colour !== first) avoided++;
    if (again.shape !== null) stillShape++;
  }
  return { n, avoided: share(avoided, n), stillShape: share(stillShape, n) };
}

/** Prompts for `negatives`: a held-out prompt's shape and background, no colour named. */
export function negativeCases(doc: HeldoutDocument, n: number): { prompt: string; seed: number }[] {
  return doc.prompts.slice(0, n).map((p) => ({ prompt: `a ${p.shape} in the center on a ${p.background} background`, seed: p.seed }));
}

/** Mean edge IoU of the main shape over images whose shape class is right (crispness). */
export function meanIou(judged: readonly { expected: HeldoutPrompt; iou: number; shape: string | null }[]): number {
  const right = judged.filter((j) => j.shape === j.expected.shape);
  return right.length ? right.reduce((a, j) => a + j.iou, 0) / right.length : 0;
}

/** Image variation without text: each held-out scene drawn exactly is the only prompt (an image prompt of weight 1,
 * empty text); does the picture keep its colour, background, shape and position? Needs the bundle's image encoder. */
export async function imageVariation(generator: ImageGenerator, doc: HeldoutDocument, prompts: readonly HeldoutPrompt[]): Promise<Score> {
  const pairs = [];
  for (const p of prompts) {
    const image = await encodePng(renderScene(doc, p.background, [p]));
    const out = await generator.generate({ kind: 'imagine', prompt: '', negativePrompt: '', width: 256, height: 256, seeds: [p.seed], chaos: 0, imagePrompts: [{ image, weight: 1 }] });
    pairs.push({ expected: p, judged: judgeImage(out.images[0]!, doc) });
  }
  return score(pairs);
}

/** img2img: each held-out scene drawn exactly is the init picture at `strength`, the prompt names the same shape,
 * place and background in another colour; is the position kept and the colour changed? Needs the EfficientNet-role
 * encoder. */
export async function img2img(generator: ImageGenerator, doc: HeldoutDocument, prompts: readonly HeldoutPrompt[], strength = 0.5): Promise<{ n: number; positionKept: number; colourChanged: number }> {
  const colours = Object.keys(doc.palette);
  let kept = 0;
  let changed = 0;
  for (const [i, p] of prompts.entries()) {
    const others = colours.filter((c) => c !== p.colour && c !== p.background);
    const colour = others[i % others.length]!;
    const image = await encodePng(renderScene(doc, p.background, [p]));
    const prompt = `a ${colour} ${p.shape} at the ${p.position.replace('-', ' ')} on a ${p.background} background`;
    const out = await generator.generate({ kind: 'imagine', prompt, negativePrompt: '', width: 256, height: 256, seeds: [p.seed], chaos: 0, init: { image, strength } });
    const j = judgeImage(out.images[0]!, doc);
    if (j.position === p.position) kept++;
    if (j.colour === colour) changed++;
  }
  return { n: prompts.length, positionKept: share(kept, prompts.length), colourChanged: share(changed, prompts.length) };
}

/** Decoder round trip: each held-out scene drawn exactly goes in as the init picture at a tiny strength (its own
 * prompt), so Stage C hardly moves the EfficientNet-role latent and what comes out is Stage B/A's reconstruction.
 * Scored like the one-shape family, per shape class: it separates the decoders' share of shape errors from Stage C's
 * (on demo model 2, squares came back as squares 14 of 24 times here, against 10 of 41 from text). */
export async function decoderRoundTrip(generator: ImageGenerator, doc: HeldoutDocument, prompts: readonly HeldoutPrompt[], strength = 0.05): Promise<Score & { shapeByClass: Record<string, string> }> {
  const pairs = [];
  for (const p of prompts) {
    const image = await encodePng(renderScene(doc, p.background, [p]));
    const out = await generator.generate({ kind: 'imagine', prompt: p.prompt, negativePrompt: '', width: 256, height: 256, seeds: [p.seed], chaos: 0, init: { image, strength } });
    pairs.push({ expected: p, judged: judgeImage(out.images[0]!, doc) });
  }
  const shapeByClass: Record<string, string> = {};
  for (const kind of [...new Set(prompts.map((p) => p.shape))].sort()) {
    const mine = pairs.filter((q) => q.expected.shape === kind);
    shapeByClass[kind] = `${mine.filter((q) => q.judged.shape === kind).length}/${mine.length}`;
  }
  return { ...score(pairs), shapeByClass };
}
