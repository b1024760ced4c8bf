/**
 * A Discord REST API stand-in on 127.0.0.1 that records every request (method, path, headers,
 * JSON body or multipart parts) and answers like Discord does for the routes the bot uses.
 * Tests script failures (401 token expired, 403, 429 with Retry-After, 5xx) with `scriptNext`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedFile {
  field: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

export interface RecordedRequest {
  method: string;
  /** Decoded path without the `/api/v10` prefix, e.g. `/webhooks/1/tok/messages/@original`. */
  path: string;
  headers: IncomingMessage['headers'];
  contentType: string;
  /** JSON body, or the parsed `payload_json` part of a multipart body. */
  json: unknown;
  files: RecordedFile[];
  /** ms since epoch when the whole body had arrived (before parsing it). */
  at: number;
}

export interface ScriptedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Script {
  matches: (request: RecordedRequest) => boolean;
  reply: ScriptedReply;
}

export class RecordingDiscordApi {
  readonly requests: RecordedRequest[] = [];
  private readonly scripts: Script[] = [];
  private server: Server | undefined;
  private nextId = 1_100_000_000_000_000_000n;
  private waiters: Array<{ predicate: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }> = [];

  /** Base URL for `new REST({ api })`. */
  get api(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('recording API not started');
    return `http://127.0.0.1:${address.port}/api`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next request matching `matches` gets `reply` instead of the default answer (a failure, or a route the default does not know). */
  scriptNext(matches: (request: RecordedRequest) => boolean, reply: ScriptedReply): void {
    this.scripts.push({ matches, reply });
  }

  /** Resolves with the first (past or future) request matching `predicate`. */
  waitFor(predicate: (request: RecordedRequest) => boolean, timeoutMs = 10_000): Promise<RecordedRequest> {
    const seen = this.requests.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching Discord request within ${timeoutMs} ms; saw ${this.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none'}`)), timeoutMs);
      this.waiters.push({ predicate, resolve: (r) => (clearTimeout(timer), resolve(r)) });
    });
  }

  clear(): void {
    this.requests.length = 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const receivedAt = Date.now();
    const contentType = req.headers['content-type'] ?? '';
    const path = decodeURIComponent((req.url ?? '').replace(/^\/api\/v\d+/, '').split('?')[0]!);
    const { json, files } = await parseBody(raw, contentType);
    const request: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, contentType, json, files, at: receivedAt };
    this.requests.push(request);
    this.waiters = this.waiters.filter((w) => (w.predicate(request) ? (w.resolve(request), false) : true));

    const scriptAt = this.scripts.findIndex((s) => s.matches(request));
    const reply = scriptAt >= 0 ? this.scripts.splice(scriptAt, 1)[0]!.reply : this.defaultReply(request);
    res.writeHead(reply.status, { ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }), ...reply.headers });
    res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
  }

  private defaultReply(request: RecordedRequest): ScriptedReply {
    const { method, path } = request;
    if (method === 'POST' && /^\/interactions\/\d+\/[^/]+\/callback$/.test(path)) return { status: 204 };
    if (method === 'DELETE') return { status: 204 };
    const webhook = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(.+)$/.exec(path);
    if (webhook && method === 'PATCH') return { status: 200, body: this.message(request, `1${stableDigits(webhook[2]!)}`) };
    const channelMessage = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path);
    if (channelMessage && (method === 'POST' || method === 'PATCH')) return { status: 200, body: this.message(request, channelMessage[2] ?? String(this.nextId++), channelMessage[1]) };
    if (method === 'PUT' && /\/commands$/.test(path) && Array.isArray(request.json)) {
      return { status: 200, body: (request.json as Array<Record<string, unknown>>).map((c) => ({ ...c, id: String(this.nextId++), application_id: '1', version: '1' })) };
    }
    return { status: 404, body: { message: 'Unknown route', code: 0 } };
  }

  private message(request: RecordedRequest, id: string, channelId = '2000000000000000000') {
    const body = (request.json ?? {}) as Record<string, unknown>;
    return { id, channel_id: channelId, content: body.content ?? '', embeds: body.embeds ?? [], components: body.components ?? [], attachments: [], type: 0 };
  }
}

/** A snowflake-looking id that is the same for the same webhook token (the @original message). */
function stableDigits(text: string): string {
  let hash = 0n;
  for (const ch of text) hash = (hash * 131n + BigInt(ch.codePointAt(0)!)) % 10n ** 17n;
  return hash.toString().padStart(17, '0');
}

async function parseBody(raw: Buffer, contentType: string): Promise<{ json: unknown; files: RecordedFile[] }> {
  if (raw.length === 0) return { json: undefined, files: [] };
  if (!contentType.startsWith('multipart/form-data')) return { json: JSON.parse(raw.toString('utf8')), files: [] };
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  const files: RecordedFile[] = [];
  const pending: Promise<void>[] = [];
  let json: unknown;
  form.forEach((value, field) => {
    if (typeof value === 'string') {
      if (field === 'payload_json') json = JSON.parse(value);
      return;
    }
    pending.push(value.arrayBuffer().then((buffer) => void files.push({ field, name: value.name, contentType: value.type, bytes: new Uint8Array(buffer) })));
  });
  await Promise.all(pending);
  return { json, files };
}
