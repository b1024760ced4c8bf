/**
 * The playground's prompt box and buttons → the platform-neutral handlers in bot/commands, exactly
 * as Discord and Slack call them. This file only builds the `CommandContext` for a web session and
 * reads the command name; it makes no decision of its own.
 *
 * @example
 *   await runCommand(deps, session, '/imagine a fox --ar 3:2', 'req-1')  // → { kind: 'accepted', jobId: 'j…', position: 1, … }
 *   await runCommand(deps, session, 'a fox --ar 0:5', 'req-2')           // → { kind: 'rejected', code: 'invalid_options', … }
 *   await runCommand(deps, session, '/settings --ar 16:9 --style photo') // → { kind: 'done', action: 'settings_saved', … }
 *   await runCommand(deps, session, '/show j4f2…')                       // → { kind: 'show', jobId, message }  (the page posts it again)
 */
import { randomUUID } from 'node:crypto';
import { blend, cancel, help, imagine, jobInfo, pressButton, settings, show, usage, type BotDeps, type ButtonReply, type CommandContext, type DoneReply, type ImagineReply, type InfoReply, type Rejected, type ShowReply } from '../commands/index.ts';
import { JobIdSchema } from '../../core/job.ts';
import { boardCommand, parseBoardText, type BoardCommandReply } from '../boards/board-command.ts';
import { pinUploadedPicture } from '../boards/actions.ts';
import { ButtonIdError, decodeButtonId, type ButtonAction } from '../custom-id.ts';
import type { PictureForm } from './picture-form.ts';

/** Every web session shares one channel, like the people in one chat channel. */
export const PLAYGROUND_CHANNEL = 'playground';

export type CommandReply = ImagineReply | InfoReply | DoneReply | ShowReply | Rejected | BoardCommandReply;

const COMMAND_LINE = /^\/([a-z-]+)(?:\s+([\s\S]*))?$/i;
const JOB_MAKING_BUTTONS: ReadonlySet<ButtonAction> = new Set(['upscale', 'vary_subtle', 'vary_strong', 'remix', 'reroll', 'more']);

/** Whether the line can make a job (bare text or /imagine): such requests count against the per-client cap. */
export function commandMakesJob(text: string): boolean {
  const match = COMMAND_LINE.exec(text.trim());
  return !match || match[1]!.toLowerCase() === 'imagine';
}

export function buttonMakesJob(customId: string): boolean {
  try {
    return JOB_MAKING_BUTTONS.has(decodeButtonId(customId).action);
  } catch (error) {
    if (error instanceof ButtonIdError) return false;
    throw error;
  }
}

export function webContext(sessionId: string, requestId: string | undefined): CommandContext {
  const request = requestId && /^[A-Za-z0-9-]{8,64}$/.test(requestId) ? requestId : randomUUID();
  return {
    requester: { platform: 'web', userId: sessionId, channelId: PLAYGROUND_CHANNEL },
    delivery: { platform: 'web', sessionId },
    // A retried request (same id from the page) names the same job, as a redelivered interaction does.
    sourceId: `web:${sessionId}:${request}`,
    channel: { ageRestricted: false },
  };
}

/** One playground command (the text after `/name` is `rest`); WEB_COMMANDS lists them, keyed by name. */
interface WebCommand {
  execute(deps: BotDeps, ctx: CommandContext, rest: string): Promise<CommandReply> | CommandReply;
}

/**
 * `/imagine …` (bare text is /imagine too), `/info`, `/info <job id>`, `/show <job id>`, `/cancel [job id]`,
 * `/settings [reset] [--options]` (the session's own defaults), `/help`, `/board …` (mood boards).
 */
