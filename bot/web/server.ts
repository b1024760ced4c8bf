/**
 * The web playground: a chat channel in the browser, served by node:http on 127.0.0.1.
 *
 *   GET  /                 the page (plain HTML/CSS/JS from ./public; issues the session cookie)
 *   GET  /api/messages     the channel, newest page first: ?limit=N (≤ 100) and ?before=<cursor> for older
 *   GET  /api/events       server-sent events: every message the dispatcher delivers (WebPoster)
 *   POST /api/command      { text, requestId } → the same handlers the chat bots call
 *   POST /api/imagine      multipart: text, image × 1–5, weight per image, strength → /imagine (or /board add) with pictures (picture-form.ts)
 *   POST /api/button       { customId, requestId } → pressButton, as a Discord/Slack button press
 *   GET  /api/image?key=   an image from the object store (jobs/… keys only; a job's uploaded pictures to a session only)
 *   GET  /api/download?job=&tile=  one tile as a PNG file with its parameters in PNG text chunks (download.ts)
 *
 * Routes are a table (`WebRoute`); more can be passed in (`routes`) without touching this file.
 *
 * Who is asking, and what they may do:
 * - Every request must name this server (Host: 127.0.0.1, localhost or [::1] with its port, or the
 *   configured public host): a page on another site that rebinds its DNS name to 127.0.0.1 is refused.
 *   An Origin, when sent, must be one of the same names.
 * - A session is a server-issued token in an HttpOnly cookie (sessions.ts); its jobs are owned by a
 *   derived user id, which is all that pages see. Requests that act need a session.
 * - A client (remote address) may hold a few event streams and a few jobs in progress however many
 *   sessions it opens (client-limits.ts).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { PortInUseError } from '../../core/errors.ts';
import { DEFAULT_PENDING_STALE_MS } from '../../core/pending.ts';
import type { BotDeps } from '../commands/index.ts';
import { DEFAULT_MAX_PENDING_PER_USER } from '../submit.ts';
import { JobIdSchema } from '../../core/job.ts';
import { parseImageKey, parseJobKey } from '../../core/storage-layout.ts';
import { isDeleted, loadJob } from '../job-records.ts';
import { ClientJobCap, OpenSlots, type JobSlot } from './client-limits.ts';
import { tileDownload } from './download.ts';
import { buttonMakesJob, commandMakesJob, runButton, runCommand, runWithPictures } from './commands.ts';
import { readPictureForm } from './picture-form.ts';
import { ChannelHistory, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './history.ts';
import type { WebPoster } from './poster.ts';
import { Sessions } from './sessions.ts';
import { webMessageOf, type WebEvent } from './web-message.ts';
import { loadJobSnapshot } from '../job-history.ts';
import { silentLogger, type Logger } from '../../core/log.ts';

export interface WebPlaygroundLimits {
  /** Event streams one remote address may hold open (default 8). */
  streamsPerClient: number;
  /** Event streams open in all (default 200). */
  streamsTotal: number;
  /** Jobs in progress from one remote address, over all its sessions (default: twice the per-user cap). */
  jobsPerClient: number;
}

export interface WebPlaygroundOptions {
  bot: BotDeps;
  poster: WebPoster;
  /** 0 = any free port. Always on 127.0.0.1. */
  port: number;
  /** A host name (with :port if not the default) this playground is also reached by, e.g. through a tunnel. */
  publicHost?: string;
  limits?: Partial<WebPlaygroundLimits>;
  /** Default: the key in the object store (Sessions.open). */
  sessions?: Sessions;
  /** More routes (e.g. other pages), tried after the built-in ones. */
  routes?: WebRoute[];
  /** Called with failures of a request (never with secrets); default: silent. */
  log?: Logger;
}

export interface WebPlayground {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** What a route handler gets for one request. */
export interface WebRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  /** The remote address: what per-client limits count. */
  client: string;
  /** The session's user id; undefined when the request carries no valid session cookie. */
  userId: string | undefined;
}

export interface WebRoute {
  method: 'GET' | 'POST';
  /** The exact path, or a pattern for a family of paths (e.g. /boards/{id}/…). */
  path: string | RegExp;
  /** POST routes that act for a session: refused without one. */
  needsSession?: boolean;
  handle(request: WebRequest): Promise<void> | void;
}

const HOST = '127.0.0.1';
const COOKIE = 'cascade_session';
const COOKIE_PATTERN = /(?:^|;\s*)cascade_session=([A-Za-z0-9._-]{1,200})/;
const MAX_BODY = 16 * 1024;
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.ico': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};
const IMAGE_TYPES = new Map([['.png', 'image/png'], ['.jpg', 'image/jpeg'], ['.jpeg', 'image/jpeg'], ['.webp', 'image/webp']]);

