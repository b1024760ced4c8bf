/** `/imagine-info [job id | cancel [job id]]`: your usage, one job, or a cancel; answered privately. */
import { JobIdSchema } from '../../../core/job.ts';
import { cancel, jobInfo, usage } from '../../commands/index.ts';
import type { BotDeps, CommandContext, DoneReply, InfoReply, Rejected } from '../../commands/context.ts';
import { renderReply } from '../replies.ts';
import type { SlackSlashCommand } from '../slash-command.ts';

export const infoCommand = {
  definition: { command: '/imagine-info', description: 'Your jobs in progress, limits and the queue', usage_hint: '[job id]' },
  async execute({ bot, payload, ctx, tell }) {
    await tell(renderReply(await infoReply(bot, ctx, payload.text.trim())));
  },
} satisfies SlackSlashCommand;

async function infoReply(bot: BotDeps, ctx: CommandContext, text: string): Promise<InfoReply | Rejected | DoneReply> {
  if (text === '') return usage(bot, ctx);
  const cancelMatch = /^cancel(?:\s+(\S+))?$/i.exec(text);
  if (cancelMatch) {
    const id = cancelMatch[1];
    if (id !== undefined && !JobIdSchema.safeParse(id).success) return { kind: 'rejected', code: 'not_found', message: `"${id.slice(0, 64)}" is not a job id.` };
    return cancel(bot, ctx, id);
  }
  if (!JobIdSchema.safeParse(text).success) {
    return { kind: 'rejected', code: 'invalid_options', message: 'Use /imagine-info for your usage, /imagine-info <job id> for a job, or /imagine-info cancel [job id].' };
  }
  return jobInfo(bot, text, { asker: ctx.requester, links: 'signed' });
}
