/**
 * `/imagine a prompt --options [Slack file links]`: four images in the channel (a placeholder message the dispatcher then edits). In a
 * channel with an open mood board the placeholder goes in the board's thread, and the job joins the board (board-thread.ts).
 */
import { imagine } from '../../commands/index.ts';
import { inBoardThread } from '../board-thread.ts';
import type { SlackSlashCommand } from '../slash-command.ts';
import { slackFileLinks } from '../files.ts';

export const imagineCommand = {
  definition: { command: '/imagine', description: 'Make four images from a prompt', usage_hint: 'a lighthouse at dusk --ar 16:9 --no fog [a Slack file link as image prompt, --strength 0.6 to start from it]' },
  async execute({ bot, ctx, payload, startJob }) {
    // Slack file links in the text are image prompts (with --strength the first is the start image): bot/slack/files.ts.
    const { text, fileIds } = slackFileLinks(payload.text);
    await startJob(text, (withMessage, pictures) => imagine(bot, withMessage, text, {}, undefined, pictures), await inBoardThread(bot, ctx), { attached: [], linked: fileIds });
  },
} satisfies SlackSlashCommand;
