/**
 * A Discord gateway stand-in on 127.0.0.1 (JSON encoding, no compression), just enough for the
 * discord.js client to log in: HELLO → IDENTIFY → READY, heartbeats acknowledged. `dispatch` then
 * pushes a raw event, e.g. INTERACTION_CREATE, as Discord would.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { APP_ID } from './fixtures.ts';
import { wsText } from '../../support/ws-text.ts';

export class FakeGateway {
  private server: WebSocketServer | undefined;
  private socket: WebSocket | undefined;
  private sequence = 0;
  /** The IDENTIFY payloads received (token, intents). */
  readonly identifies: Array<{ token: string; intents: number }> = [];
  private ready: Promise<void> | undefined;

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('fake gateway not started');
    return `ws://127.0.0.1:${address.port}`;
  }

  /** What GET /gateway/bot answers, pointing the client here. */
  gatewayBot() {
    return { url: this.url, shards: 1, session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 1 } };
  }

  async start(): Promise<this> {
    this.server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => this.server!.once('listening', () => resolve()));
    this.ready = new Promise<void>((resolve) => {
      this.server!.on('connection', (socket) => {
        this.socket = socket;
        socket.send(JSON.stringify({ op: 10, d: { heartbeat_interval: 45_000 }, s: null, t: null }));
        socket.on('message', (raw) => {
          const packet = JSON.parse(wsText(raw)) as { op: number; d: { token?: string; intents?: number } };
          if (packet.op === 1) socket.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          if (packet.op === 2) {
            this.identifies.push({ token: packet.d.token ?? '', intents: packet.d.intents ?? 0 });
            this.dispatch('READY', {
              v: 10,
              user: { id: '1900000000000000009', username: 'cascade-bot', discriminator: '0', avatar: null, bot: true },
              guilds: [],
              session_id: 'fake-session',
              resume_gateway_url: this.url,
              shard: [0, 1],
              application: { id: APP_ID, flags: 0 },
            });
            resolve();
          }
        });
      });
    });
    return this;
  }

  /** Resolves once a client has identified and received READY. */
  whenReady(): Promise<void> {
    return this.ready!;
  }

  dispatch(type: string, data: unknown): void {
    if (!this.socket) throw new Error('no client connected');
    this.sequence += 1;
    this.socket.send(JSON.stringify({ op: 0, t: type, s: this.sequence, d: data }));
  }

  async stop(): Promise<void> {
    for (const client of this.server?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
