/**
 * What the recording stand-ins for chat platform APIs (test/discord/support/recording-discord-api.ts,
 * test/slack/support/recording-slack-api.ts) share: a node:http server on 127.0.0.1 (any free port)
 * that hands each whole request body to the platform's answer function, multipart parsing, and waiting
 * until something has been recorded. The platform files keep only what differs: routes and answers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedReply {
  status: number;
  /** Sent as JSON; absent = empty body. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** Records and answers one request; `receivedAt` is when its whole body had arrived. */
export type AnswerRequest = (req: IncomingMessage, raw: Buffer, receivedAt: number) => Promise<RecordedReply> | RecordedReply;

export class RecordingServer {
  private server: Server | undefined;
  private waiters: Array<() => boolean> = [];
  private readonly answer: AnswerRequest;

  constructor(answer: AnswerRequest) {
    this.answer = answer;
  }

  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      readBody(req)
        .then((raw) => this.answer(req, raw, Date.now()))
        .then((reply) => {
          res.writeHead(reply.status, { ...(reply.body === undefined ? {} : { 'content-type': 'application/json' }), ...reply.headers });
          res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
        })
        .catch((error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        })
        .finally(() => this.wake());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** The HTTP server, for attaching a WebSocket endpoint (Slack's Socket Mode link). */
  get httpServer(): Server {
    if (!this.server) throw new Error('recording server not started');
    return this.server;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /**
   * Resolves with `find()`'s first defined value: now, or after a later request has been answered.
   * `describe` explains the timeout (e.g. which requests were seen instead).
   */
  waitUntil<T>(find: () => T | undefined, timeoutMs: number, describe: () => string): Promise<T> {
    const now = find();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== check);
        reject(new Error(describe()));
      }, timeoutMs);
      const check = () => {
        const found = find();
        if (found === undefined) return false;
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }
}

export interface RecordedFile {
  field: string;
  name: string;
  contentType: string;
  bytes: Uint8Array;
}

/** The text fields and the files of a multipart/form-data body, files in body order. */
export async function multipartParts(raw: Buffer, contentType: string): Promise<{ fields: Record<string, string>; files: RecordedFile[] }> {
  const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  const fields: Record<string, string> = {};
  const parts: Array<Promise<RecordedFile>> = [];
  form.forEach((value, field) => {
    if (typeof value === 'string') fields[field] = value;
    else parts.push(value.arrayBuffer().then((buffer) => ({ field, name: value.name, contentType: value.type, bytes: new Uint8Array(buffer) })));
  });
  return { fields, files: await Promise.all(parts) };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
