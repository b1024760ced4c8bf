/** `/cancel [job]`: cancels a queued or running job (your newest when no id is given), answered privately. */
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { cancel } from '../../commands/index.ts';
import type { CommandContext, DoneReply, Rejected } from '../../commands/context.ts';
import { deferPrivate, deferred } from '../acks.ts';
import { renderActorReply } from '../replies.ts';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.ts';

export const cancelCommand = {
  definition: {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'cancel',
    description: 'Cancel a queued or running job',
    options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'Job id (empty: your newest)', max_length: 64 }],
  },
  bind: (bot) => (ctx: CommandContext, jobId?: string): Promise<DoneReply | Rejected> => cancel(bot, ctx, jobId),
  execute(call) {
    const jobId = optionText(call.options, 'job');
    return deferred(call, { ack: deferPrivate, command: 'cancel', run: () => call.run(call.ctx, jobId), show: (reply) => call.webhook.editOriginal(renderActorReply(reply)) });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext, jobId?: string) => Promise<DoneReply | Rejected>>;
