import { expect } from 'vitest';

/**
 * Byte-for-byte equality of large typed arrays. `toEqual` walks megabytes element by element (≈ 25 s for a 3 MB
 * image on 2 cores) and prints all of them on failure; this compares with Buffer.equals and names the first
 * differing byte instead. Just as strict: the lengths and every byte must match.
 */
export function expectSameBytes(actual: ArrayBufferView, expected: ArrayBufferView, label = 'bytes'): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let first = 0;
  while (first < Math.min(a.length, b.length) && a[first] === b[first]) first++;
  expect.fail(`${label}: ${a.length} bytes vs ${b.length} expected; first difference at byte ${first} (${a[first]} vs ${b[first]})`);
}

/** An RGB image equal to another: same size and the same bytes. */
export function expectSameImage(actual: { width: number; height: number; data: Uint8Array }, expected: { width: number; height: number; data: Uint8Array }): void {
  expect([actual.width, actual.height]).toEqual([expected.width, expected.height]);
  expectSameBytes(actual.data, expected.data, `${expected.width}×${expected.height} image`);
}
