import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { parseImagine } from '../../core/options.ts';
import { autocompleteChoices, COMMAND_DEFINITIONS, isCommandName, SLASH_COMMANDS } from '../../bot/discord/commands.ts';
import { createCommandHandlers } from '../../bot/discord/command-handlers.ts';
import { createModerationPolicy } from '../../bot/moderation.ts';
import { MemoryBlobStore, MemoryEventBus, MemoryJobQueue } from '../bot/support/memory-ports.ts';
import { parseScope, registerCommands } from '../../bot/discord/register-commands.ts';
import { createDiscordRest } from '../../bot/discord/rest-poster.ts';
import { RecordingDiscordApi } from './support/recording-discord-api.ts';
import { APP_ID } from './support/fixtures.ts';

type Option = { name: string; description: string; type: ApplicationCommandOptionType; required?: boolean; choices?: unknown[]; options?: Option[] };

describe('COMMAND_DEFINITIONS', () => {
  it('GIVEN every command and option THEN names, descriptions and counts follow Discord rules', () => {
    const names = new Set<string>();
    for (const command of COMMAND_DEFINITIONS) {
      expect(command.name).toMatch(/^[-_a-z0-9]{1,32}$/);
      expect(names.has(command.name)).toBe(false);
      names.add(command.name);
      expect(('description' in command ? command.description : undefined)?.length ?? 0).toBeGreaterThan(0);
      const options = (('options' in command ? command.options : undefined) ?? []) as Option[];
      expect(options.length).toBeLessThanOrEqual(25);
      const firstOptional = options.findIndex((o) => !o.required);
      if (firstOptional >= 0) expect(options.slice(firstOptional).every((o) => !o.required)).toBe(true);
      for (const option of options) {
        expect(option.name).toMatch(/^[-_a-z0-9]{1,32}$/);
        expect(option.description.length).toBeGreaterThan(0);
        expect(option.description.length).toBeLessThanOrEqual(100);
        expect(option.choices?.length ?? 0).toBeLessThanOrEqual(25);
      }
    }
    expect([...names].sort()).toEqual(['blend', 'board', 'cancel', 'help', 'imagine', 'info', 'settings', 'show']);
    // Server installs only: a user install in a foreign server could not post results after 15 minutes.
    for (const command of COMMAND_DEFINITIONS) expect(command).toMatchObject({ integration_types: [0], contexts: [0, 1] });
  });

  it('GIVEN each /imagine slash option THEN the option parser accepts it under the same name', () => {
    const imagine = COMMAND_DEFINITIONS.find((c) => c.name === 'imagine') as { options: Option[] };
    const samples: Record<string, string | number | boolean> = { ar: '16:9', style: 'photo', no: 'text', seed: 5, chaos: 10, steps: 20, cfg: 4.5, size: 'large', lite: true, iw: 0.5, strength: 0.5 };
    // Attachment options carry pictures, not parser options (bot/uploads.ts); --iw and --strength apply with a picture.
    for (const option of imagine.options.filter((o) => o.name !== 'prompt' && o.type !== ApplicationCommandOptionType.Attachment)) {
      expect(samples, `sample for ${option.name}`).toHaveProperty(option.name);
      expect(() => parseImagine('a fox', { [option.name]: samples[option.name] }, { imageCount: 1 })).not.toThrow();
    }
    expect(imagine.options.filter((o) => o.type === ApplicationCommandOptionType.Attachment).map((o) => o.name)).toEqual(['image', 'image2', 'image3']);
    expect(imagine.options.find((o) => o.name === 'prompt')!.type).toBe(ApplicationCommandOptionType.String);
  });
});

describe('SLASH_COMMANDS', () => {
  it('GIVEN the registry THEN each command is filed under its own name, registered, routed and bound to a handler', () => {
    expect(Object.entries(SLASH_COMMANDS).map(([name, command]) => [name, command.definition.name])).toEqual(Object.keys(SLASH_COMMANDS).map((name) => [name, name]));
    expect(COMMAND_DEFINITIONS).toEqual(Object.values(SLASH_COMMANDS).map((command) => command.definition));
    for (const name of Object.keys(SLASH_COMMANDS)) expect(isCommandName(name)).toBe(true);
    expect(['toString', 'constructor', 'boards', ''].some(isCommandName)).toBe(false);
    const handlers = createCommandHandlers({ queue: new MemoryJobQueue(), events: new MemoryEventBus(), blobs: new MemoryBlobStore(), moderation: createModerationPolicy({ blocklist: [] }) });
    expect(Object.keys(handlers).sort()).toEqual([...Object.keys(SLASH_COMMANDS), 'pressButton'].sort());
    for (const handler of Object.values(handlers)) expect(handler).toBeTypeOf('function');
  });
});

describe('autocompleteChoices', () => {
  it('GIVEN a partial ratio THEN matching named ratios; an unnamed valid ratio is offered as typed', () => {
    expect(autocompleteChoices('ar', '16').map((c) => c.value)).toEqual(['16:9']);
    expect(autocompleteChoices('ar', '5:4').map((c) => c.value)[0]).toBe('5:4');
    expect(autocompleteChoices('ar', 'portrait').map((c) => c.value)).toEqual(['4:5', '2:3', '9:16']);
  });

  it('GIVEN nothing typed THEN at most 25 choices, each name ≤ 100 characters', () => {
    for (const option of ['ar', 'style']) {
      const choices = autocompleteChoices(option, '');
      expect(choices.length).toBeGreaterThan(0);
      expect(choices.length).toBeLessThanOrEqual(25);
      for (const choice of choices) expect(choice.name.length).toBeLessThanOrEqual(100);
    }
    expect(autocompleteChoices('seed', '1')).toEqual([]);
  });
});

describe('registerCommands', () => {
  const api = new RecordingDiscordApi();
  beforeAll(async () => void (await api.start()));
  afterAll(async () => api.stop());

  it('GIVEN --guild THEN it PUTs the whole set to the guild route with the bot token', async () => {
    const rest = createDiscordRest({ api: api.api, token: 'bot-token-for-registration' });
    const names = await registerCommands(rest, APP_ID, parseScope(['--guild', '123456789012345678']));
    expect(names).toEqual(COMMAND_DEFINITIONS.map((c) => c.name));
    const put = api.requests.at(-1)!;
    expect(`${put.method} ${put.path}`).toBe(`PUT /applications/${APP_ID}/guilds/123456789012345678/commands`);
    expect(put.headers.authorization).toBe('Bot bot-token-for-registration');
    expect(put.json).toEqual(COMMAND_DEFINITIONS);
  });

  it('GIVEN --global THEN the application route', async () => {
    const rest = createDiscordRest({ api: api.api, token: 't' });
    await registerCommands(rest, APP_ID, parseScope(['--global']));
    expect(api.requests.at(-1)!.path).toBe(`/applications/${APP_ID}/commands`);
  });

  it('GIVEN no scope or a bad guild id THEN it explains what to pass', () => {
    expect(() => parseScope([])).toThrow(/--guild <server id>.*--global/);
    expect(() => parseScope(['--guild', 'my-server'])).toThrow(/server id/);
  });
});
