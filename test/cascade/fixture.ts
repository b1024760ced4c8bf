/**
 * The committed parity fixture (test/fixtures/cascade-tiny, written by tools/export/make_fixture.py): a tiny
 * random-weight bundle plus the reference runs' goldens: little-endian float32 tensors back to back in <stem>.bin,
 * indexed by <stem>.json {tensors: {name: {offset, dims}}} with offsets counted in float32 values, not bytes.
 * Stems: `goldens` (text-to-image, test/cascade/parity.test.ts), `image-goldens` (image prompts and image-to-image,
 * test/cascade/image-parity.test.ts).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/cascade-tiny', import.meta.url));

export interface GoldenCase {
  name: string;
  prompt: string;
  negative: string;
  images: number;
  height: number;
  width: number;
  seed: number;
  cond_ids: number[];
  uncond_ids: number[];
  cond_mask: number[];
  uncond_mask: number[];
  prior_noise: number;
  decoder_noise: number;
}

export interface GoldenTensors {
  tensors: Record<string, { offset: number; dims: number[] }>;
}

interface GoldenIndex extends GoldenTensors {
  reference: Record<string, string>;
  priorSteps: number;
  decoderSteps: number;
  cases: GoldenCase[];
}

export class Goldens<Index extends GoldenTensors = GoldenIndex> {
  readonly index: Index;
  private readonly values: Float32Array;

  constructor(dir = FIXTURE_DIR, stem = 'goldens') {
    this.index = JSON.parse(readFileSync(`${dir}/${stem}.json`, 'utf8')) as Index;
    const bytes = readFileSync(`${dir}/${stem}.bin`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.values = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < this.values.length; i++) this.values[i] = view.getFloat32(i * 4, true);
  }

  tensor(name: string): { data: Float32Array; dims: number[] } {
    const entry = this.index.tensors[name];
    if (!entry) throw new Error(`golden tensor ${name} is not in the index`);
    const count = entry.dims.reduce((a, b) => a * b, 1);
    return { data: this.values.subarray(entry.offset, entry.offset + count), dims: entry.dims };
  }

  list(prefix: string): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 0; this.index.tensors[`${prefix}/${i}`]; i++) out.push(this.tensor(`${prefix}/${i}`).data);
    return out;
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`compared tensors differ in size: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

export function maxAbs(a: Float32Array): number {
  let max = 0;
  for (const v of a) max = Math.max(max, Math.abs(v));
  return max;
}

/**
 * A per-stage comparison for parity tests: asserts the engine traced the tensor, records "max diff (max |ref|)" under
 * its label in `figures` (printed by the test), and returns the max abs diff for the test's own bound.
 */
export function tracedComparer(figures: Record<string, string>): (ours: Float32Array | undefined, golden: Float32Array, label: string) => number {
  return (ours, golden, label) => {
    expect(ours, `${label} was traced`).toBeDefined();
    const diff = maxAbsDiff(ours!, golden);
    figures[label] = `${diff.toExponential(2)} (max |ref| ${maxAbs(golden).toPrecision(3)})`;
    return diff;
  };
}
