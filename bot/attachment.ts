/**
 * Turns a stored image into an attachment that fits a platform's upload limit.
 *
 * A 4-up PNG grid at 2048² or a 2× upscale can exceed Discord's 10 MiB default; we keep the PNG
 * when it fits (lossless is what users expect), else re-encode as JPEG at falling quality, then
 * WebP, then shrink. sharp is imported here and nowhere else in bot/.
 *
 * @example
 *   const a = await fitAttachment(pngBytes, 'image/png', 'grid-j1', 8 * 1024 * 1024);
 *   a.contentType // → 'image/png' when it fits, else 'image/jpeg' or 'image/webp'
 */
import sharp from 'sharp';
import type { BlobStore } from '../core/ports.ts';
import type { Attachment } from './poster.ts';
import { CodedError } from '../core/errors.ts';

const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

export class AttachmentTooLargeError extends CodedError<'attachment_too_large'> {
  readonly limitBytes: number;
  readonly smallestBytes: number;
  constructor(limitBytes: number, smallestBytes: number) {
    super('attachment_too_large', `the image cannot be made smaller than ${smallestBytes} bytes, over the ${limitBytes}-byte upload limit`, { limitBytes, smallestBytes });
    this.limitBytes = limitBytes;
    this.smallestBytes = smallestBytes;
  }
}

function attachment(bytes: Uint8Array, contentType: string, baseName: string): Attachment {
  return { bytes, contentType, fileName: `${baseName}.${EXTENSIONS[contentType] ?? 'bin'}` };
}

export async function fitAttachment(bytes: Uint8Array, contentType: string, baseName: string, limitBytes: number): Promise<Attachment> {
  if (bytes.byteLength <= limitBytes) return attachment(bytes, contentType, baseName);
  let smallest = bytes.byteLength;
  const meta = await sharp(bytes).metadata();
  const width = meta.width ?? 0;
  for (const scale of [1, 0.75, 0.5, 0.35, 0.25]) {
    const resize = scale === 1 || width === 0 ? undefined : Math.max(1, Math.round(width * scale));
    for (const quality of [90, 80, 70]) {
      const jpeg = await encode(bytes, resize, 'jpeg', quality);
      if (jpeg.byteLength <= limitBytes) return attachment(jpeg, 'image/jpeg', baseName);
      smallest = Math.min(smallest, jpeg.byteLength);
    }
    const webp = await encode(bytes, resize, 'webp', 75);
    if (webp.byteLength <= limitBytes) return attachment(webp, 'image/webp', baseName);
    smallest = Math.min(smallest, webp.byteLength);
  }
  throw new AttachmentTooLargeError(limitBytes, smallest);
}

async function encode(bytes: Uint8Array, width: number | undefined, format: 'jpeg' | 'webp', quality: number): Promise<Uint8Array> {
  let pipeline = sharp(bytes);
  if (width !== undefined) pipeline = pipeline.resize({ width });
  const output = format === 'jpeg' ? pipeline.flatten({ background: '#ffffff' }).jpeg({ quality, mozjpeg: true }) : pipeline.webp({ quality });
  return new Uint8Array(await output.toBuffer());
}

/** Loads an image from the store and fits it; null when the object is gone (deleted or expired). */
export async function loadAttachment(blobs: BlobStore, key: string, contentType: string, baseName: string, limitBytes: number): Promise<Attachment | null> {
  const bytes = await blobs.get(key);
  return bytes ? fitAttachment(bytes, contentType, baseName, limitBytes) : null;
}
