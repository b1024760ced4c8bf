/**
 * Pictures users give with a command (image prompts, /blend, image-to-image) are hostile input. One path for every
 * platform:
 * 1. Bytes arrive only through the platform's own file mechanism: a Discord attachment (its URL must be on Discord's
 *    CDN hosts), a Slack file (fetched from files.slack.com with the bot token), a playground POST. No other URL is
 *    ever fetched (no SSRF): `fetchPlatformFile` checks the scheme, host, port and credentials, refuses redirects,
 *    caps the bytes while reading and gives up after a timeout.
 * 2. `checkUpload` sniffs the content (magic bytes, then sharp's header read — the declared type and file name are not
 *    trusted), refuses what is not a still PNG, JPEG or WebP, animated pictures, and pictures over the byte or pixel
 *    limits (decompression bombs are refused from the header, before any pixel is decoded; sharp's limitInputPixels
 *    backs that up), then normalises: EXIF orientation applied, sRGB, alpha flattened on white, at most
 *    STORED_MAX_SIDE px, PNG.
 * 3. The normalised PNGs are stored at jobs/{id}/inputs/{n}.png only when the job is accepted (`storeUploads`), under
 *    the job's prefix (same lifecycle and deletion); a refused job leaves nothing behind (`discardUploads`).
 * Every refusal is an UploadError whose message says what was wrong and what is accepted.
 */
import sharp from 'sharp';
import type { BlobStore } from '../core/ports.ts';
import type { JobId } from '../core/job.ts';
import { jobKeys } from '../core/storage-layout.ts';

export const UPLOAD_LIMITS = {
  /** Bytes of one file as sent (Discord's free upload limit is 10 MiB; larger pictures are refused unread). */
  maxBytes: 10 * 1024 * 1024,
  /** Width × height of one picture, read from its header before decoding (8192 × 8192 = 67 MP would be 200 MB of RGB). */
  maxPixels: 36_000_000,
  /** Longest side of one picture. */
  maxSide: 12_000,
  /** Pictures with one request (image prompts). */
  maxFiles: 5,
  /** Seconds a platform download may take. */
  fetchTimeoutMs: 15_000,
} as const;

/** Stored inputs are at most this many px on the longest side: above what any encoder reads (CLIP 224, EfficientNet 32·h_c). */
export const STORED_MAX_SIDE = 1536;

export type UploadProblem = 'too_large' | 'not_an_image' | 'unsupported_format' | 'animated' | 'too_many_pixels' | 'too_many_files' | 'not_allowed_url' | 'download_failed';

export class UploadError extends Error {
  readonly code = 'bad_upload' as const;
  readonly problem: UploadProblem;
  constructor(
    problem: UploadProblem,
    message: string,
  ) {
    super(message);
    this.problem = problem;
    this.name = 'UploadError';
  }
}

const ACCEPTED = 'Send a still PNG, JPEG or WebP picture';

/** What the first bytes say the file is (the declared content type and name are never trusted). */
export function sniffImageType(bytes: Uint8Array): 'png' | 'jpeg' | 'webp' | 'gif' | 'other' {
  const at = (i: number) => bytes[i] ?? -1;
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47) return 'png';
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'jpeg';
  if (at(0) === 0x52 && at(1) === 0x49 && at(2) === 0x46 && at(3) === 0x46 && at(8) === 0x57 && at(9) === 0x45 && at(10) === 0x42 && at(11) === 0x50) return 'webp';
  if (at(0) === 0x47 && at(1) === 0x49 && at(2) === 0x46) return 'gif';
  return 'other';
}

/** A checked, normalised picture: PNG bytes (RGB, ≤ STORED_MAX_SIDE) and its size. */
export interface NormalisedUpload {
  png: Uint8Array;
  width: number;
  height: number;
}

/**
 * Checks one uploaded file and normalises it (see the module comment). `label` names the file in messages
 * ("image 2"). Throws UploadError.
 */
export async function checkUpload(bytes: Uint8Array, label: string): Promise<NormalisedUpload> {
  if (bytes.byteLength > UPLOAD_LIMITS.maxBytes) {
    throw new UploadError('too_large', `${label} is ${mib(bytes.byteLength)}; the limit is ${mib(UPLOAD_LIMITS.maxBytes)}. ${ACCEPTED} under that size.`);
  }
  const sniffed = sniffImageType(bytes);
  if (sniffed === 'gif') throw new UploadError('unsupported_format', `${label} is a GIF. ${ACCEPTED} (animations are not used).`);
  if (sniffed === 'other') throw new UploadError('not_an_image', `${label} is not a picture this bot reads. ${ACCEPTED}.`);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch {
    throw new UploadError('not_an_image', `${label} could not be read as a ${sniffed.toUpperCase()} (damaged or incomplete file). ${ACCEPTED}.`);
  }
  if (meta.format !== sniffed && !(sniffed === 'jpeg' && meta.format === 'jpeg')) {
    throw new UploadError('unsupported_format', `${label} is not a plain ${sniffed.toUpperCase()} (read as ${meta.format ?? 'unknown'}). ${ACCEPTED}.`);
  }
  if ((meta.pages ?? 1) > 1) throw new UploadError('animated', `${label} is animated (${meta.pages} frames). ${ACCEPTED}: one frame.`);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width < 1 || height < 1) throw new UploadError('not_an_image', `${label} has no size. ${ACCEPTED}.`);
  if (width > UPLOAD_LIMITS.maxSide || height > UPLOAD_LIMITS.maxSide || width * height > UPLOAD_LIMITS.maxPixels) {
    throw new UploadError(
      'too_many_pixels',
      `${label} is ${width}×${height} px; at most ${UPLOAD_LIMITS.maxPixels / 1e6} megapixels and ${UPLOAD_LIMITS.maxSide} px a side are accepted. Send a smaller picture.`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: UPLOAD_LIMITS.maxPixels, failOn: 'error', pages: 1 })
      .rotate()
      .toColourspace('srgb')
      .flatten({ background: '#ffffff' })
      .resize(STORED_MAX_SIDE, STORED_MAX_SIDE, { fit: 'inside', withoutEnlargement: true })
      .png({ compressionLevel: 6 })
      .toBuffer({ resolveWithObject: true });
    return { png: new Uint8Array(data), width: info.width, height: info.height };
  } catch {
    throw new UploadError('not_an_image', `${label} could not be decoded (damaged or truncated ${sniffed.toUpperCase()}). ${ACCEPTED}.`);
  }
}

