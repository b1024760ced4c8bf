/**
 * The demo-model quality checker on images drawn here with known content: it must name background, colour, shape
 * and position right, and report no shape on a flat image.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../gpu-runner/generator.js';
import { judgeImage, loadHeldout, score, type HeldoutDocument, type HeldoutPrompt } from '../support/shape-checker.js';

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
