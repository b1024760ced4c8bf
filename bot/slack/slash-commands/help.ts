/** `/imagine-help`: the commands, options and buttons (the shared answer every platform gives), answered privately. */
import { help, type CommandHelp } from '../../commands/index.ts';
import { renderReply } from '../replies.ts';
import type { SlackSlashCommand } from '../slash-command.ts';

/** Slack's own command names (a workspace may have another app's /imagine-less commands, so ours are prefixed). */
const SLACK_COMMAND_HELP: readonly CommandHelp[] = [
  { usage: '/imagine <prompt> [--options] [Slack file links]', does: 'four images from a prompt; linked (or, in a mention, attached) pictures are image prompts, --strength starts from the first' },
  { usage: '/imagine-blend <2–5 Slack file links> [square|portrait|landscape]', does: 'four new images blending the pictures' },
  { usage: '/imagine-info [job | cancel [job]]', does: 'your jobs in progress, the queue and the limits; a job\'s details; or cancel a job of yours' },
  { usage: '/imagine-settings [--options | reset | channel …]', does: 'show, change or clear your (or the channel\'s) default options' },
  { usage: '/board start "name" --brief … [--duration 2h] [--visibility private|link] | status | generate [prompt] [k] | cohost @user | end', does: 'a team mood board in this channel: its header\'s thread is the session; 📌 pins, 👍 votes, ⭐ the host\'s hero' },
  { usage: '/imagine-help', does: 'this list' },
];

export const helpCommand = {
  definition: { command: '/imagine-help', description: 'The commands, options and buttons', usage_hint: '' },
  async execute({ tell }) {
    await tell(renderReply(help(SLACK_COMMAND_HELP)));
  },
} satisfies SlackSlashCommand;
