/**
 * `/imagine a prompt --options`: four images in the channel (a placeholder message the dispatcher then edits). In a
 * channel with an open mood board the placeholder goes in the board's thread, and the job joins the board (board-thread.ts).
 */
import { imagine } from '../../commands/index.js';
import { inBoardThread } from '../board-thread.js';
import type { SlackSlashCommand } from '../slash-command.js';

export const imagineCommand = {
  definition: { command: '/imagine', description: 'Make four images from a prompt', usage_hint: 'a lighthouse at dusk --ar 16:9 --no fog --seed 42' },
  execute: async ({ bot, ctx, payload, startJob }) => startJob(payload.text, (withMessage) => imagine(bot, withMessage, payload.text), await inBoardThread(bot, ctx)),
} satisfies SlackSlashCommand;
