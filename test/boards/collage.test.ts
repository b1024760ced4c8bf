import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { COLLAGE_SIZES, collageWeights, initialsOf, layoutCollage, renderCollage, type CollageCell, type CollageShape } from '../../bot/boards/collage.ts';
import { tilePng } from './support.ts';

const items = (votes: number[]) => votes.map((v, i) => ({ key: `p${i}`, votes: v }));
const area = (cell: CollageCell) => cell.width * cell.height;

function expectTiling(cells: CollageCell[], shape: CollageShape): void {
  const { width, height } = COLLAGE_SIZES[shape];
  expect(cells.reduce((sum, cell) => sum + area(cell), 0)).toBe(width * height);
  for (const cell of cells) {
    expect(cell.x).toBeGreaterThanOrEqual(0);
    expect(cell.y).toBeGreaterThanOrEqual(0);
    expect(cell.x + cell.width).toBeLessThanOrEqual(width);
    expect(cell.y + cell.height).toBeLessThanOrEqual(height);
    for (const other of cells) {
      if (other === cell) continue;
      const overlap = Math.max(0, Math.min(cell.x + cell.width, other.x + other.width) - Math.max(cell.x, other.x)) * Math.max(0, Math.min(cell.y + cell.height, other.y + other.height) - Math.max(cell.y, other.y));
      expect(overlap).toBe(0);
    }
  }
}

describe('collage layout', () => {
  it.each([
    ['landscape', [0]],
    ['square', [3, 0]],
    ['portrait', [5, 1, 1, 0]],
    ['landscape', [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['square', Array.from({ length: 24 }, (_, i) => i % 5)],
    ['portrait', Array.from({ length: 48 }, (_, i) => (i * 7) % 11)],
  ] as Array<[CollageShape, number[]]>)('%s with votes %j: the cells tile the canvas, areas follow the weights', (shape, votes) => {
    const cells = layoutCollage(items(votes), shape);
    expect(cells).toHaveLength(votes.length);
    expectTiling(cells, shape);
    const total = COLLAGE_SIZES[shape].width * COLLAGE_SIZES[shape].height;
    const weightSum = votes.reduce((sum, v) => sum + 1 + v, 0);
    for (const cell of cells) {
      // Rounding to whole pixels moves at most a few percent of a cell's share.
      expect(area(cell) / total).toBeCloseTo(cell.weight / weightSum, 1);
    }
  });

  it('more votes never means a smaller cell', () => {
    const cells = layoutCollage(items([0, 4, 1, 9, 2, 0]), 'landscape');
    const byVotes = [...cells].sort((a, b) => a.weight - b.weight);
    for (let i = 1; i < byVotes.length; i++) if (byVotes[i]!.weight > byVotes[i - 1]!.weight) expect(area(byVotes[i]!)).toBeGreaterThan(area(byVotes[i - 1]!) * 0.9);
  });

  it.each(['landscape', 'square', 'portrait'] as CollageShape[])('%s: the hero is the largest cell even with no votes', (shape) => {
    const cells = layoutCollage(items([9, 7, 0, 3]), shape, 'p2');
    const hero = cells.find((cell) => cell.key === 'p2')!;
    for (const cell of cells) if (cell !== hero) expect(area(hero)).toBeGreaterThan(area(cell));
    expect(collageWeights(items([9, 7, 0, 3]), 'p2').get('p2')).toBe(16);
  });

  it('no pins, no cells; initials from names or ids', () => {
    expect(layoutCollage([], 'square')).toEqual([]);
    expect(initialsOf({ name: 'Ada Lovelace', userId: 'U1' })).toBe('AL');
    expect(initialsOf({ name: 'grace', userId: 'U1' })).toBe('GR');
    expect(initialsOf({ userId: 'U0A1B' })).toBe('U0');
    expect(initialsOf({ userId: '---' })).toBe('?');
  });
});

describe('collage image', () => {
  it.each(['landscape', 'square', 'portrait'] as CollageShape[])('%s: a PNG of the shape, under the upload limit', async (shape) => {
    const pins = await Promise.all([0, 1, 2, 3, 4].map(async (i) => ({ key: `p${i}`, votes: i, image: await tilePng(i * 40, 256, 256), initials: 'AB' })));
    const { png, width, height } = await renderCollage(pins, shape, { heroKey: 'p0' });
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe('png');
    expect([meta.width, meta.height]).toEqual([width, height]);
    expect([width, height]).toEqual([COLLAGE_SIZES[shape].width, COLLAGE_SIZES[shape].height]);
    expect(png.byteLength).toBeLessThan(8 * 1024 * 1024);
    // The hero's cell shows the hero's colour at its centre.
    const cell = layoutCollage(pins, shape, 'p0').find((c) => c.key === 'p0')!;
    const { data } = await sharp(png).extract({ left: cell.x + Math.floor(cell.width / 2), top: cell.y + 4, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
    const expected = await sharp(pins[0]!.image).extract({ left: 128, top: 128, width: 1, height: 1 }).raw().toBuffer();
    expect([...data.subarray(0, 3)]).toEqual([...expected.subarray(0, 3)]);
  });

  it('a collage over the limit is rendered smaller until it fits', async () => {
    const noisy = await sharp(Buffer.from(Array.from({ length: 256 * 256 * 3 }, (_, i) => (i * 2654435761) % 251)), { raw: { width: 256, height: 256, channels: 3 } }).png().toBuffer();
    const pins = [{ key: 'a', votes: 0, image: noisy, initials: 'AB' }];
    const full = await renderCollage(pins, 'square');
    const fitted = await renderCollage(pins, 'square', { limitBytes: Math.floor(full.png.byteLength / 2) });
    expect(fitted.png.byteLength).toBeLessThanOrEqual(Math.floor(full.png.byteLength / 2));
    expect(fitted.width).toBeLessThan(full.width);
  });

  it('an empty board renders a card', async () => {
    const { png } = await renderCollage([], 'landscape', { title: 'Empty' });
    expect((await sharp(png).metadata()).width).toBe(1600);
  });
});
