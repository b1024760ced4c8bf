/**
 * `/imagine-blend <2–5 Slack file links> [square|portrait|landscape]`: four images from the pictures alone (the core's
 * `blend`), posted in the channel like /imagine's (in the board's thread while a board is open). Slash commands carry
 * no files, so the pictures are file links (bot/slack/files.ts: the requester's own or shared here).
 */
import { blend, isBlendShape } from '../../commands/index.ts';
import { MIN_BLEND_PICTURES } from '../../commands/blend.ts';
import { MAX_IMAGE_PROMPTS } from '../../../core/job.ts';
import { inBoardThread } from '../board-thread.ts';
import { renderNotice } from '../blocks.ts';
import { slackFileLinks } from '../files.ts';
import type { SlackSlashCommand } from '../slash-command.ts';

export const blendCommand = {
  definition: { command: '/imagine-blend', description: 'Blend 2–5 pictures into four new images', usage_hint: '<2–5 Slack file links> [square | portrait | landscape]' },
  async execute({ bot, ctx, payload, tell, startJob }) {
    const { text, fileIds } = slackFileLinks(payload.text);
    const shape = text.trim().toLowerCase() || 'square';
    // Refused before any lookup or download: the count and the shape need none.
    if (fileIds.length < MIN_BLEND_PICTURES || fileIds.length > MAX_IMAGE_PROMPTS) {
      return void (await tell(renderNotice(`/imagine-blend needs ${MIN_BLEND_PICTURES} to ${MAX_IMAGE_PROMPTS} Slack file links (Copy link to file); ${fileIds.length} ${fileIds.length === 1 ? 'was' : 'were'} given.`)));
    }
    if (!isBlendShape(shape)) return void (await tell(renderNotice(`/imagine-blend shape must be square, portrait or landscape; "${shape.slice(0, 40)}" is none of them.`)));
    await startJob(undefined, (withMessage, pictures) => blend(bot, withMessage, pictures, shape), await inBoardThread(bot, ctx), { attached: [], linked: fileIds });
  },
} satisfies SlackSlashCommand;
