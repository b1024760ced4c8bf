/**
 * Judges a generated demo-model image with classical pixel statistics, blind to the prompt: background colour
 * (median of the border ring), the main shape (largest connected region whose nearest palette colour is not the
 * background's), its colour (median of its interior), its class (fill ratio of its bounding box; triangle vs diamond
 * from the widths at 1/4 and 3/4 of its height) and its position (centroid on a 3 × 3 grid).
 * The palette, shapes and positions come from models/demo/heldout-prompts.json (written by tools/train-demo/dataset.py).
 *
 * @example
 *   const doc = await loadHeldout();
 *   judgeImage(image, doc); // → { background: 'blue', colour: 'red', shape: 'circle', position: 'top-left', ... }
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { RgbImage } from '../../gpu-runner/generator.ts';

export const HELDOUT_PATH = path.resolve(import.meta.dirname, '../../models/demo/heldout-prompts.json');

const HeldoutSchema = z.object({
  palette: z.record(z.string(), z.tuple([z.number(), z.number(), z.number()])),
  shapes: z.array(z.string()),
  positions: z.record(z.string(), z.tuple([z.number(), z.number()])),
  /** Half-extent of each size as a fraction of the shorter side. */
  sizes: z.record(z.string(), z.number()),
  prompts: z.array(
    z.object({
      prompt: z.string(),
      shape: z.string(),
      colour: z.string(),
      background: z.string(),
      position: z.string(),
      size: z.string().nullable(),
      seed: z.number().int().nonnegative(),
    }),
  ),
  /** Issue 21's families (test/support/demo-families.ts); absent in prompt documents of training combinations. */
  families: z
    .object({
      two: z.array(
        z.object({
          prompt: z.string(),
          background: z.string(),
          shapes: z.array(z.object({ shape: z.string(), colour: z.string(), position: z.string(), side: z.enum(['left', 'right']) })).length(2),
          seed: z.number().int().nonnegative(),
        }),
      ),
      count: z.array(z.object({ prompt: z.string(), count: z.number().int().min(1).max(4), shape: z.string(), colour: z.string(), background: z.string(), seed: z.number().int().nonnegative() })),
      unplaced: z.array(z.object({ prompt: z.string(), count: z.literal(1), shape: z.string(), colour: z.string(), background: z.string(), seed: z.number().int().nonnegative() })),
    })
    .optional(),
});
export type HeldoutDocument = z.infer<typeof HeldoutSchema>;
export type HeldoutPrompt = HeldoutDocument['prompts'][number];

export async function loadHeldout(file = HELDOUT_PATH): Promise<HeldoutDocument> {
  return HeldoutSchema.parse(JSON.parse(await readFile(file, 'utf8')));
}

export interface Judgement {
  background: string;
  /** null when no shape stands out from the background. */
  colour: string | null;
  shape: string | null;
  position: string | null;
  /** Diagnostics: share of the image covered by the main shape, bounding-box fill ratio, width ratio top/bottom. */
  area: number;
  fill: number;
  taper: number;
  /** The main shape's bounding box width / height, and its edge quality (Region.iou). */
  boxAspect: number;
  iou: number;
  /** How many shapes stand out (judgeRegions). */
  count: number;
}

type Rgb = readonly [number, number, number];

function nearest(palette: ReadonlyArray<[string, Rgb]>, r: number, g: number, b: number): number {
  let best = 0;
  let bestDistance = Infinity;
  palette.forEach(([, c], i) => {
    const d = (r - c[0]) ** 2 + (g - c[1]) ** 2 + (b - c[2]) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  });
  return best;
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)] ?? 0;
}

function medianColour(image: RgbImage, pixels: Iterable<number>): Rgb {
  const channels: [number[], number[], number[]] = [[], [], []];
  for (const p of pixels) for (let c = 0; c < 3; c++) channels[c]!.push(image.data[p * 3 + c]!);
  return [median(channels[0]), median(channels[1]), median(channels[2])];
}

/** Every 4-connected region of `mask` (pixel indices), largest first, by an explicit-stack flood fill. */
function regionsOf(mask: Uint8Array, width: number, height: number): number[][] {
  const seen = new Uint8Array(mask.length);
  const regions: number[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || seen[start]) continue;
    const region: number[] = [];
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      region.push(p);
      const x = p % width;
      const y = (p - x) / width;
      const next = [x > 0 ? p - 1 : -1, x < width - 1 ? p + 1 : -1, y > 0 ? p - width : -1, y < height - 1 ? p + width : -1];
      for (const q of next) {
        if (q >= 0 && mask[q] && !seen[q]) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    regions.push(region);
  }
  return regions.sort((a, b) => b.length - a.length);
}

function classifyShape(fill: number, taper: number): string {
  if (fill >= 0.9) return 'square';
  if (fill >= 0.67) return 'circle';
  return taper < 0.7 ? 'triangle' : 'diamond';
}

function classifyPosition(cx: number, cy: number): string {
  const column = cx < 0.36 ? 'left' : cx > 0.64 ? 'right' : '';
  const row = cy < 0.36 ? 'top' : cy > 0.64 ? 'bottom' : '';
  if (row && column) return `${row}-${column}`;
  return row || column || 'center';
}

