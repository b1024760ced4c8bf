/**
 * `/help`: what each command does and how to type it, the same answer on every platform
 * (test/bot/help.test.ts checks that every option the parser knows is listed).
 *
 * @example
 *   help().lines[0] // → '/imagine <prompt> [--options] — four images from a prompt'
 */
import type { InfoReply } from './context.ts';

export interface CommandHelp {
  usage: string;
  does: string;
}

/** The commands as Discord and the web playground name them (Slack's names differ: bot/slack/slash-commands/help.ts). */
export const COMMAND_HELP: readonly CommandHelp[] = [
  { usage: '/imagine <prompt> [--options]', does: 'four images from a prompt' },
  { usage: '/info', does: 'your jobs in progress, the queue and the GPU (ℹ️ on an image shows how it was made)' },
  { usage: '/show <job>', does: 'post a finished job again' },
  { usage: '/cancel [job]', does: 'stop a queued or running job of yours (no id: your newest)' },
  { usage: '/settings [reset] [--options]', does: 'show, change or clear your default options' },
  { usage: '/blend <2–5 pictures> [--options]', does: 'four new images blending the pictures (where uploads exist)' },
  { usage: '/board start|status|generate|…', does: 'team mood boards: open one, see where it stands, make images in its style' },
  { usage: '/help', does: 'this list' },
];

export const OPTIONS_HELP = '--ar W:H · --seed N · --no <things> · --steps 1–100 · --cfg 0–30 · --chaos 0–100 · --style <name> · --size small|medium|large · --lite · --iw 0–3 (weight of attached pictures) · --strength 0–1 (start from the first picture)';

export const BUTTONS_HELP = 'Buttons: U1–U4 upscale a tile · V1–V4 subtle and V1+–V4+ strong variations · R1–R4 remix a tile with a new prompt · 🔄 reroll · ℹ️ details · 🗑️ delete · ❌ cancel';

/** The platform's own command list (default: Discord's and the web's names); options and buttons are the same everywhere. */
export function help(commands: readonly CommandHelp[] = COMMAND_HELP): InfoReply {
  return {
    kind: 'info',
    title: 'Commands',
    lines: [...commands.map((command) => `${command.usage} — ${command.does}`), `Options: ${OPTIONS_HELP}`, BUTTONS_HELP],
    copyable: [{ label: 'Example', value: '/imagine a lighthouse in a storm --ar 16:9 --seed 7' }],
  };
}
