/**
 * The whole system in one process tree, as `npm start` runs it: the SQS/S3 emulator (objects kept
 * on disk), the runner with the bundled model on the CPU in a supervised child process
 * (./runner-process.ts), unfinished jobs put back on the queue, the
 * events dispatcher with the web Poster (and Discord/Slack posters when their tokens are set), the
 * web playground, and the chat bots whose tokens are present. bin/start.ts is only its command line;
 * the end-to-end tests start it in-process on free ports.
 *
 * @example
 *   const system = await startSystem({ env: { ...process.env, WEB_PORT: '0', LOCAL_EMULATOR_PORT: '0' }, say: console.log });
 *   system.webUrl // → 'http://127.0.0.1:41234/'
 *   await system.stop();
 */
import { access } from 'node:fs/promises';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAwsPorts, type Ports } from '../core/aws/index.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { PortInUseError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { Dispatcher } from '../bot/dispatcher.ts';
import { BoardHeaderUpdater } from '../bot/boards/header-updater.ts';
import { startDeadlineSweeper } from '../bot/boards/deadline.ts';
import { boardRoutes } from '../bot/web/board-routes.ts';
import type { BotDeps } from '../bot/commands/index.ts';
import { createModerationPolicy } from '../bot/moderation.ts';
import type { PosterRegistry } from '../bot/poster.ts';
import { WebPoster } from '../bot/web/poster.ts';
import { startWebPlayground, type WebPlayground } from '../bot/web/server.ts';
import { isBotMarkerKey, settingsKeys } from '../core/storage-layout.ts';
import { requeueUnfinished } from './requeue.ts';
import { startLocalQueues } from './queues.ts';
import { SingleWriterCache } from './single-writer-cache.ts';
import { startRunnerProcess, type RunnerProcess } from './runner-process.ts';
import { startChatBots, type ChatBots, type PlatformApis } from './chat-bots.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The trained demo model when it is there, else the engine's tiny random-weight test bundle (noise-like images). */
export const DEMO_BUNDLE = resolve(ROOT, 'models/demo');
export const FIXTURE_BUNDLE = resolve(ROOT, 'test/fixtures/cascade-tiny');

export interface SystemOptions {
  /** Environment (process.env merged with .env by the caller). */
  env: Record<string, string | undefined>;
  /** One line per part, for people. */
  say?: (line: string) => void;
  log?: Logger;
  /** API base URLs for the chat clients (tests: recording servers on 127.0.0.1). */
  platformApis?: PlatformApis;
}

export interface System {
  config: Config;
  ports: Ports;
  webUrl: string;
  bundle: { dir: string; name: string };
  /** Jobs put back on the queue at start (unfinished when the last run stopped). */
  requeued: string[];
  /** The runner's child process (restarted when it dies). */
  runner: RunnerProcess;
  stop(): Promise<void>;
}