/** One shape found in the picture. */
export interface Region {
  colour: string;
  shape: string;
  position: string;
  /** Centroid as fractions of the canvas (x right, y down). */
  cx: number;
  cy: number;
  /** Share of the image it covers; bounding-box fill ratio; width ratio top/bottom; bounding box width / height. */
  area: number;
  fill: number;
  taper: number;
  boxAspect: number;
  /** Edge quality: IoU of the region with the ideal outline of its judged class fitted to its bounding box (1 = crisp). */
  iou: number;
}

/** The ideal outline of `shape` in a box of w × h pixels: is pixel (x, y) (from the box's corner) inside? Circles,
 * squares and diamonds are fitted as the regular shape of side (w + h) / 2 centred in the box (their true form has
 * w = h); triangles (apex up) fill the box's height and width. */
function insideIdeal(shape: string, x: number, y: number, w: number, h: number): boolean {
  const s = (w + h) / 2;
  const dx = x + 0.5 - w / 2;
  const dy = y + 0.5 - h / 2;
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= (s / 2) ** 2;
    case 'square':
      return Math.abs(dx) <= s / 2 && Math.abs(dy) <= s / 2;
    case 'diamond':
      return Math.abs(dx) + Math.abs(dy) <= s / 2;
    default:
      return y >= 0 && y < h && Math.abs(dx) <= (w / 2) * ((y + 0.5) / h);
  }
}

function describeRegion(image: RgbImage, region: number[], palette: ReadonlyArray<[string, Rgb]>): Region {
  const { width, height } = image;
  let x0 = width;
  let x1 = 0;
  let y0 = height;
  let y1 = 0;
  let sx = 0;
  let sy = 0;
  const inRegion = new Uint8Array(width * height);
  for (const p of region) {
    const x = p % width;
    const y = (p - x) / width;
    inRegion[p] = 1;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
    sx += x + 0.5;
    sy += y + 0.5;
  }
  // Interior = region pixels whose four neighbours are in the region too (edges are blends with the background).
  const interior = region.filter((p) => inRegion[p - 1] && inRegion[p + 1] && inRegion[p - width] && inRegion[p + width]);
  const colourRgb = medianColour(image, interior.length > 0 ? interior : region);
  const rowWidth = (y: number): number => {
    let count = 0;
    for (let x = x0; x <= x1; x++) count += inRegion[y * width + x]!;
    return count;
  };
  const boxW = x1 - x0 + 1;
  const boxH = y1 - y0 + 1;
  const fill = region.length / (boxW * boxH);
  const taper = rowWidth(y0 + Math.floor(boxH / 4)) / Math.max(1, rowWidth(y0 + Math.floor((3 * boxH) / 4)));
  const shape = classifyShape(fill, taper);
  // IoU over the box grown by a margin (the ideal circle / square of side (w + h) / 2 may reach past the box).
  const margin = Math.ceil(Math.abs(boxW - boxH) / 2) + 1;
  let both = 0;
  let either = 0;
  for (let y = y0 - margin; y <= y1 + margin; y++) {
    for (let x = x0 - margin; x <= x1 + margin; x++) {
      const own = x >= 0 && y >= 0 && x < width && y < height && inRegion[y * width + x] === 1;
      const ideal = insideIdeal(shape, x - x0, y - y0, boxW, boxH);
      if (own && ideal) both++;
      if (own || ideal) either++;
    }
  }
  return {
    colour: palette[nearest(palette, ...colourRgb)]![0],
    shape,
    position: classifyPosition(sx / region.length / width, sy / region.length / height),
    cx: sx / region.length / width,
    cy: sy / region.length / height,
    area: region.length / (width * height),
    fill,
    taper,
    boxAspect: boxW / boxH,
    iou: either > 0 ? both / either : 0,
  };
}

/** A region counts as a shape when it covers ≥ 0.2 % of the image and ≥ this share of the largest one. */
export const MIN_REGION_SHARE = 0.25;

/** Background and every shape that stands out (largest first): for counts and compositions. */
export function judgeRegions(image: RgbImage, doc: Pick<HeldoutDocument, 'palette'>): { background: string; regions: Region[] } {
  const { width, height, data } = image;
  const palette = Object.entries(doc.palette) as Array<[string, Rgb]>;
  const ring = Math.max(2, Math.round(Math.min(width, height) / 64));
  const border: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (x < ring || y < ring || x >= width - ring || y >= height - ring) border.push(y * width + x);
    }
  }
  const bg = medianColour(image, border);
  const bgClass = nearest(palette, ...bg);
  const mask = new Uint8Array(width * height);
  for (let p = 0; p < mask.length; p++) {
    const r = data[p * 3]!;
    const g = data[p * 3 + 1]!;
    const b = data[p * 3 + 2]!;
    const distance = Math.hypot(r - bg[0], g - bg[1], b - bg[2]);
    mask[p] = distance > 30 && nearest(palette, r, g, b) !== bgClass ? 1 : 0;
  }
  const all = regionsOf(mask, width, height);
  const largest = all[0]?.length ?? 0;
  const kept = all.filter((r) => r.length >= width * height * 0.002 && r.length >= MIN_REGION_SHARE * largest);
  return { background: palette[bgClass]![0], regions: kept.map((r) => describeRegion(image, r, palette)) };
}

