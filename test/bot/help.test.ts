/** `/help` on the shared handlers: every command the platform registers is listed, and every option the parser reads. */
import { ApplicationCommandOptionType } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { COMMAND_HELP, help } from '../../bot/commands/index.ts';
import { SLASH_COMMANDS } from '../../bot/discord/commands.ts';
import { imagineCommand } from '../../bot/discord/slash-commands/imagine.ts';
import { givenOptionNames } from '../../core/options.ts';

describe('GIVEN /help', () => {
  it('WHEN asked on Discord or the web THEN every registered Discord command has a line, and nothing unregistered does', () => {
    const listed = COMMAND_HELP.map((command) => /^\/([a-z-]+)/.exec(command.usage)![1]).sort();
    expect(listed).toEqual(Object.keys(SLASH_COMMANDS).sort());
    expect(help().lines.slice(0, COMMAND_HELP.length)).toEqual(COMMAND_HELP.map((command) => `${command.usage} — ${command.does}`));
  });

  it('WHEN the options line is read THEN it names every option /imagine takes, each one the parser recognises', () => {
    const optionsLine = help().lines.find((line) => line.startsWith('Options: '))!;
    const named = [...optionsLine.matchAll(/--([a-z]+)/g)].map((match) => match[1]!);
    // Typed options only: attachments (pictures) are not written in the prompt.
    const slashOptions = imagineCommand.definition.options.filter((option) => option.name !== 'prompt' && option.type !== ApplicationCommandOptionType.Attachment).map((option) => option.name);
    expect(named.sort()).toEqual([...slashOptions].sort());
    for (const name of named) expect(givenOptionNames(`x --${name} 1`).size, name).toBe(1);
  });

  it('WHEN a platform passes its own command names THEN those are listed, with the same options and buttons lines', () => {
    const custom = help([{ usage: '/imagine-help', does: 'this list' }]);
    expect(custom.lines[0]).toBe('/imagine-help — this list');
    expect(custom.lines.slice(1)).toEqual(help().lines.slice(COMMAND_HELP.length));
  });
});
