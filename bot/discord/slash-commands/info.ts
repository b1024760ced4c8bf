/** `/info`: your queue, your usage and the limits, answered privately. */
import { ApplicationCommandType } from 'discord-api-types/v10';
import { usage } from '../../commands/index.ts';
import type { CommandContext, InfoReply, Rejected } from '../../commands/context.ts';
import { deferPrivate, deferred } from '../acks.ts';
import { renderActorReply } from '../replies.ts';
import { WHERE, type DiscordSlashCommand } from '../slash-command.ts';

export const infoCommand = {
  definition: { ...WHERE, type: ApplicationCommandType.ChatInput, name: 'info', description: 'Your queue, your usage and the limits' },
  bind: (bot) => (ctx: CommandContext): Promise<InfoReply | Rejected> => usage(bot, ctx),
  execute(call) {
    return deferred(call, { ack: deferPrivate, command: 'info', run: () => call.run(call.ctx), show: (reply) => call.webhook.editOriginal(renderActorReply(reply)) });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext) => Promise<InfoReply | Rejected>>;
