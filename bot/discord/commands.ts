/**
 * The bot's slash commands (one file each in slash-commands/, `{ definition, execute }`), and the
 * autocomplete answers for style presets and aspect ratios. Registration (register-commands.ts),
 * routing (interactions.ts) and the bot-core handlers (command-handlers.ts) iterate SLASH_COMMANDS:
 * adding a command is its file and one line here. Option names match core/options.ts `SlashOptions`,
 * so the translation layer hands them to `parseImagine` unchanged; inline `--` options in the prompt
 * keep working next to them.
 */
import type { APIApplicationCommandOptionChoice, RESTPutAPIApplicationCommandsJSONBody } from 'discord-api-types/v10';
import { NAMED_ASPECTS } from '../../core/dimensions.ts';
import { STYLE_PRESETS } from '../../core/styles.ts';
import { blendCommand } from './slash-commands/blend.ts';
import { boardSlashCommand } from './slash-commands/board.ts';
import { cancelCommand } from './slash-commands/cancel.ts';
import { helpCommand } from './slash-commands/help.ts';
import { imagineCommand } from './slash-commands/imagine.ts';
import { infoCommand } from './slash-commands/info.ts';
import { settingsCommand } from './slash-commands/settings.ts';
import { showCommand } from './slash-commands/show.ts';

/** Every slash command, by its name (a test checks each key is its definition's name); registered in this order. */
export const SLASH_COMMANDS = {
  imagine: imagineCommand,
  blend: blendCommand,
  settings: settingsCommand,
  info: infoCommand,
  show: showCommand,
  cancel: cancelCommand,
  help: helpCommand,
  board: boardSlashCommand,
} as const;

export type CommandName = keyof typeof SLASH_COMMANDS;

/** What `PUT /applications/{id}/commands` takes: every command's definition. */
export const COMMAND_DEFINITIONS: RESTPutAPIApplicationCommandsJSONBody = Object.values(SLASH_COMMANDS).map((command) => command.definition);

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(SLASH_COMMANDS, name);
}

/** Discord caps autocomplete answers at 25 choices. */
const MAX_CHOICES = 25;

/**
 * Choices for the focused option of an autocomplete interaction.
 *
 * @example autocompleteChoices('ar', '16') // → [{ name: '16:9 · landscape (widescreen)', value: '16:9' }]
 */
export function autocompleteChoices(option: string, typed: string): APIApplicationCommandOptionChoice<string>[] {
  const wanted = typed.trim().toLowerCase();
  if (option === 'ar') {
    const named = NAMED_ASPECTS.filter((a) => a.value.startsWith(wanted) || a.label.includes(wanted)).map((a) => ({ name: `${a.value} · ${a.label}`, value: a.value }));
    // A valid ratio nobody named (e.g. 5:4) is offered as typed, so autocomplete never blocks input.
    const typedRatio = /^\d{1,2}:\d{1,2}$/.test(wanted) && !named.some((c) => c.value === wanted) ? [{ name: wanted, value: wanted }] : [];
    return [...typedRatio, ...named].slice(0, MAX_CHOICES);
  }
  if (option === 'style') {
    return STYLE_PRESETS.filter((s) => s.name.includes(wanted) || s.description.toLowerCase().includes(wanted))
      .map((s) => ({ name: `${s.name} · ${s.description}`.slice(0, 100), value: s.name }))
      .slice(0, MAX_CHOICES);
  }
  return [];
}
