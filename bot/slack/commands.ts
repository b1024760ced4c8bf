/**
 * The app's slash commands (one file each in slash-commands/, `{ definition, execute }`). listeners.ts
 * registers every one; manifest.yaml declares the same commands (test/slack/payloads.test.ts compares
 * them entry by entry). Adding a command is its file, one line here and its manifest entry.
 */
import { blendCommand } from './slash-commands/blend.js';
import { boardCommandSlack } from './slash-commands/board.js';
import type { SlackSlashCommand } from './slash-command.js';
import { helpCommand } from './slash-commands/help.js';
import { imagineCommand } from './slash-commands/imagine.js';
import { infoCommand } from './slash-commands/info.js';
import { settingsCommand } from './slash-commands/settings.js';

export const SLACK_COMMANDS: readonly SlackSlashCommand[] = [imagineCommand, blendCommand, settingsCommand, infoCommand, helpCommand, boardCommandSlack];
