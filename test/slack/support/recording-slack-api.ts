/**
 * A stand-in for slack.com/api on 127.0.0.1 that records every Web API call and answers like Slack.
 *
 * Point a WebClient at it with `slackApiUrl: api.url`. It answers the methods the bot uses
 * (auth.test, chat.postMessage, chat.update, chat.postEphemeral, chat.delete, views.open, files.info, files.getUploadURLExternal,
 * the upload URL itself, files.completeUploadExternal) and keeps the newest text/blocks of each
 * message, so tests can assert the message a user would finally see. `script(method, …)` queues
 * canned answers (a 429 with Retry-After, a platform error) for the next calls of one method.
 */
import type { IncomingMessage, Server } from 'node:http';
import { multipartParts, RecordingServer, type RecordedReply } from '../../support/recording-server.ts';

export interface RecordedCall {
  method: string;
  /** Form or JSON parameters; `blocks`/`files` stay JSON strings as Slack receives them. */
  params: Record<string, string>;
  /** For uploads to the upload URL: the bytes received. */
  bytes?: Uint8Array;
  authorization?: string;
  at: number;
}

export interface RecordedMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: unknown[];
  /** How many chat.update calls changed this message. */
  updates: number;
}

export type ScriptedAnswer = { status: 429; retryAfterSeconds: number } | { error: string; errors?: string[] };

export class RecordingSlackApi {
  readonly calls: RecordedCall[] = [];
  readonly messages = new Map<string, RecordedMessage>();
  readonly uploads = new Map<string, { filename: string; altText?: string; bytes?: Uint8Array; completed: boolean }>();
  /** What files.info answers, by file id (pictures users give the bot: bot/slack/files.ts). */
  readonly files = new Map<string, Record<string, unknown>>();
  /** What conversations.replies answers, by thread ts. */
  readonly threads = new Map<string, Array<Record<string, unknown>>>();
  private readonly scripted = new Map<string, ScriptedAnswer[]>();
  private readonly server = new RecordingServer((req, raw) => this.handle(req, raw));
  private nextTs = 1_700_000_000_000_100;
  private nextFile = 1;
  url = '';

  /** A response_url on this server, as Slack would put in a slash command or action payload. */
  responseUrl(name: string): string {
    return this.url.replace(/\/api\/$/, `/respond/${name}`);
  }

  async start(): Promise<this> {
    const port = await this.server.start();
    this.url = `http://127.0.0.1:${port}/api/`;
    return this;
  }

  /** The HTTP server, for attaching a Socket Mode link (socket-mode-link.ts). */
  get httpServer(): Server {
    return this.server.httpServer;
  }

  async stop(): Promise<void> {
    await this.server.stop();
  }

  /** The next `answers.length` calls of `method` get these answers instead of success. */
  script(method: string, ...answers: ScriptedAnswer[]): void {
    this.scripted.set(method, [...(this.scripted.get(method) ?? []), ...answers]);
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Resolves once `predicate` holds (checked after every answered request). */
  async waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
    await this.server.waitUntil(() => (predicate() ? true : undefined), timeoutMs, () => `recording Slack API: condition not met within ${timeoutMs} ms`);
  }

  private async handle(req: IncomingMessage, raw: Buffer): Promise<RecordedReply> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const authorization = req.headers.authorization;
    if (path.startsWith('/upload/')) return this.receiveUpload(path.slice('/upload/'.length), req, raw, authorization);
    if (path.startsWith('/respond/')) {
      // A response_url (ephemeral replies): Bolt's respond() posts JSON here.
      this.calls.push({ method: 'respond', params: { ...parseParams('application/json', raw), responseUrl: path }, at: Date.now() });
      return { status: 200, body: { ok: true } };
    }

