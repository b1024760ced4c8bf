/** withPngText, read back by parsers: sharp (libspng) for the text, and the file's own chunk list for order and CRCs. */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { withPngText } from '../../bot/png-text.ts';

/** Every chunk of a PNG in file order: its type and whether its CRC-32 matches. */
function chunkList(png: Buffer): { type: string; crcOk: boolean }[] {
  const chunks: { type: string; crcOk: boolean }[] = [];
  for (let at = 8; at + 12 <= png.length; ) {
    const length = png.readUInt32BE(at);
    chunks.push({ type: png.toString('latin1', at + 4, at + 8), crcOk: crc32(png.subarray(at + 4, at + 8 + length)) === png.readUInt32BE(at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

describe('GIVEN a PNG and parameters', () => {
  it('WHEN tagged THEN the text chunks go right after IHDR (tEXt for ASCII, iTXt for the rest), sharp reads them back, and the pixels are the same', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 40, b: 90 } } }).png().toBuffer();
    const tagged = withPngText(png, { prompt: 'a fox ü 🦊', seed: '7' });
    expect(chunkList(tagged).slice(0, 3)).toEqual([
      { type: 'IHDR', crcOk: true },
      { type: 'iTXt', crcOk: true },
      { type: 'tEXt', crcOk: true },
    ]);
    expect(chunkList(tagged).every((chunk) => chunk.crcOk)).toBe(true);
    const meta = await sharp(tagged).metadata();
    expect(meta.comments).toEqual([{ keyword: 'prompt', text: 'a fox ü 🦊' }, { keyword: 'seed', text: '7' }]);
    expect((await sharp(tagged).raw().toBuffer()).equals(await sharp(png).raw().toBuffer())).toBe(true);
  });

  it('WHEN a keyword has characters PNG keywords cannot hold THEN they become "_" and the keyword stays within 79 bytes', async () => {
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: 'white' } }).png().toBuffer();
    const meta = await sharp(withPngText(png, { 'prömpt': 'x', ['k'.repeat(100)]: 'y' })).metadata();
    expect(meta.comments).toEqual([{ keyword: 'pr_mpt', text: 'x' }, { keyword: 'k'.repeat(79), text: 'y' }]);
  });

  it('WHEN the bytes are not a PNG THEN it refuses them', () => {
    expect(() => withPngText(new Uint8Array([1, 2, 3]), { a: 'b' })).toThrow('not a PNG');
    expect(() => withPngText(new Uint8Array(64).fill(0xff), { a: 'b' })).toThrow('not a PNG');
  });
});
