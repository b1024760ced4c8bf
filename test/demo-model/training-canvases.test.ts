/**
 * The demo model's Stage C trains on every canvas the bot can ask it for (tools/train-demo/train.py CANVASES, issue 21:
 * shapes stretched on canvases it had never seen). This keeps that list equal to what core/dimensions.ts gives at the
 * demo bundle's base resolution for every --ar the parser accepts and every --size.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_ASPECT_RATIO, resolveDimensions, SIZE_FACTORS } from '../../core/dimensions.ts';
import type { SizeClass } from '../../core/job.ts';

const TRAIN_PY = path.resolve(import.meta.dirname, '../../tools/train-demo/train.py');
const MANIFEST = path.resolve(import.meta.dirname, '../../models/demo/manifest.json');

describe('GIVEN the demo recipe and the bot\'s canvas rules', () => {
  it('THEN train.py CANVASES are exactly the (width, height) of every --ar 1–21 : 1–21 (≤ 4:1) and --size at the bundle\'s base', () => {
    const source = readFileSync(TRAIN_PY, 'utf8');
    const block = /^CANVASES = \(([\s\S]*?)\)\n/m.exec(source);
    expect(block, 'CANVASES = (...) in train.py').not.toBeNull();
    const trained = [...block![1]!.matchAll(/\((\d+), (\d+)\)/g)].map((m) => `${m[1]}x${m[2]}`).sort();
    const base = (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { resolution: { base: number } }).resolution.base;
    const offered = new Set<string>();
    for (let w = 1; w <= 21; w++) {
      for (let h = 1; h <= 21; h++) {
        if (Math.max(w / h, h / w) > MAX_ASPECT_RATIO) continue;
        for (const size of Object.keys(SIZE_FACTORS) as SizeClass[]) {
          const d = resolveDimensions({ w, h }, size, base);
          offered.add(`${d.width}x${d.height}`);
        }
      }
    }
    expect(trained).toEqual([...offered].sort());
  });
});