    const method = path.replace(/^\/api\//, '');
    const params = parseParams(req.headers['content-type'] ?? '', raw);
    this.calls.push({ method, params, at: Date.now(), ...(authorization ? { authorization } : {}) });

    const scripted = this.scripted.get(method)?.shift();
    if (scripted && 'status' in scripted) {
      return { status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': String(scripted.retryAfterSeconds) } };
    }
    if (scripted) return { status: 200, body: { ok: false, error: scripted.error, ...(scripted.errors ? { errors: scripted.errors } : {}) } };
    return { status: 200, body: this.answer(method, params) };
  }

  private answer(method: string, params: Record<string, string>): unknown {
    switch (method) {
      case 'apps.connections.open':
        return { ok: true, url: this.url.replace(/^http/, 'ws').replace(/\/api\/$/, '/link') };
      case 'auth.test':
        return { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T0001', user: 'cascade' };
      case 'chat.postMessage': {
        const ts = this.newTs();
        const message: RecordedMessage = { channel: params.channel ?? '', ts, text: params.text ?? '', blocks: parseBlocks(params.blocks), updates: 0 };
        if (params.thread_ts) message.threadTs = params.thread_ts;
        this.messages.set(ts, message);
        return { ok: true, channel: params.channel, ts, message: { text: params.text } };
      }
      case 'chat.update': {
        const message = this.messages.get(params.ts ?? '');
        if (!message || message.channel !== params.channel) return { ok: false, error: 'message_not_found' };
        message.text = params.text ?? message.text;
        message.blocks = parseBlocks(params.blocks);
        message.updates += 1;
        return { ok: true, channel: params.channel, ts: params.ts };
      }
      case 'chat.delete':
        return this.messages.delete(params.ts ?? '') ? { ok: true } : { ok: false, error: 'message_not_found' };
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.newTs() };
      case 'views.open':
        return { ok: true, view: { id: `V${String(this.nextFile++).padStart(10, '0')}`, ...(JSON.parse(params.view ?? '{}') as object) } };
      case 'users.info':
        return { ok: true, user: { id: params.user, is_admin: params.user === 'UADMIN', is_owner: false } };
      case 'files.getUploadURLExternal': {
        const fileId = `F${String(this.nextFile++).padStart(10, '0')}`;
        this.uploads.set(fileId, { filename: params.filename ?? '', completed: false, ...(params.alt_text ? { altText: params.alt_text } : {}) });
        return { ok: true, file_id: fileId, upload_url: this.url.replace(/\/api\/$/, `/upload/${fileId}`) };
      }
      case 'files.info': {
        const file = this.files.get(params.file ?? '');
        return file ? { ok: true, file } : { ok: false, error: 'file_not_found' };
      }
      case 'conversations.replies':
        return { ok: true, messages: this.threads.get(params.ts ?? '') ?? [], has_more: false };
      case 'files.delete':
        return this.uploads.delete(params.file ?? '') ? { ok: true } : { ok: false, error: 'file_not_found' };
      case 'files.completeUploadExternal': {
        const files = JSON.parse(params.files ?? '[]') as Array<{ id: string; title?: string }>;
        for (const file of files) {
          const upload = this.uploads.get(file.id);
          if (!upload?.bytes) return { ok: false, error: 'file_not_found' };
          upload.completed = true;
        }
        return { ok: true, files: files.map((file) => ({ id: file.id, title: file.title })) };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private async receiveUpload(fileId: string, req: IncomingMessage, raw: Buffer, authorization: string | undefined) {
    const upload = this.uploads.get(fileId);
    const contentType = req.headers['content-type'] ?? '';
    let bytes: Uint8Array = new Uint8Array(raw);
    if (contentType.startsWith('multipart/form-data')) bytes = (await multipartParts(raw, contentType)).files[0]?.bytes ?? new Uint8Array();
    this.calls.push({ method: 'upload', params: { fileId }, bytes, at: Date.now(), ...(authorization ? { authorization } : {}) });
    if (!upload) return { status: 404, body: { ok: false } };
    upload.bytes = bytes;
    return { status: 200, body: { ok: true } };
  }

  private newTs(): string {
    const value = this.nextTs++;
    return `${String(value).slice(0, 10)}.${String(value).slice(10)}`;
  }
}

function parseParams(contentType: string, raw: Buffer): Record<string, string> {
  if (contentType.startsWith('application/json')) {
    const parsed = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([key, value]) => [key, typeof value === 'string' ? value : JSON.stringify(value)]));
  }
  return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
}

function parseBlocks(blocks: string | undefined): unknown[] {
  return blocks ? (JSON.parse(blocks) as unknown[]) : [];
}
