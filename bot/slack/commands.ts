/**
 * The app's slash commands (one file each in slash-commands/, `{ definition, execute }`). listeners.ts
 * registers every one; manifest.yaml declares the same commands (test/slack/payloads.test.ts compares
 * them entry by entry). Adding a command is its file, one line here and its manifest entry.
 */
import { blendCommand } from './slash-commands/blend.ts';
import { boardCommandSlack } from './slash-commands/board.ts';
import type { SlackSlashCommand } from './slash-command.ts';
import { helpCommand } from './slash-commands/help.ts';
import { imagineCommand } from './slash-commands/imagine.ts';
import { infoCommand } from './slash-commands/info.ts';
import { settingsCommand } from './slash-commands/settings.ts';

export const SLACK_COMMANDS: readonly SlackSlashCommand[] = [imagineCommand, blendCommand, settingsCommand, infoCommand, helpCommand, boardCommandSlack];
