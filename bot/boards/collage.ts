/**
 * The live collage: one PNG of the board's pins, composed with sharp. The layout is a pure function of the
 * pins (testable as tables): each pin's area is proportional to its weight, 1 + votes, and the hero's weight
 * is raised above every other pin's so it is always the largest. Cells tile the canvas exactly: the pins,
 * heaviest first, are split recursively into two groups of near-equal weight, each taking its share of the
 * longer side, which keeps cells close to square. Each cell shows its image cover-cropped and a badge with
 * its votes and the author's initials (★ on the hero).
 *
 * @example layoutCollage([{ key: 'a', votes: 3 }, { key: 'b', votes: 0 }], 'square', 'a') // → a: 1200×~960, b: the rest
 */
import sharp, { type OverlayOptions } from 'sharp';

export type CollageShape = 'landscape' | 'square' | 'portrait';

export const COLLAGE_SIZES: Record<CollageShape, { width: number; height: number }> = {
  landscape: { width: 1600, height: 900 },
  square: { width: 1200, height: 1200 },
  portrait: { width: 900, height: 1600 },
};

/** Discord's default upload limit (10 MiB) and Slack's practical one are both above this; the collage is re-encoded smaller until it fits. */
export const DEFAULT_COLLAGE_LIMIT_BYTES = 8 * 1024 * 1024;

export interface CollageItem {
  key: string;
  votes: number;
}

export interface CollageCell {
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
  weight: number;
}

/** 1 + votes; the hero gets more than the heaviest other pin (×1.5 + 1), so its cell is the largest. */
export function collageWeights(items: readonly CollageItem[], heroKey?: string): Map<string, number> {
  const weights = new Map(items.map((item) => [item.key, 1 + Math.max(0, item.votes)]));
  if (heroKey !== undefined && weights.has(heroKey)) {
    const others = items.filter((item) => item.key !== heroKey).map((item) => weights.get(item.key)!);
    weights.set(heroKey, Math.max(weights.get(heroKey)!, (others.length ? Math.max(...others) : 1) * 1.5 + 1));
  }
  return weights;
}

