/**
 * The read-only board page on AWS: a Lambda function URL (infra/resources/board-page.ts) serving the very pages
 * the playground serves at /boards/{id}?t={token} (bot/web/board-routes.ts `boardPageReply`, one code path):
 * the page, each pinned image and the three exports. Every request needs the board's unguessable page-link
 * token (only its sha256 is stored); without it, or with a wrong one, a `private` or `link` board, an unknown
 * board and a malformed id all get the same 404, so the URL cannot be used to learn that a board exists.
 *
 * Stored files (pinned images, exports) are not sent through the function (its answers are capped at 6 MB): the
 * answer is a 302 to a presigned S3 GET valid for OBJECT_LINK_SECONDS, and the page's CSP allows images from
 * the bucket's origin only. Only GET and HEAD are answered; anything else is a 405.
 */
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from 'aws-lambda';
import { loadConfig } from '../core/config.ts';
import { createS3Client, S3BlobStore } from '../core/aws/index.ts';
import { createLogger, type Logger } from '../core/log.ts';
import type { BlobStore } from '../core/ports.ts';
import { boardPageReply } from '../bot/web/board-routes.ts';

/** A presigned link is made per request, so it only has to outlive the page load or the download's start. */
const OBJECT_LINK_SECONDS = 300;
/** Longer paths or queries are no board URL (ids are 12 chars, tokens 43). */
const MAX_URL_CHARS = 512;

export interface BoardPageDeps {
  blobs: BlobStore;
  log: Logger;
  now?: () => number;
}

const SECURITY_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

function text(statusCode: number, body: string, headers: Record<string, string> = {}): LambdaFunctionURLResult {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS, ...headers }, body };
}

export function createBoardPageHandler(deps: BoardPageDeps) {
  let storeOrigin: Promise<string> | undefined;
  // The origin presigned URLs point at (S3 or the emulator): the only place besides the page itself images come from.
  const imageOrigins = async () => {
    storeOrigin ??= deps.blobs.presignedUrl('boards/origin-probe', 60).then(
      (url) => new URL(url).origin,
      (error: unknown) => {
        storeOrigin = undefined;
        throw error;
      },
    );
    return [await storeOrigin];
  };

  return async (event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'Board pages are read-only: only GET is answered.', { allow: 'GET, HEAD' });
    const rawPath = event.rawPath || '/';
    const query = event.rawQueryString ?? '';
    if (rawPath.length + query.length > MAX_URL_CHARS || !rawPath.startsWith('/')) return text(404, 'No board page here.');
    let url: URL;
    try {
      url = new URL(`https://board.page${rawPath}${query ? `?${query}` : ''}`);
    } catch {
      return text(404, 'No board page here.');
    }
    try {
      const reply = await boardPageReply({ blobs: deps.blobs, ...(deps.now ? { now: deps.now } : {}) }, url, { imageOrigins });
      if (!reply) return text(404, 'No board page here. A board link looks like /boards/b…?t=…');
      if (reply.kind === 'object') {
        if (!(await deps.blobs.exists(reply.key))) return text(404, 'That file is gone from the store (its job was deleted); ask the board\'s host.');
        return { statusCode: 302, headers: { ...SECURITY_HEADERS, location: await deps.blobs.presignedUrl(reply.key, OBJECT_LINK_SECONDS) }, body: '' };
      }
      const headers = { ...SECURITY_HEADERS, ...reply.headers };
      if (typeof reply.body === 'string') return { statusCode: reply.status, headers, body: method === 'HEAD' ? '' : reply.body };
      return { statusCode: reply.status, headers, body: method === 'HEAD' ? '' : Buffer.from(reply.body).toString('base64'), isBase64Encoded: method !== 'HEAD' };
    } catch (error) {
      deps.log.warn('board_page_failed', { path: rawPath.slice(0, 40), error });
      return text(503, 'The board store did not answer; try again in a moment.', { 'retry-after': '5' });
    }
  };
}

function fromEnvironment(env: Record<string, string | undefined>) {
  const config = loadConfig(env);
  if (!config.bucket) throw new Error('BUCKET: required by the board page');
  return createBoardPageHandler({ blobs: new S3BlobStore({ client: createS3Client(config.aws), bucket: config.bucket }), log: createLogger({ json: true, level: config.log.level }) });
}

let handle: ReturnType<typeof createBoardPageHandler> | undefined;

export async function handler(event: LambdaFunctionURLEvent): Promise<LambdaFunctionURLResult> {
  handle ??= fromEnvironment(process.env);
  return handle(event);
}
