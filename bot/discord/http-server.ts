/**
 * The interactions endpoint as a plain HTTP server, for self-hosting behind a tunnel or reverse proxy
 * instead of the gateway. Unlike the Lambda it can answer in the HTTP body first and do the slow part
 * after the response has gone out, because the process keeps running.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerInteractionRequest, MAX_INTERACTION_BYTES, type HttpInteractionDeps } from './http-endpoint.js';

export interface InteractionsServer {
  url: string;
  /** Stops accepting requests and waits for work started after acks. */
  stop(): Promise<void>;
}

export async function startInteractionsServer(deps: HttpInteractionDeps, options: { host?: string; port?: number } = {}): Promise<InteractionsServer> {
  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    void readBody(req).then((raw) => {
      const answer = raw === null ? { status: 413 as const, body: JSON.stringify({ error: 'body too large' }) } : answerInteractionRequest(raw, (name) => headerOf(req, name), deps);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      const afterAck = 'route' in answer ? answer.route.afterAck : undefined;
      if (!afterAck) return;
      // The ack is in the response body; the work starts once it has been handed to the socket.
      const work = new Promise<void>((resolve) => res.once('finish', resolve)).then(afterAck).catch((error: unknown) => {
        deps.log?.error('discord_after_ack_failed', { error: error instanceof Error ? error.name : String(error) });
      });
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}/`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(inFlight);
    },
  };
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** The raw body, or null once it exceeds the limit (the rest is not buffered). */
async function readBody(req: IncomingMessage): Promise<Uint8Array | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_INTERACTION_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
