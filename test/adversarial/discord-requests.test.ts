/**
 * Hostile requests against the Discord interactions endpoint (functions/discord-interactions.ts) with
 * the real SQS/S3 emulator behind it and Discord's REST API on a recording server: forged, replayed,
 * old, future-dated, oversized, and signed-but-malformed interactions are answered without a 5xx
 * and enqueue nothing (issue #18, item 5's sweep of the Discord endpoint).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BotDeps } from '../../bot/commands/context.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import { createDiscordRest } from '../../bot/discord/rest-poster.ts';
import { createInteractionVerifier } from '../../bot/discord/verify.ts';
import { createDiscordInteractionsHandler, type DiscordInteractionsHandler } from '../../functions/discord-interactions.ts';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { takeJobs } from '../support/drain-jobs.ts';
import { RecordingDiscordApi } from '../discord/support/recording-discord-api.ts';
import { functionUrlEvent, makeSigningKeys, nowSeconds, signBody, slashCommand } from '../discord/support/signed-interactions.ts';
import { malformedInteractions } from './support/discord-hostile.ts';

const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;
let handler: DiscordInteractionsHandler;

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
  const moderation = createModerationPolicy({ blocklist: [] });
  const bot: BotDeps = { ...emulator.ports, moderation, maxPendingPerUser: 1000, randomSeed: () => 7 };
  handler = createDiscordInteractionsHandler({ handlers: createCommandHandlers(bot), moderation, rest: createDiscordRest({ api: api.api }), verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }) });
});
afterAll(async () => {
  await api.stop();
  await emulator?.stop();
});
afterEach(async () => {
  await takeJobs(emulator.ports.queue);
  api.clear();
});

const drainQueue = () => takeJobs(emulator.ports.queue);
const imagineBody = () => JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a lighthouse' }]));

describe('signed but malformed Discord interactions', () => {
  for (const request of malformedInteractions()) {
    it(`GIVEN ${request.name} THEN a 2xx or 4xx and nothing enqueued`, async () => {
      const response = await handler(functionUrlEvent(keys, request.body));
      expect(response.statusCode, `status for ${request.name}`).toBeGreaterThanOrEqual(200);
      expect(response.statusCode, `status for ${request.name}`).toBeLessThan(500);
      expect(await drainQueue()).toEqual([]);
    });
  }
});

describe('payloads with extra keys', () => {
  it('GIVEN an otherwise valid /imagine with a __proto__ key THEN one job, and no object gained the key', async () => {
    const payload = JSON.parse(imagineBody()) as Record<string, unknown>;
    Object.defineProperty(payload, '__proto__', { value: { polluted: true }, enumerable: true });
    const response = await handler(functionUrlEvent(keys, JSON.stringify(payload)));
    expect(response.statusCode).toBeLessThan(300);
    const jobs = await drainQueue();
    expect(jobs).toHaveLength(1);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect((jobs[0] as unknown as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('signature and timestamp', () => {
  it.each([
    ['6 minutes old', -6 * 60],
    ['61 seconds ahead', 61],
    ['400 seconds ahead', 400],
    ['10 years ahead', 10 * 365 * 86_400],
  ])('GIVEN a correctly signed interaction %s THEN 401 and nothing enqueued', async (_label, offset) => {
    const response = await handler(functionUrlEvent(keys, imagineBody(), { timestamp: nowSeconds(offset) }));
    expect(response.statusCode).toBe(401);
    expect(api.requests).toEqual([]);
    expect(await drainQueue()).toEqual([]);
  });

  it.each([
    ['no signature headers', { omitHeaders: true }],
    ['a signature of another key', { signature: signBody(makeSigningKeys(), imagineBody(), nowSeconds()) }],
    ['a signature that is not hex', { signature: 'z'.repeat(128) }],
    ['a timestamp that is not a number', { timestamp: '1e9' }],
  ])('GIVEN %s THEN 401', async (_label, options) => {
    const response = await handler(functionUrlEvent(keys, imagineBody(), options));
    expect(response.statusCode).toBe(401);
    expect(await drainQueue()).toEqual([]);
  });

  it('GIVEN one signed interaction replayed 5 times THEN the first is answered, the replays 401, one job', async () => {
    const event = functionUrlEvent(keys, imagineBody());
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await handler(event)).statusCode!);
    expect(statuses.slice(1)).toEqual([401, 401, 401, 401]);
    expect(statuses[0]).toBeLessThan(300);
    expect(await drainQueue()).toHaveLength(1);
  });

  it('GIVEN a signed body over 256 KiB THEN 413 before the signature is even checked', async () => {
    const body = JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'x'.repeat(300 * 1024) }]));
    const response = await handler(functionUrlEvent(keys, body));
    expect(response.statusCode).toBe(413);
    expect(await drainQueue()).toEqual([]);
  });
});
