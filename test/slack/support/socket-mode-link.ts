/**
 * Slack's side of Socket Mode on loopback: the WebSocket that `apps.connections.open` points to
 * (ws://127.0.0.1:PORT/link on the recording API's server). It greets the client with `hello`,
 * sends envelopes as Slack would (slash_commands, interactive, events_api) and records the acks.
 */
import type { Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { wsText } from '../../support/ws-text.ts';

export interface Envelope {
  envelope_id: string;
  type: 'slash_commands' | 'interactive' | 'events_api';
  payload: unknown;
  accepts_response_payload: boolean;
  retry_attempt?: number;
  retry_reason?: string;
}

export class SocketModeLink {
  readonly acks = new Map<string, { at: number; payload?: unknown }>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private socket: WebSocket | undefined;
  private connectedResolve: (() => void) | undefined;
  readonly connected = new Promise<void>((resolve) => (this.connectedResolve = resolve));
  private readonly ackWaiters = new Map<string, () => void>();

  constructor(server: Server) {
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/link')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
    });
  }

  private accept(ws: WebSocket): void {
    this.socket = ws;
    ws.on('message', (data) => {
      const message = JSON.parse(wsText(data)) as { envelope_id?: string; payload?: unknown };
      if (!message.envelope_id) return;
      this.acks.set(message.envelope_id, { at: performance.now(), ...(message.payload === undefined ? {} : { payload: message.payload }) });
      this.ackWaiters.get(message.envelope_id)?.();
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'loopback', approximate_connection_time: 3600 }, connection_info: { app_id: 'A0001' } }));
    this.connectedResolve?.();
  }

  /** Sends an envelope and resolves with the ack latency in ms (send → ack received). */
  send(envelope: Envelope, timeoutMs = 10_000): Promise<number> {
    if (!this.socket) throw new Error('no Socket Mode client connected');
    const sentAt = performance.now();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${envelope.envelope_id} within ${timeoutMs} ms`)), timeoutMs);
      this.ackWaiters.set(envelope.envelope_id, () => {
        clearTimeout(timer);
        resolve(this.acks.get(envelope.envelope_id)!.at - sentAt);
      });
      this.socket!.send(JSON.stringify(envelope));
    });
  }

  /** Waits for the client to finish closing its socket (after it disconnects), then shuts the server. */
  async close(timeoutMs = 2000): Promise<void> {
    const open = [...this.wss.clients].filter((client) => client.readyState !== client.CLOSED);
    await Promise.race([
      Promise.all(open.map((client) => new Promise((resolve) => client.once('close', resolve)))),
      new Promise((resolve) => setTimeout(resolve, timeoutMs)),
    ]);
    for (const client of this.wss.clients) client.terminate();
    this.wss.close();
  }
}
