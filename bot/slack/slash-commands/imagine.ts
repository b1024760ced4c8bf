/** `/imagine a prompt --options`: four images in the channel (a placeholder message the dispatcher then edits). */
import { imagine } from '../../commands/index.js';
import type { SlackSlashCommand } from '../slash-command.js';

export const imagineCommand = {
  definition: { command: '/imagine', description: 'Make four images from a prompt', usage_hint: 'a lighthouse at dusk --ar 16:9 --no fog --seed 42' },
  execute: ({ bot, payload, startJob }) => startJob(payload.text, (withMessage) => imagine(bot, withMessage, payload.text)),
} satisfies SlackSlashCommand;
