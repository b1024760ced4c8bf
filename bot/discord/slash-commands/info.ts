/** `/info`: your queue, your usage and the limits, answered privately. */
import { ApplicationCommandType } from 'discord-api-types/v10';
import { usage } from '../../commands/index.js';
import type { CommandContext, InfoReply, Rejected } from '../../commands/context.js';
import { deferPrivate, deferred } from '../acks.js';
import { renderActorReply } from '../replies.js';
import { WHERE, type DiscordSlashCommand } from '../slash-command.js';

export const infoCommand = {
  definition: { ...WHERE, type: ApplicationCommandType.ChatInput, name: 'info', description: 'Your queue, your usage and the limits' },
  bind: (bot) => (ctx: CommandContext): Promise<InfoReply | Rejected> => usage(bot, ctx),
  execute(call) {
    return deferred(call, { ack: deferPrivate, command: 'info', run: () => call.run(call.ctx), show: (reply) => call.webhook.editOriginal(renderActorReply(reply)) });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext) => Promise<InfoReply | Rejected>>;