/** The content type of an image object in a job's folder (tiles, grid, preview); undefined for any other key. */
function jobImageType(key: string): string | undefined {
  const parsed = parseJobKey(key);
  return parsed && JobIdSchema.safeParse(parsed.jobId).success ? IMAGE_TYPES.get(extname(parsed.name)) : undefined;
}
const FINAL_STATUSES = new Set(['completed', 'failed', 'cancelled', 'deleted']);

export async function startWebPlayground(options: WebPlaygroundOptions): Promise<WebPlayground> {
  const assets = new Map<string, Buffer>();
  for (const { file } of Object.values(STATIC)) if (!assets.has(file)) assets.set(file, await readFile(PUBLIC_DIR + file));
  const page = await readFile(`${PUBLIC_DIR}index.html`);
  const sessions = options.sessions ?? (await Sessions.open(options.bot.blobs));
  const limits: WebPlaygroundLimits = {
    streamsPerClient: 8,
    streamsTotal: 200,
    jobsPerClient: 2 * (options.bot.maxPendingPerUser ?? DEFAULT_MAX_PENDING_PER_USER),
    ...options.limits,
  };
  const streams = new Set<ServerResponse>();
  const streamSlots = new OpenSlots({ perClient: limits.streamsPerClient, total: limits.streamsTotal });
  const jobCap = new ClientJobCap({ limit: limits.jobsPerClient, staleAfterMs: DEFAULT_PENDING_STALE_MS });
  const history = new ChannelHistory(options.bot.blobs, options.poster);
  history.warm();
  const unsubscribe = options.poster.subscribe((event) => {
    if (event.type === 'removed') jobCap.ended(event.jobId);
    else if (event.type === 'message' && FINAL_STATUSES.has(event.message.message.status)) jobCap.ended(event.message.jobId);
  });
  const bootId = randomBytes(6).toString('hex');
  const log = options.log ?? silentLogger;

  const routes: WebRoute[] = [
    { method: 'GET', path: '/', handle: servePage },
    ...Object.entries(STATIC).map(([path, { file, type }]): WebRoute => ({
      method: 'GET',
      path,
      handle: ({ response }) => {
        response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
        response.end(assets.get(file));
      },
    })),
    { method: 'GET', path: '/api/messages', handle: serveMessages },
    { method: 'GET', path: '/api/events', handle: openStream },
    { method: 'GET', path: '/api/image', handle: ({ response, url, userId }) => sendImage(response, url.searchParams.get('key') ?? '', userId) },
    { method: 'GET', path: '/api/download', handle: sendDownload },
    { method: 'POST', path: '/api/command', needsSession: true, handle: postCommand },
    { method: 'POST', path: '/api/imagine', needsSession: true, handle: postPictures },
    { method: 'POST', path: '/api/button', needsSession: true, handle: postButton },
    ...(options.routes ?? []),
  ];

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error('web_request_failed', { path: request.url?.split('?')[0], error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      if (!response.headersSent) sendJson(response, 500, { error: 'Something went wrong on the server; the log has the details.' });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = request.headers.host ?? '';
    if (!names.hosts.has(host.toLowerCase())) {
      return sendJson(response, 421, { error: `This playground answers only as ${names.describe()}; the Host "${host.slice(0, 100)}" is none of them.` });
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !names.origins.has(origin.toLowerCase())) {
      return sendJson(response, 403, { error: 'Cross-origin requests are not accepted: use the playground page itself.' });
    }
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    const route = routes.find((candidate) => pathMatches(candidate, url.pathname) && candidate.method === request.method);
    if (!route) {
      const other = routes.find((candidate) => pathMatches(candidate, url.pathname));
      return sendJson(response, other ? 405 : 404, { error: other ? `${url.pathname} takes ${other.method}, not ${request.method}.` : `Nothing at ${request.method} ${url.pathname}.` });
    }
    const token = COOKIE_PATTERN.exec(request.headers.cookie ?? '')?.[1];
    const userId = token === undefined ? undefined : sessions.userIdOf(token);
    if (route.needsSession && userId === undefined) {
      return sendJson(response, 401, { error: 'No playground session: open the playground page first (it sets the session cookie), then try again.' });
    }
    await route.handle({ request, response, url, client: request.socket.remoteAddress ?? 'unknown', userId });
  }

  function servePage({ response, userId }: WebRequest): void {
    if (userId === undefined) {
      // Only this server makes sessions; a cookie it did not issue (or none) gets a new one.
      const issued = sessions.issue();
      response.setHeader('set-cookie', `${COOKIE}=${issued.token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000`);
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    response.end(page);
  }

  async function serveMessages({ response, url, userId }: WebRequest): Promise<void> {
    const limitText = url.searchParams.get('limit');
    const limit = limitText === null ? DEFAULT_PAGE_SIZE : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) return sendJson(response, 400, { error: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}.` });
    const before = url.searchParams.get('before') ?? undefined;
    if (before !== undefined && !ChannelHistory.isCursor(before)) return sendJson(response, 400, { error: 'before must be the "older" cursor of an earlier page.' });
    const { messages, older } = await history.page({ limit, ...(before === undefined ? {} : { before }) });
    sendJson(response, 200, { viewerId: userId ?? null, bootId, messages, ...(older ? { older } : {}) });
  }

  function openStream({ response, client }: WebRequest): void {
    const slot = streamSlots.acquire(client);
    if ('refused' in slot) {
      response.setHeader('retry-after', '30');
      return sendJson(response, 429, {
        error: slot.refused.scope === 'client'
          ? `Too many live connections from your address (the limit is ${slot.refused.limit}): close other playground tabs, then reload.`
          : `The playground has ${slot.refused.limit} live connections open, its limit: try again in a minute.`,
      });
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write('retry: 1000\n\n');
    const send = (event: WebEvent) => response.write(`data: ${JSON.stringify(event)}\n\n`);
    send({ type: 'hello', bootId });
    const unsubscribeStream = options.poster.subscribe(send);
    const ping = setInterval(() => response.write(': ping\n\n'), 15_000);
    streams.add(response);
    response.on('close', () => {
      clearInterval(ping);
      unsubscribeStream();
      streams.delete(response);
      slot.release();
    });
  }

  async function postCommand({ request, response, client, userId }: WebRequest): Promise<void> {
    const body = await readJson(request);
    if (!body.ok) return sendJson(response, 400, { error: body.error });
    if (typeof body.value.text !== 'string') return sendJson(response, 400, { error: 'Send { "text": "/imagine …" }.' });
    const text = body.value.text;
    const slot = commandMakesJob(text) ? reserveJob(response, client) : null;
    if (slot === undefined) return;
    await withSlot(slot, async () => {
      const reply = await runCommand(options.bot, userId!, text, requestIdOf(body.value));
      if (reply.kind === 'done' && reply.action === 'deleted' && reply.jobId) options.poster.publish({ type: 'removed', jobId: reply.jobId });
      // /show: the page re-posts the job from what a web message needs (its tiles), not the grid bytes.
      if (reply.kind === 'show') {
        const snapshot = await loadJobSnapshot(options.bot.blobs, reply.jobId);
        sendJson(response, 200, { kind: 'show', jobId: reply.jobId, ...(snapshot ? { web: webMessageOf(snapshot.job, reply.message, 0, snapshot.state.result) } : {}) });
        return reply;
      }
      sendJson(response, 200, reply);
      return reply;
    });
  }

  async function postPictures({ request, response, client, userId }: WebRequest): Promise<void> {
    const slot = reserveJob(response, client);
    if (slot === undefined) return;
    await withSlot(slot, async () => {
      const body = await readPictureForm(request);
      if (!body.ok) {
        // An upload refused before its end is not read further: the connection closes after the answer.
        if (body.status === 413) response.setHeader('connection', 'close');
        sendJson(response, body.status, { kind: 'rejected', code: 'bad_upload', message: body.error });
        return { kind: 'rejected' };
      }
      const reply = await runWithPictures(options.bot, userId!, body.form);
      sendJson(response, 200, reply);
      return reply;
    });
  }

  async function postButton({ request, response, client, userId }: WebRequest): Promise<void> {
    const body = await readJson(request);
    if (!body.ok) return sendJson(response, 400, { error: body.error });
    if (typeof body.value.customId !== 'string') return sendJson(response, 400, { error: 'Send { "customId": "upscale:j…:2" }.' });
    const customId = body.value.customId;
    const remixText = typeof body.value.text === 'string' ? body.value.text : undefined;
    const slot = buttonMakesJob(customId) ? reserveJob(response, client) : null;
    if (slot === undefined) return;
    await withSlot(slot, async () => {
      const reply = await runButton(options.bot, userId!, customId, requestIdOf(body.value), remixText);
      if (reply.kind === 'done' && reply.action === 'deleted' && reply.jobId) options.poster.publish({ type: 'removed', jobId: reply.jobId });
      sendJson(response, 200, reply);
      return reply;
    });
  }

  /** A job slot for this client, or undefined after answering 429 (the client is at its cap). */
  function reserveJob(response: ServerResponse, client: string): JobSlot | undefined {
    const slot = jobCap.reserve(client);
    if (!slot) {
      sendJson(response, 429, {
        kind: 'rejected',
        code: 'too_many_pending',
        message: `Your address already has ${jobCap.limit} images in progress, the most it may have at once (whatever the session); wait for one to finish.`,
      });
    }
    return slot;
  }

  async function withSlot(slot: JobSlot | null, act: () => Promise<{ kind: string; jobId?: string; duplicate?: boolean }>): Promise<void> {
    try {
      const reply = await act();
      if (reply.kind === 'accepted' && reply.jobId) {
        history.noteAccepted(reply.jobId);
        if (!reply.duplicate) slot?.keep(reply.jobId);
      }
    } finally {
      slot?.release();
    }
  }

  async function sendImage(response: ServerResponse, key: string, userId: string | undefined): Promise<void> {
    const upload = parseImageKey(key);
    if (upload && 'upload' in upload) return sendUpload(response, key, upload.jobId, userId);
    const type = jobImageType(key);
    if (!type) return sendJson(response, 400, { error: 'key must name an image under jobs/{id}/' });
    const bytes = await options.bot.blobs.get(key);
    if (!bytes) return sendJson(response, 404, { error: `No image at ${key} (deleted or expired).` });
    response.writeHead(200, { 'content-type': type, 'content-length': bytes.byteLength, 'cache-control': key.endsWith('preview.jpg') ? 'no-cache' : 'private, max-age=86400' });
    response.end(bytes);
  }

  /**
   * A picture uploaded with a job (ℹ️ shows it): to the job's viewers only. The playground is one shared channel, so every
   * session sees every job; a request without the session cookie (SameSite=Strict: never sent by another site's page) is
   * refused, and so is a picture of a job the store does not have or its owner deleted.
   */
  async function sendUpload(response: ServerResponse, key: string, jobId: string, userId: string | undefined): Promise<void> {
    if (userId === undefined) return sendJson(response, 401, { error: 'Uploaded pictures are shown to playground sessions only: open the playground page first.' });
    const job = await loadJob(options.bot.blobs, jobId);
    if (!job || job.requester.platform !== 'web') {
      const deleted = !job && (await isDeleted(options.bot.blobs, jobId));
      return sendJson(response, 404, { error: deleted ? `Job ${jobId} was deleted by its owner.` : `There is no playground job ${jobId}.` });
    }
    const bytes = await options.bot.blobs.get(key);
    if (!bytes) return sendJson(response, 404, { error: `No picture at ${key} (deleted or expired).` });
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.byteLength, 'cache-control': 'private, max-age=3600' });
    response.end(bytes);
  }

  async function sendDownload({ response, url }: WebRequest): Promise<void> {
    const jobId = JobIdSchema.safeParse(url.searchParams.get('job') ?? '');
    const tile = Number(url.searchParams.get('tile'));
    if (!jobId.success || !Number.isInteger(tile) || tile < 1 || tile > 4) return sendJson(response, 400, { error: 'Give job=<job id> and tile=1…4.' });
    const file = await tileDownload(options.bot.blobs, jobId.data, tile);
    if ('error' in file) return sendJson(response, file.status, { error: file.error });
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': file.bytes.byteLength, 'content-disposition': `attachment; filename="${file.fileName}"`, 'cache-control': 'private, max-age=86400' });
    response.end(file.bytes);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(HOST, options.port) : error));
    server.listen(options.port, HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const names = hostNames(port, options.publicHost);
  return {
    url: `http://${HOST}:${port}/`,
    port,
    async stop() {
      unsubscribe();
      for (const stream of streams) stream.end();
      await closeServer(server);
    },
  };
}

interface HostNames {
  /** Host header values accepted (lower case). */
  hosts: Set<string>;
  /** Origin header values accepted (lower case). */
  origins: Set<string>;
  describe(): string;
}

/** The loopback names with this port, and the public host if one is configured. */
export function hostNames(port: number, publicHost?: string): HostNames {
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].map((name) => `${name}:${port}`);
  const named = publicHost ? [...loopback, publicHost.toLowerCase()] : loopback;
  // Browsers leave the default port out of Host and Origin.
  const all = port === 80 ? [...named, '127.0.0.1', 'localhost', '[::1]'] : named;
  const origins = all.flatMap((host) => (host === publicHost?.toLowerCase() ? [`http://${host}`, `https://${host}`] : [`http://${host}`]));
  return { hosts: new Set(all), origins: new Set(origins), describe: () => named.join(', ') };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function requestIdOf(body: Record<string, unknown>): string | undefined {
  return typeof body.requestId === 'string' ? body.requestId : undefined;
}

async function readJson(request: IncomingMessage): Promise<{ ok: true; value: Record<string, unknown> } | { ok: false; error: string }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size > MAX_BODY) return { ok: false, error: `Request body over ${MAX_BODY} bytes.` };
    chunks.push(chunk as Buffer);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // fall through to the sentence below
  }
  return { ok: false, error: 'The body must be a JSON object.' };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function pathMatches(route: WebRoute, pathname: string): boolean {
  return typeof route.path === 'string' ? route.path === pathname : route.path.test(pathname);
}