export async function startSystem(options: SystemOptions): Promise<System> {
  const say = options.say ?? (() => undefined);
  const base = loadConfig(options.env);
  const log = options.log ?? createLogger({ level: base.log.level, json: base.log.json });
  const chatConfigured = Boolean(base.discord.token || base.slack.botToken || base.slack.appToken);
  // Locally nobody else shares the platforms' edit limits: show progress often unless chat bots are on.
  // Short runner polls: the emulator answers them cheaply, and Ctrl-C waits out the one in flight.
  const env = { PROGRESS_INTERVAL_MS: chatConfigured ? undefined : '400', POLL_WAIT_SECONDS: '2', ...options.env };

  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => log.warn('shutdown step failed', { error }));
  };
  try {
    await assertPortFree(base.local.webPort, 'WEB_PORT / --port');
    const bundle = await chooseBundle(base.model.dir);
    say(`model      ${bundle.name} (${bundle.dir}) on ${base.model.provider.toUpperCase()}`);

    const dataDir = resolve(base.local.dataDir, 's3');
    const queues = await startLocalQueues({ env, log: log.child({ component: 'local' }), dataDir });
    const emulator = queues.emulator;
    if (emulator) cleanups.push(() => emulator.stop());
    say(emulator ? `queues+S3  emulator on ${emulator.endpoint}, ${emulator.restoredObjects} stored objects restored from ${dataDir}` : `queues+S3  ${queues.config.jobsQueueUrl} (configured; no local emulator)`);

    // Its own process, as in production: onnxruntime blocks the runner's JS thread while it computes.
    const runner = await startRunnerProcess({ env: { ...queues.env, MODEL_DIR: bundle.dir }, say, stopTimeoutMs: (queues.config.runner.drainTimeoutSeconds + 5) * 1000 });
    cleanups.push(() => runner.stop());
    say(`runner     ${runner.runnerId} polling the jobs queue (process ${runner.pid})`);

    const awsPorts = createAwsPorts(queues.config);
    // With its own emulator this process is the only writer of settings and of the bot's job markers (the runner
    // child never writes them), so /imagine and each delivery read them from memory after the first time.
    const ports = emulator ? { ...awsPorts, blobs: new SingleWriterCache(awsPorts.blobs, writtenOnlyByTheBot) } : awsPorts;
    // Only the local emulator forgets its queues; real SQS keeps waiting jobs on its own.
    const requeued = emulator ? await requeueUnfinished(ports) : [];
    if (requeued.length > 0) say(`requeued   ${requeued.length} unfinished job${requeued.length === 1 ? '' : 's'} from the last run`);

    const bot: BotDeps = { ...ports, moderation: createModerationPolicy(queues.config.moderation), maxPendingPerUser: queues.config.maxPendingPerUser };
    const web = new WebPoster(ports.blobs);
    const posters: PosterRegistry = { web };
    const chat: ChatBots = await startChatBots(queues.config, bot, log, options.platformApis);
    cleanups.push(() => chat.stop());
    Object.assign(posters, chat.posters);
    for (const line of chat.lines) say(line);

    const boards = new BoardHeaderUpdater({ blobs: ports.blobs, posters, log: (event, fields) => log.warn(event, { component: 'boards', ...fields }) });
    const stopSweeper = startDeadlineSweeper(ports.blobs, ports.events, 60_000, (event, fields) => log.warn(event, fields));
    cleanups.push(async () => stopSweeper());
    const dispatcher = new Dispatcher({
      events: ports.events,
      blobs: ports.blobs,
      posters,
      boards,
      receiveWaitSeconds: 5,
      ...(chatConfigured ? {} : { minEditIntervalMs: 300, minChannelEditIntervalMs: 100 }),
      log: log.child({ component: 'dispatcher' }),
    });
    const abort = new AbortController();
    const dispatching = dispatcher.run(abort.signal);
    cleanups.push(async () => {
      abort.abort();
      await dispatching;
      await Promise.race([dispatcher.idle(), new Promise((done) => setTimeout(done, 2000))]);
      dispatcher.stop();
    });
    say(`dispatcher delivering to ${Object.keys(posters).join(', ')}`);

    const playground: WebPlayground = await startWebPlayground({ bot, poster: web, port: base.local.webPort, routes: boardRoutes(bot), ...(base.local.publicHost ? { publicHost: base.local.publicHost } : {}), log: log.child({ component: 'web' }) });
    cleanups.push(() => playground.stop());
    say(`playground ${playground.url}`);
    boards.setPageBaseUrl(playground.url);

    return { config: queues.config, ports, webUrl: playground.url, bundle, requeued, runner, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function writtenOnlyByTheBot(key: string): boolean {
  return key.startsWith(settingsKeys.prefix) || isBotMarkerKey(key);
}

/** MODEL_DIR when set; else models/demo when its manifest exists; else the test fixture. */
async function chooseBundle(configured: string | undefined): Promise<{ dir: string; name: string }> {
  if (configured) return { dir: resolve(configured), name: 'MODEL_DIR' };
  const demo = await access(resolve(DEMO_BUNDLE, 'manifest.json')).then(() => true, () => false);
  return demo ? { dir: DEMO_BUNDLE, name: 'demo model' } : { dir: FIXTURE_BUNDLE, name: 'tiny test bundle (random weights: noise-like images; the demo model is not in models/demo yet)' };
}

/** Fails before the slow model load when the playground's port is taken. */
async function assertPortFree(port: number, setting: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'EADDRINUSE' ? withHint(new PortInUseError('127.0.0.1', port), setting) : error));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolvePort()));
  });
}

function withHint(error: PortInUseError, setting: string): PortInUseError {
  error.message = `${error.message} (${setting})`;
  return error;
}