export function judgeImage(image: RgbImage, doc: Pick<HeldoutDocument, 'palette'>): Judgement {
  const { background, regions } = judgeRegions(image, doc);
  const main = regions[0];
  if (!main) return { background, colour: null, shape: null, position: null, area: 0, fill: 0, taper: 0, boxAspect: 0, iou: 0, count: 0 };
  return { background, colour: main.colour, shape: main.shape, position: main.position, area: main.area, fill: main.fill, taper: main.taper, boxAspect: main.boxAspect, iou: main.iou, count: regions.length };
}

export const ATTRIBUTES = ['colour', 'background', 'shape', 'position'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];
/** The bar: colour ≥ 90 %, background ≥ 90 %, shape ≥ 80 %, position ≥ 80 %. */
export const THRESHOLDS: Record<Attribute, number> = { colour: 0.9, background: 0.9, shape: 0.8, position: 0.8 };

export interface Score {
  count: number;
  accuracy: Record<Attribute, number>;
  /** Share of images with all four attributes right. */
  allCorrect: number;
  misses: Array<{ prompt: string; attribute: Attribute; expected: string; got: string | null }>;
}

export function score(pairs: ReadonlyArray<{ expected: HeldoutPrompt; judged: Judgement }>): Score {
  const hits: Record<Attribute, number> = { colour: 0, background: 0, shape: 0, position: 0 };
  const misses: Score['misses'] = [];
  let allCorrect = 0;
  for (const { expected, judged } of pairs) {
    let all = true;
    for (const attribute of ATTRIBUTES) {
      if (judged[attribute] === expected[attribute]) hits[attribute]++;
      else {
        all = false;
        misses.push({ prompt: expected.prompt, attribute, expected: expected[attribute], got: judged[attribute] });
      }
    }
    if (all) allCorrect++;
  }
  const n = Math.max(1, pairs.length);
  const accuracy = Object.fromEntries(ATTRIBUTES.map((a) => [a, hits[a] / n])) as Record<Attribute, number>;
  return { count: pairs.length, accuracy, allCorrect: allCorrect / n, misses };
}

/** One shape of a scene to draw exactly (renderScene). */
export interface SceneShape {
  shape: string;
  colour: string;
  position: string;
  /** A key of the document's sizes; medium when absent. */
  size?: string | null;
}

/**
 * The exact picture of a scene, as tools/train-demo/render.py draws it without its random jitter: anti-aliased signed
 * distances, centres at the position's anchor (fractions of each side), sizes fractions of the shorter side. For
 * image prompts and img2img sources in the evaluation (test/support/demo-families.ts).
 */
export function renderScene(doc: Pick<HeldoutDocument, 'palette' | 'positions' | 'sizes'>, background: string, shapes: readonly SceneShape[], width = 256, height = 256): RgbImage {
  const unit = Math.min(width, height);
  const data = new Uint8Array(width * height * 3);
  const bg = doc.palette[background];
  if (!bg) throw new Error(`renderScene: unknown background colour ${background}`);
  for (let p = 0; p < width * height; p++) data.set(bg, p * 3);
  for (const s of shapes) {
    const colour = doc.palette[s.colour];
    const anchor = doc.positions[s.position];
    const size = doc.sizes[s.size ?? 'medium'];
    if (!colour || !anchor || size === undefined) throw new Error(`renderScene: unknown colour, position or size in ${JSON.stringify(s)}`);
    const cx = (anchor[0] * width) / unit;
    const cy = (anchor[1] * height) / unit;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = (x + 0.5) / unit - cx;
        const dy = (y + 0.5) / unit - cy;
        const cover = Math.min(1, Math.max(0, 0.5 - signedDistance(s.shape, dx, dy, size) * unit));
        if (cover === 0) continue;
        for (let c = 0; c < 3; c++) {
          const i = (y * width + x) * 3 + c;
          data[i] = Math.round(data[i]! * (1 - cover) + colour[c]! * cover);
        }
      }
    }
  }
  return { width, height, data };
}

/** tools/train-demo/render.py signed_distance: distance to the outline in units of the shorter side (negative inside). */
function signedDistance(shape: string, dx: number, dy: number, s: number): number {
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  switch (shape) {
    case 'circle':
      return Math.hypot(dx, dy) - s;
    case 'square':
      return Math.max(ax, ay) - 0.9 * s;
    case 'diamond':
      return (ax + ay - 1.1 * s) / Math.SQRT2;
    case 'triangle': {
      const a = 1.1 * s;
      return Math.max(dy - a / 2, (1.5 * ax - (dy + a)) / Math.hypot(1.5, 1));
    }
    default:
      throw new Error(`renderScene: unknown shape ${shape}`);
  }
}
