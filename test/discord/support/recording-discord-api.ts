/**
 * A Discord REST API stand-in on 127.0.0.1 that records every request (method, path, headers,
 * JSON body or multipart parts) and answers like Discord does for the routes the bot uses.
 * Tests script failures (401 token expired, 403, 429 with Retry-After, 5xx) with `scriptNext`.
 */
import type { IncomingMessage } from 'node:http';
import { multipartParts, RecordingServer, type RecordedFile, type RecordedReply as ScriptedReply } from '../../support/recording-server.ts';

export type { RecordedFile, RecordedReply as ScriptedReply } from '../../support/recording-server.ts';

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

interface Script {
  matches: (request: RecordedRequest) => boolean;
  reply: ScriptedReply;
}

export class RecordingDiscordApi {
  readonly requests: RecordedRequest[] = [];
  private readonly scripts: Script[] = [];
  private readonly server = new RecordingServer((req, raw, receivedAt) => this.handle(req, raw, receivedAt));
  private port: number | undefined;
  private nextId = 1_100_000_000_000_000_000n;

  /** Base URL for `new REST({ api })`. */
  get api(): string {
    if (this.port === undefined) throw new Error('recording API not started');
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<this> {
    this.port = await this.server.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  /** The next request matching `matches` gets `reply` instead of the default answer (a failure, or a route the default does not know). */
  scriptNext(matches: (request: RecordedRequest) => boolean, reply: ScriptedReply): void {
    this.scripts.push({ matches, reply });
  }

  /** Resolves with the first (past or future) request matching `predicate`. */
  waitFor(predicate: (request: RecordedRequest) => boolean, timeoutMs = 10_000): Promise<RecordedRequest> {
    return this.server.waitUntil(
      () => this.requests.find(predicate),
      timeoutMs,
      () => `no matching Discord request within ${timeoutMs} ms; saw ${this.requests.map((r) => `${r.method} ${r.path}`).join(', ') || 'none'}`,
    );
  }

  clear(): void {
    this.requests.length = 0;
  }

  private async handle(req: IncomingMessage, raw: Buffer, receivedAt: number): Promise<ScriptedReply> {
    const contentType = req.headers['content-type'] ?? '';
    const path = decodeURIComponent((req.url ?? '').replace(/^\/api\/v\d+/, '').split('?')[0]!);
    const { json, files } = await parseBody(raw, contentType);
    const request: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, contentType, json, files, at: receivedAt };
    this.requests.push(request);

    const scriptAt = this.scripts.findIndex((s) => s.matches(request));
    return scriptAt >= 0 ? this.scripts.splice(scriptAt, 1)[0]!.reply : this.defaultReply(request);
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
  const { fields, files } = await multipartParts(raw, contentType);
  return { json: fields.payload_json === undefined ? undefined : JSON.parse(fields.payload_json), files };
}
