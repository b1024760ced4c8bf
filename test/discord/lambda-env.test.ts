/** The exported Lambda `handler`, configured only through the environment, as AWS runs it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InteractionResponseType } from 'discord-api-types/v10';
import { startTestEmulator, type TestEmulator } from '../support/emulator.ts';
import { RecordingDiscordApi } from './support/recording-discord-api.ts';
import { functionUrlEvent, makeSigningKeys, ping, slashCommand } from './support/signed-interactions.ts';
import { APP_ID } from './support/fixtures.ts';

const keys = makeSigningKeys();
const api = new RecordingDiscordApi();
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
  await api.start();
});
afterAll(async () => {
  await api.stop();
  await emulator.stop();
});

describe('functions/discord-interactions handler', () => {
  it('GIVEN no DISCORD_PUBLIC_KEY THEN the first call fails naming the variable', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, emulator.env(), { DISCORD_PUBLIC_KEY: '' });
    // A fresh module instance (query string), so the cached configuration of the next test is not this one.
    const fresh = '../../functions/discord-interactions.js?missing-key';
    const { handler } = (await import(fresh)) as typeof import('../../functions/discord-interactions.ts');
    await expect(handler(functionUrlEvent(keys, JSON.stringify(ping())))).rejects.toThrow(/DISCORD_PUBLIC_KEY/);
    process.env = saved;
  });

  it('GIVEN the environment of a deployment THEN PING is answered and /imagine is deferred and enqueued', async () => {
    Object.assign(process.env, emulator.env(), { DISCORD_PUBLIC_KEY: keys.publicKeyHex, DISCORD_APPLICATION_ID: APP_ID, DISCORD_API_URL: api.api, MODERATION_BLOCKLIST: 'gore' });
    const { handler } = await import('../../functions/discord-interactions.ts');
    const pong = await handler(functionUrlEvent(keys, JSON.stringify(ping())));
    expect(JSON.parse(pong.body!)).toEqual({ type: InteractionResponseType.Pong });

    const blocked = await handler(functionUrlEvent(keys, JSON.stringify(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'gore' }]))));
    expect((JSON.parse(blocked.body!) as { data: { content: string } }).data.content).toContain('"gore"');

    const payload = slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a lighthouse' }]);
    expect((await handler(functionUrlEvent(keys, JSON.stringify(payload)))).statusCode).toBe(202);
    expect(api.requests.some((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`)).toBe(true);
    const received = await emulator.ports.queue.receive({ waitSeconds: 1 });
    expect(received?.job?.request.prompt).toBe('a lighthouse');
  });
});
