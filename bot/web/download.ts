/**
 * A tile as a PNG file that says how it was made: the image from the store, re-encoded by sharp with an
 * XMP packet (a PNG text chunk, keyword "XML:com.adobe.xmp") holding the prompt, negative prompt, seed,
 * size, model, job and the line that reproduces it. XMP, unlike tEXt, is UTF-8, so prompts with emoji or
 * CJK survive; image viewers and exiftool show dc:description and the cascade: fields.
 *
 * @example
 *   const file = await tileDownload(blobs, 'j4f2…', 2);   // → { bytes, fileName: 'cascade-j4f2…-2.png', parameters: {…} } | { status: 404, error }
 */
import sharp from 'sharp';
import type { JobId } from '../../core/job.js';
import type { BlobStore } from '../../core/ports.js';
import { loadJob, loadResult } from '../job-records.js';
import { describeOptions } from '../message-model.js';

export interface TileParameters {
  prompt: string;
  negativePrompt: string;
  seed: number;
  width: number;
  height: number;
  options: string;
  /** The /imagine line that makes this image again (as tile 1). */
  reproduce: string;
  model: string;
  jobId: string;
  tile: number;
}

export type TileDownload = { bytes: Buffer; fileName: string; parameters: TileParameters } | { status: 404; error: string };

export const XMP_NAMESPACE = 'https://github.com/cascade-bot/ns/parameters/1.0/';

export async function tileDownload(blobs: BlobStore, jobId: JobId, index: number): Promise<TileDownload> {
  const [job, result] = await Promise.all([loadJob(blobs, jobId), loadResult(blobs, jobId)]);
  const tile = result?.images.find((image) => image.index === index);
  if (!job || !result || !tile) return { status: 404, error: `Job ${jobId} has no finished image ${index} (deleted, expired or not done yet).` };
  const image = await blobs.get(tile.key);
  if (!image) return { status: 404, error: `The image ${index} of job ${jobId} is no longer stored.` };
  const options = describeOptions({ ...job.request, seed: tile.seed });
  const parameters: TileParameters = {
    prompt: job.request.prompt,
    negativePrompt: job.request.negativePrompt,
    seed: tile.seed,
    width: tile.width,
    height: tile.height,
    options,
    reproduce: `/imagine ${job.request.prompt} ${options}`,
    model: `${result.model.name} (${result.model.variant})`,
    jobId,
    tile: index,
  };
  const bytes = await sharp(image).withXmp(xmpOf(parameters)).png().toBuffer();
  return { bytes, fileName: `cascade-${jobId}-${index}.png`, parameters };
}

/** The XMP packet: Dublin Core description (the prompt) plus every parameter in the cascade: namespace. */
export function xmpOf(parameters: TileParameters): string {
  const fields = Object.entries(parameters).map(([name, value]) => `<cascade:${name}>${escapeXml(String(value))}</cascade:${name}>`).join('');
  return (
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>' +
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    `<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cascade="${XMP_NAMESPACE}">` +
    `<dc:description><rdf:Alt><rdf:li xml:lang="x-default">${escapeXml(parameters.prompt)}</rdf:li></rdf:Alt></dc:description>${fields}` +
    '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
  );
}

function escapeXml(text: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the rest are escaped.
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
