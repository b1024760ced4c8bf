/** `/settings [scope defaults buttons reset]`: show or change your defaults, or the channel's (managers only); answered privately. */
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { settings, type SettingsInput } from '../../commands/index.ts';
import type { CommandContext, DoneReply, InfoReply, Rejected } from '../../commands/context.ts';
import { deferPrivate, deferred } from '../acks.ts';
import { renderActorReply } from '../replies.ts';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.ts';

export const settingsCommand = {
  definition: {
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
  bind: (bot) => (ctx: CommandContext, input: SettingsInput): Promise<InfoReply | DoneReply | Rejected> => settings(bot, ctx, input),
  execute(call) {
    const text = (name: string) => optionText(call.options, name);
    const buttons = text('buttons');
    const input: SettingsInput = {
      scope: text('scope') === 'channel' ? 'channel' : 'user',
      ...(text('defaults') !== undefined ? { options: text('defaults') } : {}),
      ...(buttons === 'everyone' || buttons === 'requester' ? { buttons } : {}),
      ...(call.options.get('reset') === true ? { reset: true } : {}),
    };
    return deferred(call, { ack: deferPrivate, command: 'settings', run: () => call.run(call.ctx, input), show: (reply) => call.webhook.editOriginal(renderActorReply(reply)) });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext, input: SettingsInput) => Promise<InfoReply | DoneReply | Rejected>>;
