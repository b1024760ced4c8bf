/** The gateway entry point runs the same router; answers without slow work still reach the callback endpoint. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InteractionResponseType, MessageFlags } from 'discord-api-types/v10';
import { handleGatewayInteraction, startDiscordGateway } from '../../bot/discord/gateway.ts';
import type { DiscordCommandHandlers } from '../../bot/discord/command-handlers.ts';
import type { InteractionRouterDeps } from '../../bot/discord/acks.ts';
import { createDiscordRest } from '../../bot/discord/rest-poster.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { RecordingDiscordApi } from './support/recording-discord-api.ts';
import { FakeGateway } from './support/fake-gateway.ts';
import { autocomplete, buttonPress, slashCommand } from './support/signed-interactions.ts';
import { recordingLogger } from '../support/recording-logger.ts';

const api = new RecordingDiscordApi();
const calls: string[] = [];
// A unit test of the transport: the handlers only record that they ran.
const handlers: DiscordCommandHandlers = {
  imagine: async () => (calls.push('imagine'), { kind: 'accepted', jobId: 'j1', duplicate: false }),
  blend: async () => (calls.push('blend'), { kind: 'accepted', jobId: 'j3', duplicate: false }),
  pressButton: async () => (calls.push('press'), { kind: 'accepted', jobId: 'j2', duplicate: false }),
  info: async () => (calls.push('info'), { kind: 'info', title: 'Your usage', lines: ['In progress: 0 of 3'], copyable: [] }),
  settings: async () => (calls.push('settings'), { kind: 'done', action: 'settings_saved', message: 'Saved' }),
  show: async () => (calls.push('show'), { kind: 'rejected', code: 'not_found', message: 'There is no job j9' }),
  cancel: async () => (calls.push('cancel'), { kind: 'done', action: 'cancelled', message: 'Cancelled' }),
  help: async () => (calls.push('help'), { kind: 'info', title: 'Commands', lines: [], copyable: [] }),
  board: async () => (calls.push('board'), { kind: 'info', title: 'Board', lines: [], copyable: [] }),
};
let router: InteractionRouterDeps;

beforeAll(async () => {
  await api.start();
  router = { handlers, moderation: createModerationPolicy({ blocklist: [] }), rest: createDiscordRest({ api: api.api }) };
});
afterAll(async () => api.stop());
afterEach(() => {
  api.clear();
  calls.length = 0;
});

describe('handleGatewayInteraction', () => {
  it('GIVEN autocomplete THEN the choices are posted to the callback and no command runs', async () => {
    const payload = autocomplete('style', 'photo');
    await handleGatewayInteraction(payload, router);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.path).toBe(`/interactions/${payload.id}/${payload.token}/callback`);
    expect(api.requests[0]!.json).toMatchObject({ type: InteractionResponseType.ApplicationCommandAutocompleteResult, data: { choices: [{ value: 'photo' }] } });
    expect(calls).toEqual([]);
  });

  it('GIVEN a tampered button THEN an ephemeral refusal is posted and no command runs', async () => {
    await handleGatewayInteraction(buttonPress('upscale:j1:7', '1'), router);
    expect(api.requests[0]!.json).toMatchObject({ type: InteractionResponseType.ChannelMessageWithSource, data: { flags: MessageFlags.Ephemeral } });
    expect(calls).toEqual([]);
  });

  it('GIVEN /info THEN a private deferral, the command, then the answer edited into the deferral', async () => {
    const payload = slashCommand('info', []);
    await handleGatewayInteraction(payload, router);
    expect(calls).toEqual(['info']);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'PATCH']);
    expect(api.requests[0]!.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource, data: { flags: MessageFlags.Ephemeral } });
    expect(JSON.stringify(api.requests[1]!.json)).toContain('In progress: 0 of 3');
  });

  it('GIVEN /show of a missing job THEN the public placeholder is replaced by a private refusal', async () => {
    await handleGatewayInteraction(slashCommand('show', [{ name: 'job', type: 3, value: 'j9' }]), router);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'DELETE', 'POST']);
    expect(api.requests[2]!.json).toMatchObject({ content: 'There is no job j9', flags: MessageFlags.Ephemeral });
  });

  it('GIVEN the callback fails (interaction already expired) THEN the command never runs', async () => {
    api.scriptNext((r) => r.path.endsWith('/callback'), { status: 404, body: { message: 'Unknown interaction', code: 10062 } });
    await handleGatewayInteraction(slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a fox' }]), router);
    expect(calls).toEqual([]);
  });

  it('GIVEN a command handler that throws THEN the actor gets a private "try again" and the error is logged without the token', async () => {
    const log = recordingLogger();
    const failing = { ...router, handlers: { ...handlers, imagine: async () => { throw new Error('S3 unreachable'); } }, log };
    const payload = slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a fox' }]);
    await handleGatewayInteraction(payload, failing);
    expect(api.requests.map((r) => r.method)).toEqual(['POST', 'POST']);
    expect(api.requests[1]!.json).toMatchObject({ flags: MessageFlags.Ephemeral });
    expect(log.lines).toContainEqual({ level: 'error', event: 'discord_command_failed', fields: { command: 'imagine', error: 'Error: S3 unreachable' } });
    expect(JSON.stringify(log.lines)).not.toContain(payload.token);
  });
});

describe('startDiscordGateway', () => {
  it('GIVEN a token Discord rejects THEN it fails with a sentence naming DISCORD_TOKEN and never the token', async () => {
    const token = 'MTIzNDU2Nzg5MDEyMzQ1Njc4.rejected.token-value';
    api.scriptNext((r) => r.path === '/gateway/bot', { status: 401, body: { message: '401: Unauthorized', code: 0 } });
    const error = (await startDiscordGateway({ token, router, api: api.api }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('DISCORD_TOKEN');
    expect(error.message).not.toContain(token);
    expect(api.requests.some((r) => r.path === '/gateway/bot' && r.headers.authorization === `Bot ${token}`)).toBe(true);
  });
});

describe('GIVEN the discord.js client logged in to a gateway on loopback', () => {
  it('WHEN Discord dispatches INTERACTION_CREATE THEN the shared router acks through the callback and runs the command', async () => {
    const gatewayServer = await new FakeGateway().start();
    api.scriptNext((r) => r.path === '/gateway/bot', { status: 200, body: gatewayServer.gatewayBot() });
    const gateway = await startDiscordGateway({ token: 'MTIz.fake.bot-token', router, api: api.api });
    try {
      await gatewayServer.whenReady();
      expect(gatewayServer.identifies).toEqual([{ token: 'MTIz.fake.bot-token', intents: 1 }]);
      const payload = slashCommand('imagine', [{ name: 'prompt', type: 3, value: 'a lighthouse' }]);
      gatewayServer.dispatch('INTERACTION_CREATE', payload);
      const callback = await api.waitFor((r) => r.path === `/interactions/${payload.id}/${payload.token}/callback`);
      expect(callback.json).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
      await gateway.stop();
      expect(calls).toEqual(['imagine']);
    } finally {
      await gateway.stop().catch(() => undefined);
      await gatewayServer.stop();
    }
  });
});
