/** A playground server over the real emulator (SQS/S3 over HTTP on 127.0.0.1), no runner: jobs stay queued. */
import { createModerationPolicy } from '../../../bot/moderation.ts';
import { WebPoster } from '../../../bot/web/poster.ts';
import { startWebPlayground, type WebPlayground, type WebPlaygroundOptions } from '../../../bot/web/server.ts';
import { startTestEmulator, type TestEmulator } from '../../support/emulator.ts';

export interface PlaygroundTarget {
  emulator: TestEmulator;
  poster: WebPoster;
  web: WebPlayground;
  port: number;
  /** A second server on the same store (a restart). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPlaygroundTarget(options: Pick<WebPlaygroundOptions, 'limits' | 'publicHost'> & { maxPendingPerUser?: number } = {}): Promise<PlaygroundTarget> {
  const emulator = await startTestEmulator();
  const bot = { ...emulator.ports, moderation: createModerationPolicy({ blocklist: [] }), ...(options.maxPendingPerUser ? { maxPendingPerUser: options.maxPendingPerUser } : {}) };
  const start = (port: number) => {
    const poster = new WebPoster(emulator.ports.blobs);
    return startWebPlayground({ bot, poster, port, ...(options.limits ? { limits: options.limits } : {}), ...(options.publicHost ? { publicHost: options.publicHost } : {}) }).then((web) => ({ web, poster }));
  };
  const first = await start(0);
  const target: PlaygroundTarget = {
    emulator,
    ...first,
    port: first.web.port,
    async restart() {
      await target.web.stop();
      const next = await start(target.port);
      target.web = next.web;
      target.poster = next.poster;
    },
    async stop() {
      await target.web.stop();
      await emulator.stop();
    },
  };
  return target;
}
