/**
 * The whole path with real parts: a signed /imagine → the interactions handler → SQS (fauxqs) →
 * the GPU runner with the test generator → S3 + events → the dispatcher → the Discord poster →
 * the recorded PATCH of @original carrying the grid and the buttons. Then a U2 press on that
 * message goes the same way, through the gateway entry point this time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InteractionResponseType } from 'discord-api-types/v10';
import { loadConfig } from '../../core/config.ts';
import { createLogger } from '../../core/log.ts';
import { ResultSchema } from '../../core/job.ts';
import { jobKeys } from '../../core/storage-layout.ts';
import { startRunner, type RunnerHandle } from '../../gpu-runner/main.ts';
import { Dispatcher } from '../../bot/dispatcher.ts';
import { decodeButtonId } from '../../bot/custom-id.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import type { InteractionRouterDeps } from '../../bot/discord/acks.ts';
import { handleGatewayInteraction } from '../../bot/discord/gateway.ts';
import { blobMessageIds, createDiscordRest, DiscordRestPoster } from '../../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../../bot/discord/verify.ts';
import { createDiscordInteractionsHandler } from '../../functions/discord-interactions.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { TestGenerator } from '../support/test-generator.ts';
import { FAST_RUNNER_ENV } from '../runner/harness.ts';
import { RecordingDiscordApi, type RecordedRequest } from './support/recording-discord-api.ts';
import { APP_ID } from './support/fixtures.ts';
import { buttonPress, functionUrlEvent, makeSigningKeys, slashCommand } from './support/signed-interactions.ts';

const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;
let runner: RunnerHandle;
let dispatcher: Dispatcher;
let router: InteractionRouterDeps;
const stopDispatcher = new AbortController();

type Body = { embeds: Array<{ image?: { url: string }; description?: string }>; components?: Array<{ components: Array<{ custom_id: string; label?: string }> }>; attachments?: Array<{ filename: string }> };

const isFinalEdit = (token: string) => (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path === `/webhooks/${APP_ID}/${token}/messages/@original` && r.files.length === 1 && ((r.json as Body).components?.length ?? 0) > 1;

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
  const rest = createDiscordRest({ api: api.api });
  const moderation = createModerationPolicy({ blocklist: [] });
  const bot: BotDeps = { ...emulator.ports, moderation, maxPendingPerUser: 10 };
  router = { handlers: createCommandHandlers(bot), moderation, rest };
  const poster = new DiscordRestPoster({ rest, hasBotToken: false, messageIds: blobMessageIds(emulator.ports.blobs) });
  dispatcher = new Dispatcher({ events: emulator.ports.events, blobs: emulator.ports.blobs, posters: { discord: poster }, receiveWaitSeconds: 1 });
  void dispatcher.run(stopDispatcher.signal);
  const config = loadConfig({ ...emulator.env(), ...FAST_RUNNER_ENV, RUNNER_ID: 'discord-e2e' });
  runner = await startRunner({ config, generator: new TestGenerator(), ports: emulator.ports, handleSignals: false, log: createLogger({ level: 'error' }) });
});

afterAll(async () => {
  stopDispatcher.abort();
  dispatcher.stop();
  await runner.stop('test over');
  await api.stop();
  await emulator.stop();
});

describe('GIVEN the bot, the queue, a runner and the dispatcher on loopback', () => {
  let gridMessageId = '';
  let jobId = '';

  it('WHEN a signed /imagine arrives THEN the recorded Discord edit carries the grid and U1–U4, V1–V4, 🔄, ℹ️, 🗑️', async () => {
    const handler = createDiscordInteractionsHandler({ ...router, verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }) });
    const payload = slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a lighthouse in a storm --ar 3:2 --seed 7' }]);
    const response = await handler(functionUrlEvent(keys, JSON.stringify(payload)));
    expect(response.statusCode).toBe(202);

    const edit = await api.waitFor(isFinalEdit(payload.token), 30_000);
    const body = edit.json as Body;
    const file = edit.files[0]!;
    expect(body.embeds[0]!.image).toBeUndefined();
    expect(body.attachments).toEqual([{ id: 0, filename: file.name }]);

    const buttons = body.components!.flatMap((row) => row.components.map((b) => decodeButtonId(b.custom_id)));
    jobId = buttons[0]!.jobId;
    expect(buttons.map((b) => `${b.action}:${b.index}`)).toEqual([
      'upscale:1', 'upscale:2', 'upscale:3', 'upscale:4', 'reroll:0',
      'vary_subtle:1', 'vary_subtle:2', 'vary_subtle:3', 'vary_subtle:4', 'info:0',
      'vary_strong:1', 'vary_strong:2', 'vary_strong:3', 'vary_strong:4', 'delete:0',
      'remix:1', 'remix:2', 'remix:3', 'remix:4',
    ]);

    // The attached bytes are the grid the runner stored (or a smaller re-encoding of it).
    const result = ResultSchema.parse(JSON.parse(Buffer.from((await emulator.ports.blobs.get(jobKeys.result(jobId)))!).toString('utf8')));
    expect(result.grid).toBeDefined(); // a chat delivery attaches the grid (storesGridImage)
    const stored = (await emulator.ports.blobs.get(result.grid!.key))!;
    if (file.contentType === result.grid!.contentType) expect(Buffer.from(file.bytes).equals(Buffer.from(stored))).toBe(true);
    else expect(file.bytes.byteLength).toBeLessThan(stored.byteLength);

    // The message the job owns was remembered for edits after the token expires.
    gridMessageId = (await blobMessageIds(emulator.ports.blobs).get(jobId))!;
    expect(gridMessageId).toMatch(/^\d+$/);
  });

  it('WHEN U2 is pressed on that message (gateway entry) THEN an upscale replies to it and is delivered with its own buttons', async () => {
    expect(jobId).not.toBe('');
    const press = buttonPress(`upscale:${jobId}:2`, gridMessageId);
    await handleGatewayInteraction(press, router);
    const callback = api.requests.find((r) => r.path === `/interactions/${press.id}/${press.token}/callback`);
    expect(callback?.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });

    const edit = await api.waitFor((r) => r.method === 'PATCH' && r.path === `/webhooks/${APP_ID}/${press.token}/messages/@original` && r.files.length === 1, 30_000);
    const body = edit.json as Body;
    const labels = body.components!.flatMap((row) => row.components.map((b) => decodeButtonId(b.custom_id).action));
    expect(labels).toEqual(['vary_subtle', 'vary_strong', 'info', 'delete']);
    expect(body.embeds[0]!.description).toContain(`Upscale of tile 2 of job \`${jobId}\``);
  });
});
