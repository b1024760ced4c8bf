/**
 * `POST /api/imagine`: the playground's prompt with pictures, as multipart/form-data (what a browser's FormData sends):
 *   text      the prompt box's line (`/imagine …` or a bare prompt; any other command is refused)
 *   image     1–5 files, in order; with `strength` the first is the start image (image-to-image)
 *   weight    one per image, 0–3: that picture's image weight (the page's control under each thumbnail)
 *   strength  optional, (0, 1]: passed to the parser as `--strength`
 *   requestId as /api/command's (a retried request names the same job)
 * The body is read up to MAX_PICTURE_FORM_BYTES, then parsed by the platform's own multipart parser (undici's
 * `Response.formData`); every field is checked here for shape only. The pictures themselves are checked and normalised
 * by the common path (bot/uploads.ts) inside `imagine`, like Discord's and Slack's.
 */
import type { IncomingMessage } from 'node:http';
import { MAX_IMAGE_WEIGHT } from '../../core/job.js';
import { UPLOAD_LIMITS } from '../uploads.js';
import type { WeightedPicture } from '../commands/index.js';

/** Five pictures at the byte limit plus the text fields and multipart framing. */
export const MAX_PICTURE_FORM_BYTES = UPLOAD_LIMITS.maxFiles * UPLOAD_LIMITS.maxBytes + 64 * 1024;

export interface PictureForm {
  text: string;
  pictures: WeightedPicture[];
  strength?: string;
  requestId?: string;
}

/** The form, or an error with the HTTP status and the sentence for the page. */
export type PictureFormResult = { ok: true; form: PictureForm } | { ok: false; status: 400 | 413 | 415; error: string };

export async function readPictureForm(request: IncomingMessage): Promise<PictureFormResult> {
  const type = request.headers['content-type'] ?? '';
  if (!/^multipart\/form-data;\s*boundary=/i.test(type)) return { ok: false, status: 415, error: 'Send the pictures as multipart/form-data (the page does this).' };
  const declared = Number(request.headers['content-length'] ?? NaN);
  const tooLarge = { ok: false, status: 413, error: `The upload is over ${Math.round(MAX_PICTURE_FORM_BYTES / 1048576)} MiB: at most ${UPLOAD_LIMITS.maxFiles} pictures of ${UPLOAD_LIMITS.maxBytes / 1048576} MiB each.` } as const;
  if (declared > MAX_PICTURE_FORM_BYTES) return tooLarge;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_PICTURE_FORM_BYTES) return tooLarge;
    chunks.push(chunk as Buffer);
  }
  let data: FormData;
  try {
    data = await new Response(Buffer.concat(chunks), { headers: { 'content-type': type } }).formData();
  } catch {
    return { ok: false, status: 400, error: 'The upload is not a well-formed multipart form.' };
  }
  const text = data.get('text');
  if (typeof text !== 'string') return { ok: false, status: 400, error: 'Send the prompt as the form field "text".' };
  const files = data.getAll('image');
  if (files.length === 0 || files.some((file) => typeof file === 'string')) return { ok: false, status: 400, error: 'Send each picture as a file in the form field "image".' };
  if (files.length > UPLOAD_LIMITS.maxFiles) return { ok: false, status: 400, error: `${files.length} pictures were given; at most ${UPLOAD_LIMITS.maxFiles} are used with one request.` };
  const weights = data.getAll('weight');
  if (weights.length !== 0 && weights.length !== files.length) return { ok: false, status: 400, error: 'Send one "weight" per picture, or none.' };
  const pictures: WeightedPicture[] = [];
  for (const [n, file] of files.entries()) {
    const weightText = weights[n];
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (typeof weightText === 'object' || !Number.isFinite(weight) || weight < 0 || weight > MAX_IMAGE_WEIGHT) {
      return { ok: false, status: 400, error: `The weight of picture ${n + 1} must be a number from 0 to ${MAX_IMAGE_WEIGHT}.` };
    }
    pictures.push({ bytes: new Uint8Array(await (file as File).arrayBuffer()), weight });
  }
  const strength = data.get('strength');
  const requestId = data.get('requestId');
  return {
    ok: true,
    form: { text, pictures, ...(typeof strength === 'string' && strength !== '' ? { strength } : {}), ...(typeof requestId === 'string' ? { requestId } : {}) },
  };
}
