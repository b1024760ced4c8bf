/**
 * Raw HTTP for the playground attack tests: node:http instead of fetch, so a test can forge the Host
 * header, send any cookie, and connect from another loopback address (127.0.0.2, … are other
 * "clients" to the server's per-address limits).
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface RawRequest {
  port: number;
  method?: 'GET' | 'POST';
  path: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
  /** The client's own address (default 127.0.0.1). */
  from?: string;
}

export function raw(options: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: options.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: `127.0.0.1:${options.port}`, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
        ...(options.from ? { localAddress: options.from } : {}),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A session cookie ("cascade_session=…") as the page gets it. */
export async function openSession(port: number, from?: string): Promise<string> {
  const page = await raw({ port, path: '/', ...(from ? { from } : {}) });
  const cookie = page.headers['set-cookie']?.[0];
  if (!cookie) throw new Error('the page set no session cookie');
  return cookie.split(';')[0]!;
}

export function postJson(port: number, path: string, body: unknown, headers: OutgoingHttpHeaders = {}, from?: string): Promise<RawResponse> {
  return raw({ port, method: 'POST', path, body: JSON.stringify(body), headers, ...(from ? { from } : {}) });
}

export interface OpenStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Everything received so far (an SSE stream stays open; a refusal ends). */
  text(): string;
  close(): void;
}

/** Opens GET /api/events and resolves once the status is known (the stream stays open until close()). */
export function openEvents(port: number, options: { from?: string; headers?: OutgoingHttpHeaders } = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path: '/api/events', headers: { host: `127.0.0.1:${port}`, ...options.headers }, agent: false, ...(options.from ? { localAddress: options.from } : {}) },
      (response) => {
        let received = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (received += chunk));
        response.on('error', () => undefined);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: () => received, close: () => request.destroy() });
      },
    );
    request.on('error', reject);
    request.end();
  });
}