const WEB_COMMANDS = {
  imagine: { execute: (deps, ctx, rest) => imagine(deps, ctx, rest) },
  info: {
    execute(deps, ctx, rest) {
      const jobId = rest.trim();
      if (jobId === '') return usage(deps, ctx);
      if (!JobIdSchema.safeParse(jobId).success) return { kind: 'rejected', code: 'invalid_job_id', message: `"${jobId.slice(0, 40)}" is not a job id; use the ℹ️ button or /info j…` };
      return jobInfo(deps, jobId, { asker: ctx.requester, links: 'by-key' });
    },
  },
  settings: {
    execute(deps, ctx, rest) {
      // As Discord's /settings with scope "user": no options shows them, options are merged in, `reset` starts over.
      const reset = /^reset(\s|$)/i.test(rest);
      const options = (reset ? rest.slice(5) : rest).trim();
      return settings(deps, ctx, { scope: 'user', reset, ...(options ? { options } : {}) });
    },
  },
  board: {
    execute(deps, ctx, rest) {
      const input = parseBoardText(rest, 'web');
      return 'kind' in input ? input : boardCommand(deps, ctx, input);
    },
  },
  // The page draws the message from the store's images, so no grid bytes are read.
  show: { execute: (deps, ctx, rest) => show(deps, ctx, rest, 'by-key') },
  cancel: {
    execute(deps, ctx, rest) {
      const jobId = rest.trim();
      if (jobId === '') return cancel(deps, ctx);
      const parsed = JobIdSchema.safeParse(jobId.toLowerCase());
      if (!parsed.success) return { kind: 'rejected', code: 'invalid_job_id', message: `"${jobId.slice(0, 40)}" is not a job id; use the ❌ button or /cancel j…` };
      return cancel(deps, ctx, parsed.data);
    },
  },
  help: { execute: () => help() },
} satisfies Record<string, WebCommand>;

/** A line from the prompt box: a command of WEB_COMMANDS, or bare text for /imagine. */
export async function runCommand(deps: BotDeps, sessionId: string, text: string, requestId?: string): Promise<CommandReply> {
  const ctx = webContext(sessionId, requestId);
  const trimmed = text.trim();
  const match = COMMAND_LINE.exec(trimmed);
  if (!match) return imagine(deps, ctx, trimmed);
  const name = match[1]!;
  const command: WebCommand | undefined = Object.hasOwn(WEB_COMMANDS, name.toLowerCase()) ? WEB_COMMANDS[name.toLowerCase() as keyof typeof WEB_COMMANDS] : undefined;
  if (!command) return { kind: 'rejected', code: 'unknown_command', message: `Unknown command /${name.slice(0, 20)}. Try /help for the list, or /imagine a yellow circle in the center on a purple background.` };
  return command.execute(deps, ctx, match[2] ?? '');
}

/**
 * A line from the prompt box with pictures (POST /api/imagine, picture-form.ts): `/imagine …` or a bare prompt (the
 * pictures are image prompts; `strength` is the page's "use as start image" control, read as `--strength`), or
 * `/blend [square|portrait|landscape]` (2–5 pictures, no text), or `/board add [caption]` (the picture is pinned to the
 * open board). Other commands take no pictures.
 */
export async function runWithPictures(deps: BotDeps, sessionId: string, form: PictureForm): Promise<ImagineReply | DoneReply> {
  const ctx = webContext(sessionId, form.requestId);
  const trimmed = form.text.trim();
  const match = COMMAND_LINE.exec(trimmed);
  const command = match?.[1]!.toLowerCase();
  const rest = match?.[2] ?? '';
  const bytes = form.pictures.map((picture) => picture.bytes);
  if (command === 'board' && /^add(\s|$)/i.test(rest)) return pinUploadedPicture(deps, ctx, bytes, rest.slice(3).trim().replace(/^"(.*)"$/s, '$1'));
  if (command === 'blend') return blend(deps, ctx, bytes, rest.trim().toLowerCase() || 'square');
  if (match && command !== 'imagine') {
    return { kind: 'rejected', code: 'invalid_options', message: `Pictures go with /imagine (or a bare prompt), /blend and /board add, not /${match[1]!.slice(0, 20)}. Remove the pictures or the command.` };
  }
  return imagine(deps, ctx, match ? rest : trimmed, form.strength === undefined ? {} : { strength: form.strength }, undefined, form.pictures);
}

/** A button press; `remixText` is the new prompt typed in the remix dialog (R1–R4). */
export function runButton(deps: BotDeps, sessionId: string, customId: string, requestId?: string, remixText?: string): Promise<ButtonReply> {
  return pressButton(deps, webContext(sessionId, requestId), customId, remixText);
}