/** Checks and normalises every picture of a request, in order; at most UPLOAD_LIMITS.maxFiles. */
export async function checkUploads(files: readonly Uint8Array[]): Promise<NormalisedUpload[]> {
  if (files.length > UPLOAD_LIMITS.maxFiles) {
    throw new UploadError('too_many_files', `${files.length} pictures were given; at most ${UPLOAD_LIMITS.maxFiles} are used with one request.`);
  }
  const out: NormalisedUpload[] = [];
  // One at a time: each decode holds up to maxPixels of memory.
  for (const [i, file] of files.entries()) out.push(await checkUpload(file, files.length > 1 ? `Image ${i + 1}` : 'The image'));
  return out;
}

/** Stores a job's normalised pictures at jobs/{id}/inputs/{n}.png and returns their keys. */
export async function storeUploads(blobs: BlobStore, jobId: JobId, uploads: readonly NormalisedUpload[]): Promise<string[]> {
  const keys = uploads.map((_, n) => jobKeys.input(jobId, n));
  await Promise.all(uploads.map((upload, n) => blobs.put(keys[n]!, upload.png, 'image/png')));
  return keys;
}

/** Removes a refused job's pictures, so nothing is left behind. */
export async function discardUploads(blobs: BlobStore, keys: readonly string[]): Promise<void> {
  if (keys.length > 0) await blobs.delete([...keys]);
}

/** Where a platform file may come from. */
export interface FileSource {
  /** Exact host names (no wildcards): Discord's CDN, or Slack's file host. */
  hosts: readonly string[];
  /** Sent only to those hosts (Slack's bot token). */
  headers?: Record<string, string>;
  /** For tests on loopback only: allow http:// and any port on these hosts. */
  allowInsecureLoopback?: boolean;
}

export const DISCORD_CDN: FileSource = { hosts: ['cdn.discordapp.com', 'media.discordapp.net'] };
export const slackFiles = (botToken: string): FileSource => ({ hosts: ['files.slack.com'], headers: { authorization: `Bearer ${botToken}` } });

/** The URL if it is one `source` allows; otherwise an UploadError that does not echo long input. */
export function allowedFileUrl(raw: string, source: FileSource): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UploadError('not_allowed_url', 'The image link is not a valid URL. Attach the picture to the command instead.');
  }
  const loopback = source.allowInsecureLoopback === true && (url.hostname === '127.0.0.1' || url.hostname === 'localhost');
  const secure = url.protocol === 'https:' && url.port === '';
  if (!(secure || (loopback && url.protocol === 'http:')) || url.username !== '' || url.password !== '' || !(source.hosts.includes(url.hostname) || loopback)) {
    throw new UploadError('not_allowed_url', `Images are only taken from ${source.hosts.join(' or ')} (attach the picture to the command); ${url.hostname.slice(0, 60) || 'that link'} is not one of them.`);
  }
  return url;
}

/**
 * Downloads a platform file: allowed URL only, no redirects, at most UPLOAD_LIMITS.maxBytes (checked against the
 * declared length and again while reading), within the timeout.
 */
export async function fetchPlatformFile(raw: string, source: FileSource, fetchImpl: typeof fetch = fetch): Promise<Uint8Array> {
  const url = allowedFileUrl(raw, source);
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: 'error', headers: source.headers ?? {}, signal: AbortSignal.timeout(UPLOAD_LIMITS.fetchTimeoutMs) });
  } catch {
    throw new UploadError('download_failed', 'The image could not be downloaded from the chat platform (no answer or a redirect). Try attaching it again.');
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new UploadError('download_failed', `The chat platform answered ${response.status} for the image. Try attaching it again.`);
  }
  if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
    // Slack answers a download it does not authorise (e.g. a token without files:read) with its sign-in page.
    await response.body?.cancel();
    throw new UploadError('download_failed', 'The chat platform sent a web page instead of the image (the app may not be allowed to read that file). Try attaching it again.');
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > UPLOAD_LIMITS.maxBytes) {
    await response.body?.cancel();
    throw new UploadError('too_large', `The image is ${mib(declared)}; the limit is ${mib(UPLOAD_LIMITS.maxBytes)}.`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > UPLOAD_LIMITS.maxBytes) {
        await reader.cancel();
        throw new UploadError('too_large', `The image is over the ${mib(UPLOAD_LIMITS.maxBytes)} limit.`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof UploadError) throw error;
    throw new UploadError('download_failed', 'The image download broke off. Try attaching it again.');
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
