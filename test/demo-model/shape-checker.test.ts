/**
 * The demo-model quality checker on images drawn here with known content: it must name background, colour, shape
 * and position right, and report no shape on a flat image.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../gpu-runner/generator.ts';
import { judgeImage, judgeRegions, loadHeldout, renderScene, score, type HeldoutDocument, type HeldoutPrompt } from '../support/shape-checker.ts';

let doc: HeldoutDocument;
beforeAll(async () => {
  doc = await loadHeldout();
});

/** Inside tests in canvas units (centre cx, cy; half-size s), matching tools/train-demo/render.py's outlines. */
const INSIDE: Record<string, (dx: number, dy: number, s: number) => boolean> = {
  circle: (dx, dy, s) => dx * dx + dy * dy <= s * s,
  square: (dx, dy, s) => Math.max(Math.abs(dx), Math.abs(dy)) <= 0.9 * s,
  diamond: (dx, dy, s) => Math.abs(dx) + Math.abs(dy) <= 1.1 * s,
  triangle: (dx, dy, s) => dy <= 0.55 * s && 1.5 * Math.abs(dx) - (dy + 1.1 * s) <= 0,
};

function draw(shape: string, colour: string, background: string, position: string, size = 0.12, side = 256): RgbImage {
  const data = new Uint8Array(side * side * 3);
  const [cx, cy] = doc.positions[position]!;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inside = INSIDE[shape]!((x + 0.5) / side - cx, (y + 0.5) / side - cy, size);
      data.set(doc.palette[inside ? colour : background]!, (y * side + x) * 3);
    }
  }
  return { width: side, height: side, data };
}

describe('GIVEN images drawn with known content', () => {
  it('WHEN each shape is drawn at each position THEN the checker names shape, colours and position', () => {
    const cases: HeldoutPrompt[] = [];
    const shapes = ['circle', 'square', 'triangle', 'diamond'];
    const colours = Object.keys(doc.palette);
    Object.keys(doc.positions).forEach((position, i) => {
      shapes.forEach((shape, j) => {
        const colour = colours[(i + j) % colours.length]!;
        const background = colours[(i + 2 * j + 3) % colours.length]!;
        if (colour !== background) cases.push({ prompt: `${colour} ${shape} ${position} on ${background}`, shape, colour, background, position, size: null, seed: 0 });
      });
    });
    const result = score(cases.map((c) => ({ expected: c, judged: judgeImage(draw(c.shape, c.colour, c.background, c.position), doc) })));
    expect(result.misses).toEqual([]);
    expect(result.count).toBeGreaterThan(30);
  });

  it('WHEN the image is one flat colour THEN it finds the background and no shape', () => {
    const flat = draw('circle', 'green', 'green', 'center');
    expect(judgeImage(flat, doc)).toMatchObject({ background: 'green', colour: null, shape: null, position: null });
  });

  it('WHEN the wrong shape is drawn THEN the score counts a miss', () => {
    const expected: HeldoutPrompt = { prompt: 'a red circle', shape: 'circle', colour: 'red', background: 'blue', position: 'top-left', size: null, seed: 0 };
    const result = score([{ expected, judged: judgeImage(draw('square', 'red', 'blue', 'top-left'), doc) }]);
    expect(result.accuracy).toEqual({ colour: 1, background: 1, shape: 0, position: 1 });
    expect(result.misses).toEqual([{ prompt: 'a red circle', attribute: 'shape', expected: 'circle', got: 'square' }]);
  });
});

describe('GIVEN the exact renders of the held-out scenes (renderScene, the image families\' sources)', () => {
  it('THEN the checker reads every attribute back (first 60), one shape each, with crisp edges — on square and 16:9 canvases', async () => {
    const doc = await loadHeldout();
    for (const [width, height] of [[256, 256], [320, 192]] as const) {
      const pairs = doc.prompts.slice(0, 60).map((expected) => ({ expected, judged: judgeImage(renderScene(doc, expected.background, [expected], width, height), doc) }));
      const result = score(pairs);
      expect({ width, misses: result.misses }).toEqual({ width, misses: [] });
      expect(pairs.every((p) => p.judged.count === 1)).toBe(true);
      expect(Math.min(...pairs.map((p) => p.judged.iou))).toBeGreaterThan(0.85);
      const circles = pairs.filter((p) => p.expected.shape === 'circle').map((p) => p.judged.boxAspect);
      expect(Math.min(...circles)).toBeGreaterThan(0.95);
      expect(Math.max(...circles)).toBeLessThan(1.05);
    }
  });

  it('THEN a count family scene drawn exactly shows its count, and two shapes show both on their sides', async () => {
    const doc = await loadHeldout();
    const layouts: Record<number, string[]> = { 1: ['center'], 2: ['left', 'right'], 3: ['left', 'center', 'right'], 4: ['top-left', 'top-right', 'bottom-left', 'bottom-right'] };
    for (const c of doc.families!.count.slice(0, 40)) {
      const shapes = layouts[c.count]!.map((position) => ({ shape: c.shape, colour: c.colour, position, size: c.count === 4 ? 'small' : 'medium' }));
      expect(judgeRegions(renderScene(doc, c.background, shapes), doc).regions.length).toBe(c.count);
    }
    for (const t of doc.families!.two.slice(0, 40)) {
      const { regions } = judgeRegions(renderScene(doc, t.background, t.shapes), doc);
      for (const s of t.shapes) expect(regions.some((r) => r.colour === s.colour && r.shape === s.shape && (r.cx < 0.5 ? 'left' : 'right') === s.side)).toBe(true);
    }
  });
});
