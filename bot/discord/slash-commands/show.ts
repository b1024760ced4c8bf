/** `/show job`: posts a past job's message again, in public (a refusal replaces the placeholder privately). */
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord-api-types/v10';
import { show } from '../../commands/index.ts';
import type { CommandContext, Rejected, ShowReply } from '../../commands/context.ts';
import { deferPublic, deferred } from '../acks.ts';
import { DISCORD_LIMITS } from '../limits.ts';
import { renderDiscordMessage } from '../render.ts';
import { renderActorReply } from '../replies.ts';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.ts';

export const showCommand = {
  definition: {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'show',
    description: 'Post a past job again',
    options: [{ type: ApplicationCommandOptionType.String, name: 'job', description: 'Job id (from ℹ️)', required: true, max_length: 64 }],
  },
  bind: (bot) => (ctx: CommandContext, jobId: string): Promise<ShowReply | Rejected> =>
    show(bot, ctx, jobId, ctx.delivery.platform === 'discord' ? (ctx.delivery.attachmentLimitBytes ?? DISCORD_LIMITS.defaultAttachmentBytes) : DISCORD_LIMITS.defaultAttachmentBytes),
  execute(call) {
    const jobId = optionText(call.options, 'job') ?? '';
    return deferred(call, {
      ack: deferPublic,
      command: 'show',
      run: () => call.run(call.ctx, jobId),
      show: async (reply) => {
        if (reply.kind === 'rejected') return call.webhook.replacePublicWithPrivate(renderActorReply(reply));
        const body = renderDiscordMessage(reply.message, reply.attachment ? { attachmentName: reply.attachment.fileName, channelId: call.ctx.requester.channelId } : {});
        await call.webhook.editOriginal(body, reply.attachment);
      },
    });
  },
} satisfies DiscordSlashCommand<(ctx: CommandContext, jobId: string) => Promise<ShowReply | Rejected>>;