/** Cells in canvas pixels (integers; they tile the canvas with no gap or overlap). Empty for no pins. */
export function layoutCollage(items: readonly CollageItem[], shape: CollageShape, heroKey?: string, size = COLLAGE_SIZES[shape]): CollageCell[] {
  const weights = collageWeights(items, heroKey);
  const sorted = [...items].sort((a, b) => weights.get(b.key)! - weights.get(a.key)! || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const cells: CollageCell[] = [];
  split(sorted.map((item) => ({ key: item.key, weight: weights.get(item.key)! })), 0, 0, size.width, size.height, cells);
  return cells;
}

function split(items: Array<{ key: string; weight: number }>, x: number, y: number, width: number, height: number, out: CollageCell[]): void {
  if (items.length === 0) return;
  if (items.length === 1) {
    out.push({ key: items[0]!.key, x, y, width, height, weight: items[0]!.weight });
    return;
  }
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  // The first group: the heaviest items until about half the weight (at least one, never all).
  let cut = 0;
  let first = 0;
  while (cut < items.length - 1 && (first === 0 || Math.abs(total / 2 - first) > Math.abs(total / 2 - (first + items[cut]!.weight)))) {
    first += items[cut]!.weight;
    cut++;
  }
  const share = first / total;
  if (width >= height) {
    const w = Math.round(width * share);
    split(items.slice(0, cut), x, y, w, height, out);
    split(items.slice(cut), x + w, y, width - w, height, out);
  } else {
    const h = Math.round(height * share);
    split(items.slice(0, cut), x, y, width, h, out);
    split(items.slice(cut), x, y + h, width, height - h, out);
  }
}

/** Two letters for a badge: from a display name ("Ada Lovelace" → AL), else from the user id. */
export function initialsOf(user: { name?: string | undefined; userId: string }): string {
  const words = (user.name ?? '').split(/\s+/).filter((word) => /\p{L}/u.test(word));
  const letters = words.length >= 2 ? `${words[0]![0]}${words.at(-1)![0]}` : (words[0] ?? user.userId.replace(/[^\p{L}\p{N}]/gu, '')).slice(0, 2);
  return (letters || '?').toUpperCase();
}

export interface CollagePin extends CollageItem {
  image: Uint8Array;
  initials: string;
}

const GAP = 4;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function badgeSvg(votes: number, initials: string, hero: boolean): Buffer {
  const label = `${hero ? '★ ' : ''}▲ ${votes} · ${initials}`;
  const width = 18 + label.length * 11;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="30"><rect width="${width}" height="30" rx="8" fill="${hero ? '#b8860b' : '#000'}" fill-opacity="0.72"/>` +
      `<text x="9" y="21" font-family="DejaVu Sans, sans-serif" font-size="17" font-weight="bold" fill="#fff">${escapeXml(label)}</text></svg>`,
  );
}

/**
 * Renders the collage PNG. An empty board gets a plain card saying so. When the PNG is over `limitBytes`
 * it is rendered again at 80 % of the size, until it fits.
 */
export async function renderCollage(pins: readonly CollagePin[], shape: CollageShape, options: { heroKey?: string | undefined; title?: string; limitBytes?: number } = {}): Promise<{ png: Buffer; width: number; height: number }> {
  const limit = options.limitBytes ?? DEFAULT_COLLAGE_LIMIT_BYTES;
  let size = COLLAGE_SIZES[shape];
  for (;;) {
    const png = await composeOnce(pins, shape, size, options.heroKey, options.title);
    if (png.byteLength <= limit || size.width < 200) return { png, ...size };
    size = { width: Math.round(size.width * 0.8), height: Math.round(size.height * 0.8) };
  }
}

async function composeOnce(pins: readonly CollagePin[], shape: CollageShape, size: { width: number; height: number }, heroKey: string | undefined, title: string | undefined): Promise<Buffer> {
  const background = { r: 24, g: 24, b: 28, alpha: 1 };
  const canvas = sharp({ create: { width: size.width, height: size.height, channels: 4, background } });
  if (pins.length === 0) {
    const text = escapeXml(`${title ?? 'This board'}: nothing pinned yet — press 📌 on a tile`.replace('📌', 'the pin button'));
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size.width}" height="${size.height}"><text x="50%" y="50%" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="${Math.round(size.width / 40)}" fill="#ddd">${text}</text></svg>`;
    return canvas.composite([{ input: Buffer.from(svg), left: 0, top: 0 }]).png().toBuffer();
  }
  const cells = layoutCollage(pins, shape, heroKey, size);
  const byKey = new Map(pins.map((pin) => [pin.key, pin]));
  const layers = await Promise.all(
    cells.map(async (cell) => {
      const pin = byKey.get(cell.key)!;
      const width = Math.max(1, cell.width - GAP);
      const height = Math.max(1, cell.height - GAP);
      const tile = await sharp(pin.image).resize(width, height, { fit: 'cover' }).png().toBuffer();
      const layers: OverlayOptions[] = [{ input: tile, left: cell.x + GAP / 2, top: cell.y + GAP / 2 }];
      const badge = badgeSvg(pin.votes, pin.initials, pin.key === heroKey);
      const badgeMeta = await sharp(badge).metadata();
      if ((badgeMeta.width ?? 0) + 12 <= width && (badgeMeta.height ?? 0) + 12 <= height) layers.push({ input: badge, left: cell.x + GAP / 2 + 6, top: cell.y + GAP / 2 + height - (badgeMeta.height ?? 30) - 6 });
      return layers;
    }),
  );
  return canvas.composite(layers.flat()).png({ compressionLevel: 6 }).toBuffer();
}
