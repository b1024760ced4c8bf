/**
 * `POST /api/imagine`: the playground's prompt with pictures, as multipart/form-data (what a browser's FormData sends):
 *   text      the prompt box's line (`/imagine …` or a bare prompt; any other command is refused)
 *   image     1–5 files, in order; with `strength` the first is the start image (image-to-image)
 *   weight    one per image, 0–3: that picture's image weight (the page's control under each thumbnail)
 *   strength  optional, (0, 1]: passed to the parser as `--strength`
 *   requestId as /api/command's (a retried request names the same job)
 * The body is streamed through busboy (a well-kept multipart parser) up to MAX_PICTURE_FORM_BYTES, with limits on
 * files, their size and the fields; every field is checked here for shape only. The pictures themselves are checked and normalised
 * by the common path (bot/uploads.ts) inside `imagine`, like Discord's and Slack's.
 */
import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { MAX_IMAGE_WEIGHT } from '../../core/job.ts';
import { UPLOAD_LIMITS } from '../uploads.ts';
import type { WeightedPicture } from '../commands/index.ts';

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
  if (declared > MAX_PICTURE_FORM_BYTES) return TOO_LARGE;
  const parsed = await parseParts(request, type);
  if ('status' in parsed) return { ok: false, ...parsed };
  const { fields, files } = parsed;
  const text = fields.get('text')?.[0];
  if (text === undefined) return { ok: false, status: 400, error: 'Send the prompt as the form field "text".' };
  if (files.length === 0) return { ok: false, status: 400, error: 'Send each picture as a file in the form field "image".' };
  const weights = fields.get('weight') ?? [];
  if (weights.length !== 0 && weights.length !== files.length) return { ok: false, status: 400, error: 'Send one "weight" per picture, or none.' };
  const pictures: WeightedPicture[] = [];
  for (const [n, bytes] of files.entries()) {
    const weight = weights[n] === undefined ? 1 : Number(weights[n]);
    if (!Number.isFinite(weight) || weight < 0 || weight > MAX_IMAGE_WEIGHT) return { ok: false, status: 400, error: `The weight of picture ${n + 1} must be a number from 0 to ${MAX_IMAGE_WEIGHT}.` };
    pictures.push({ bytes, weight });
  }
  const strength = fields.get('strength')?.[0];
  const requestId = fields.get('requestId')?.[0];
  return { ok: true, form: { text, pictures, ...(strength ? { strength } : {}), ...(requestId === undefined ? {} : { requestId }) } };
}

const TOO_LARGE = {
  ok: false,
  status: 413,
  error: `The upload is over ${Math.round(MAX_PICTURE_FORM_BYTES / 1048576)} MiB: at most ${UPLOAD_LIMITS.maxFiles} pictures of ${UPLOAD_LIMITS.maxBytes / 1048576} MiB each.`,
} as const;

type Parts = { fields: Map<string, string[]>; files: Uint8Array[] } | { status: 400 | 413; error: string };

/**
 * The form's fields and `image` files, parsed by busboy as the body streams in (each chunk is parsed when it arrives,
 * so a large upload never holds the event loop; undici's `formData()` parses the whole body at once: 0.3–1.5 s for
 * 50 MiB). Busboy's limits stop at the first file over the byte limit, the sixth file or a field over 4 KiB.
 */
function parseParts(request: IncomingMessage, contentType: string): Promise<Parts> {
  return new Promise((resolve) => {
    const fields = new Map<string, string[]>();
    const files: Uint8Array[] = [];
    let failure: Parts | undefined;
    const fail = (status: 400 | 413, error: string) => {
      failure ??= { status, error };
    };
    let parser: BusboyInstance;
    try {
      parser = new Busboy({ headers: { ...request.headers, 'content-type': contentType }, limits: { files: UPLOAD_LIMITS.maxFiles, fileSize: UPLOAD_LIMITS.maxBytes, fields: 16, fieldSize: 4096, parts: 32 } });
    } catch {
      return resolve({ status: 400, error: 'The upload is not a well-formed multipart form.' });
    }
    parser.on('file', (name, stream) => {
      if (name !== 'image') return void stream.resume();
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(413, `Picture ${files.length + 1} is over ${UPLOAD_LIMITS.maxBytes / 1048576} MiB, the limit for one picture.`));
      stream.on('end', () => void files.push(new Uint8Array(Buffer.concat(chunks))));
    });
    parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
      if (valueTruncated) return fail(400, `The form field "${name.slice(0, 20)}" is too long.`);
      fields.set(name, [...(fields.get(name) ?? []), value]);
    });
    parser.on('filesLimit', () => fail(400, `More than ${UPLOAD_LIMITS.maxFiles} pictures were given; at most ${UPLOAD_LIMITS.maxFiles} are used with one request.`));
    parser.on('partsLimit', () => fail(400, 'The form has too many parts.'));
    parser.on('fieldsLimit', () => fail(400, 'The form has too many fields.'));
    parser.on('error', () => {
      request.unpipe(parser);
      request.resume();
      resolve(failure ?? { status: 400, error: 'The upload is not a well-formed multipart form.' });
    });
    parser.on('finish', () => resolve(failure ?? { fields, files }));
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > MAX_PICTURE_FORM_BYTES) {
        request.unpipe(parser);
        request.pause();
        resolve(TOO_LARGE);
      }
    });
    request.pipe(parser);
  });
}
