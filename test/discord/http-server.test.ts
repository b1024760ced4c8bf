/** The self-hosted interactions endpoint over real HTTP on 127.0.0.1: ack in the body, enqueue after it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InteractionResponseType } from 'discord-api-types/v10';
import { createModerationPolicy } from '../../bot/moderation.js';
import { createCommandHandlers } from '../../bot/discord/command-handlers.js';
import { startInteractionsServer, type InteractionsServer } from '../../bot/discord/http-server.js';
import { createDiscordRest } from '../../bot/discord/rest-poster.js';
import { createInteractionVerifier } from '../../bot/discord/verify.js';
import { startTestEmulator, type TestEmulator } from '../support/emulator.js';
import { takeJobs } from '../support/drain-jobs.js';
import { RecordingDiscordApi } from './support/recording-discord-api.js';
import { makeSigningKeys, nowSeconds, ping, signBody, slashCommand } from './support/signed-interactions.js';

const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;
let server: InteractionsServer;

async function post(body: string, signature?: string): Promise<Response> {
  const timestamp = nowSeconds();
  return fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature-ed25519': signature ?? signBody(keys, body, timestamp), 'x-signature-timestamp': timestamp },
    body,
  });
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
  const moderation = createModerationPolicy({ blocklist: [] });
  server = await startInteractionsServer({
    handlers: createCommandHandlers({ ...emulator.ports, moderation, maxPendingPerUser: 10 }),
    moderation,
    rest: createDiscordRest({ api: api.api }),
    verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }),
  });
});
afterAll(async () => {
  await server.stop();
  await api.stop();
  await emulator.stop();
});

describe('startInteractionsServer', () => {
  it('GIVEN PING over HTTP THEN PONG', async () => {
    const response = await post(JSON.stringify(ping()));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ type: InteractionResponseType.Pong });
  });

  it('GIVEN /imagine THEN the deferral is the HTTP body (no callback call) and the job is enqueued after it', async () => {
    const response = await post(JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a lighthouse' }])));
    expect(await response.json()).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    await server.stop(); // waits for the work started after the ack
    expect(api.requests.filter((r) => r.path.endsWith('/callback'))).toHaveLength(0);
    const jobs = await takeJobs(emulator.ports.queue);
    expect(jobs.map((job) => job.request.prompt)).toEqual(['a lighthouse']);
  });
});

describe('startInteractionsServer refusals', () => {
  beforeAll(async () => {
    const moderation = createModerationPolicy({ blocklist: [] });
    server = await startInteractionsServer({
      handlers: createCommandHandlers({ ...emulator.ports, moderation }),
      moderation,
      rest: createDiscordRest({ api: api.api }),
      verify: createInteractionVerifier({ publicKeyHex: keys.publicKeyHex }),
    });
  });

  it('GIVEN a bad signature, a GET or a body over 256 KiB THEN 401, 405, 413 and nothing enqueued', async () => {
    expect((await post(JSON.stringify(ping()), 'ab'.repeat(64))).status).toBe(401);
    expect((await fetch(server.url)).status).toBe(405);
    expect((await post(JSON.stringify({ type: 2, padding: 'x'.repeat(300_000) }))).status).toBe(413);
    expect(await takeJobs(emulator.ports.queue)).toHaveLength(0);
  });
});
