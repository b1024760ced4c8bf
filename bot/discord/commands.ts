/**
 * Slash-command definitions as plain API JSON (what `PUT /applications/{id}/commands` takes), and
 * the autocomplete answers for style presets and aspect ratios. Option names match core/options.ts
 * `SlashOptions`, so the translation layer hands them to `parseImagine` unchanged; inline `--`
 * options in the prompt keep working next to them.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type APIApplicationCommandOptionChoice,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import { NAMED_ASPECTS } from '../../core/dimensions.js';
import { STYLE_PRESETS } from '../../core/styles.js';

/** Discord caps autocomplete answers at 25 choices. */
const MAX_CHOICES = 25;

/**
 * Server installs only, usable in servers and in DMs with the bot: both places let the bot token post
 * a result after the 15-minute interaction token expires. A user install used in someone else's server
 * has no such fallback, so it is not offered.
 */
const WHERE = { integration_types: [ApplicationIntegrationType.GuildInstall], contexts: [InteractionContextType.Guild, InteractionContextType.BotDM] };

export const COMMAND_DEFINITIONS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'imagine',
    description: 'Make four images from a prompt (inline --ar, --seed, --no … work too)',
    options: [
      { type: ApplicationCommandOptionType.String, name: 'prompt', description: 'What to draw; may end with --options', required: true, max_length: 2000 },
      { type: ApplicationCommandOptionType.String, name: 'ar', description: 'Aspect ratio, e.g. 16:9', autocomplete: true, max_length: 7 },
      { type: ApplicationCommandOptionType.String, name: 'style', description: 'Style preset', autocomplete: true, max_length: 32 },
      { type: ApplicationCommandOptionType.String, name: 'no', description: 'Things to leave out (negative prompt)', max_length: 2000 },
      { type: ApplicationCommandOptionType.Integer, name: 'seed', description: 'Seed for reproducible results', min_value: 0, max_value: 0xffffffff },
      { type: ApplicationCommandOptionType.Integer, name: 'chaos', description: 'How different the four images are (0–100)', min_value: 0, max_value: 100 },
      { type: ApplicationCommandOptionType.Integer, name: 'steps', description: 'Stage C denoising steps (1–100)', min_value: 1, max_value: 100 },
      { type: ApplicationCommandOptionType.Number, name: 'cfg', description: 'Prompt guidance (0–30)', min_value: 0, max_value: 30 },
      {
        type: ApplicationCommandOptionType.String,
        name: 'size',
        description: 'Image size',
        choices: [
          { name: 'small', value: 'small' },
          { name: 'medium', value: 'medium' },
          { name: 'large', value: 'large' },
        ],
      },
      { type: ApplicationCommandOptionType.Boolean, name: 'lite', description: 'Faster, lighter model variant' },
    ],
  },
  {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'settings',
    description: 'Your defaults, or this channel\'s (managers only)',
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: 'scope',
        description: 'Whose defaults to show or change',
        choices: [
          { name: 'mine', value: 'user' },
          { name: 'this channel', value: 'channel' },
        ],
      },
      { type: ApplicationCommandOptionType.String, name: 'defaults', description: 'Default options, e.g. --ar 3:2 --style photo (empty: show)', max_length: 500 },
      {
        type: ApplicationCommandOptionType.String,
        name: 'buttons',
        description: 'Who may press buttons in this channel',
        choices: [
          { name: 'requester only', value: 'requester' },
          { name: 'everyone', value: 'everyone' },
        ],
      },
      { type: ApplicationCommandOptionType.Boolean, name: 'reset', description: 'Forget these defaults' },
    ],
  },
  { ...WHERE, type: ApplicationCommandType.ChatInput, name: 'info', description: 'Your queue, your usage and the limits' },
  {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'show',
    description: 'Post a past job again',
    options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'Job id (from ℹ️)', required: true, max_length: 64 }],
  },
  {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'cancel',
    description: 'Cancel a queued or running job',
    options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'Job id (empty: your newest)', max_length: 64 }],
  },
];

/** Names of the commands above, for routing. */
export type CommandName = 'imagine' | 'settings' | 'info' | 'show' | 'cancel';

export function isCommandName(name: string): name is CommandName {
  return COMMAND_DEFINITIONS.some((definition) => definition.name === name);
}

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
