/**
 * Text chunks in a PNG: the one way this project writes parameters into an image file (a tile's download, a mood
 * board's zip). Writing a chunk is a length, a type, the bytes and a CRC-32 (node:zlib's); the PNG chunk libraries on
 * npm are unmaintained since 2016, so this is the few lines it takes. The pixels are not touched.
 *
 * @example
 *   const tagged = withPngText(png, { prompt: 'a fox 🦊', seed: '7' });   // sharp(tagged).metadata() → comments [{ keyword: 'prompt', … }, …]
 */
import { crc32 } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);

/**
 * Inserts text chunks (keyword → text) right after IHDR: tEXt for ASCII text, iTXt (UTF-8) for anything else,
 * since tEXt is Latin-1 and readers differ on it. Throws for bytes that are not a PNG.
 */
export function withPngText(png: Uint8Array, entries: Record<string, string>): Buffer {
  const bytes = Buffer.from(png);
  if (bytes.byteLength < 33 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG file');
  const ihdrEnd = 8 + 12 + bytes.readUInt32BE(8);
  const chunks = Object.entries(entries).map(([name, text]) => {
    const keyword = name.replace(/[^\x20-\x7e]/g, '_').slice(0, 79);
    const ascii = /^[\x20-\x7e\n]*$/.test(text);
    // tEXt: keyword NUL text. iTXt: keyword NUL, uncompressed (0 0), no language tag NUL, no translated keyword NUL, UTF-8 text.
    const data = ascii ? Buffer.from(`${keyword}\0${text}`, 'latin1') : Buffer.concat([Buffer.from(`${keyword}\0\0\0\0\0`, 'latin1'), Buffer.from(text, 'utf8')]);
    const type = ascii ? 'tEXt' : 'iTXt';
    const chunk = Buffer.alloc(12 + data.byteLength);
    chunk.writeUInt32BE(data.byteLength, 0);
    chunk.write(type, 4, 'latin1');
    data.copy(chunk, 8);
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.byteLength)), 8 + data.byteLength);
    return chunk;
  });
  return Buffer.concat([bytes.subarray(0, ihdrEnd), ...chunks, bytes.subarray(ihdrEnd)]);
}
