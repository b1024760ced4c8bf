/**
 * The web playground: a chat channel in the browser, served by node:http on 127.0.0.1.
 *
 *   GET  /                 the page (plain HTML/CSS/JS from ./public; sets the session cookie)
 *   GET  /api/messages     the channel so far: jobs rebuilt from the store + live messages
 *   GET  /api/events       server-sent events: every message the dispatcher delivers (WebPoster)
 *   POST /api/command      { text, requestId } → the same handlers the chat bots call
 *   POST /api/button       { customId, requestId } → pressButton, as a Discord/Slack button press
 *   GET  /api/image?key=   an image from the object store (jobs/… keys only)
 *
 * A session is a random id in a cookie; it is the "user" of the jobs it makes, so the button rules
 * (who may upscale, delete, cancel) are the chat platforms' rules.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PortInUseError } from '../../core/errors.js';
import type { BotDeps } from '../commands/index.js';
import { runButton, runCommand } from './commands.js';
import { loadHistory } from './history.js';
import type { WebPoster } from './poster.js';
import type { WebEvent, WebMessage } from './web-message.js';

export interface WebPlaygroundOptions {
  bot: BotDeps;
  poster: WebPoster;
  /** 0 = any free port. Always on 127.0.0.1. */
  port: number;
  /** Called with failures of a request (never with secrets); default: silent. */
  log?: (event: string, fields: Record<string, unknown>) => void;
}

export interface WebPlayground {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const COOKIE = 'cascade_session';
const MAX_BODY = 16 * 1024;
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};
const IMAGE_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp' };

export async function startWebPlayground(options: WebPlaygroundOptions): Promise<WebPlayground> {
  const assets = new Map<string, Buffer>();
  for (const [path, { file }] of Object.entries(STATIC)) assets.set(path, await readFile(PUBLIC_DIR + file));
  const streams = new Set<ServerResponse>();
  const bootId = randomBytes(6).toString('hex');
  const log = options.log ?? (() => undefined);

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log('web_request_failed', { path: request.url?.split('?')[0], error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      if (!response.headersSent) sendJson(response, 500, { error: 'Something went wrong on the server; the log has the details.' });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://${HOST}`);
    const session = sessionOf(request, response);
    const asset = STATIC[url.pathname];
    if (request.method === 'GET' && asset) {
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      response.end(assets.get(url.pathname));
      return;
    }
    if (request.method === 'GET' && url.pathname === '/api/messages') return sendJson(response, 200, { sessionId: session, bootId, messages: await channelMessages() });
    if (request.method === 'GET' && url.pathname === '/api/events') return openStream(response);
    if (request.method === 'GET' && url.pathname === '/api/image') return sendImage(response, url.searchParams.get('key') ?? '');
    if (request.method === 'POST' && (url.pathname === '/api/command' || url.pathname === '/api/button')) {
      if (!sameOrigin(request)) return sendJson(response, 403, { error: 'Cross-origin requests are not accepted.' });
      const body = await readJson(request);
      if (!body.ok) return sendJson(response, 400, { error: body.error });
      const requestId = typeof body.value.requestId === 'string' ? body.value.requestId : undefined;
      if (url.pathname === '/api/command') {
        if (typeof body.value.text !== 'string') return sendJson(response, 400, { error: 'Send { "text": "/imagine …" }.' });
        return sendJson(response, 200, await runCommand(options.bot, session, body.value.text, requestId));
      }
      if (typeof body.value.customId !== 'string') return sendJson(response, 400, { error: 'Send { "customId": "upscale:j…:2" }.' });
      const reply = await runButton(options.bot, session, body.value.customId, requestId);
      if (reply.kind === 'done' && reply.action === 'deleted' && reply.jobId) options.poster.publish({ type: 'removed', jobId: reply.jobId });
      return sendJson(response, 200, reply);
    }
    sendJson(response, 404, { error: `Nothing at ${request.method} ${url.pathname}.` });
  }

  /** History from the store, with this process's newer live messages on top. */
  async function channelMessages(): Promise<WebMessage[]> {
    const byJob = new Map((await loadHistory(options.bot.blobs)).map((message) => [message.jobId, message]));
    for (const live of options.poster.live()) byJob.set(live.jobId, live);
    return [...byJob.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  function openStream(response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    response.write('retry: 1000\n\n');
    const send = (event: WebEvent) => response.write(`data: ${JSON.stringify(event)}\n\n`);
    send({ type: 'hello', bootId });
    const unsubscribe = options.poster.subscribe(send);
    const ping = setInterval(() => response.write(': ping\n\n'), 15_000);
    streams.add(response);
    response.on('close', () => {
      clearInterval(ping);
      unsubscribe();
      streams.delete(response);
    });
  }

  async function sendImage(response: ServerResponse, key: string): Promise<void> {
    const match = /^jobs\/[a-z0-9][a-z0-9-]{0,63}\/[a-z0-9-]+\.(png|jpg|jpeg|webp)$/.exec(key);
    if (!match) return sendJson(response, 400, { error: 'key must name an image under jobs/{id}/' });
    const bytes = await options.bot.blobs.get(key);
    if (!bytes) return sendJson(response, 404, { error: `No image at ${key} (deleted or expired).` });
    response.writeHead(200, { 'content-type': IMAGE_TYPES[match[1]!]!, 'content-length': bytes.byteLength, 'cache-control': key.endsWith('preview.jpg') ? 'no-cache' : 'private, max-age=86400' });
    response.end(bytes);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? new PortInUseError(HOST, options.port) : error));
    server.listen(options.port, HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    url: `http://${HOST}:${port}/`,
    port,
    async stop() {
      for (const stream of streams) stream.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function sessionOf(request: IncomingMessage, response: ServerResponse): string {
  const cookie = /(?:^|;\s*)cascade_session=([a-f0-9]{16,64})/.exec(request.headers.cookie ?? '');
  if (cookie) return cookie[1]!;
  const session = randomBytes(12).toString('hex');
  response.setHeader('set-cookie', `${COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000`);
  return session;
}

/** Browsers send Origin with POSTs; a page from another site must not drive this one. */
function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  return origin === undefined || origin === `http://${request.headers.host}`;
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
