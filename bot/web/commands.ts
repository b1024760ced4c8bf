/**
 * The playground's prompt box and buttons → the platform-neutral handlers in bot/commands, exactly
 * as Discord and Slack call them. This file only builds the `CommandContext` for a web session and
 * reads the command name; it makes no decision of its own.
 *
 * @example
 *   await runCommand(deps, session, '/imagine a fox --ar 3:2', 'req-1')  // → { kind: 'accepted', jobId: 'j…', position: 1, … }
 *   await runCommand(deps, session, 'a fox --ar 0:5', 'req-2')           // → { kind: 'rejected', code: 'invalid_options', … }
 *   await runCommand(deps, session, '/settings --ar 16:9 --style photo') // → { kind: 'done', action: 'settings_saved', … }
 */
import { randomUUID } from 'node:crypto';
import { imagine, jobInfo, pressButton, settings, usage, type BotDeps, type ButtonReply, type CommandContext, type DoneReply, type ImagineReply, type InfoReply, type Rejected } from '../commands/index.js';
import { JobIdSchema } from '../../core/job.js';
import { boardCommand, parseBoardText, type BoardCommandReply } from '../boards/board-command.js';

/** Every web session shares one channel, like the people in one chat channel. */
export const PLAYGROUND_CHANNEL = 'playground';

export type CommandReply = ImagineReply | InfoReply | DoneReply | Rejected | BoardCommandReply;

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

/** `/imagine …` (or bare text, the common case), `/info`, `/info <job id>`, `/settings [reset] [--options]` (the session's own defaults), `/board …` (mood boards). */
export async function runCommand(deps: BotDeps, sessionId: string, text: string, requestId?: string): Promise<CommandReply> {
  const ctx = webContext(sessionId, requestId);
  const trimmed = text.trim();
  const match = /^\/([a-z-]+)\s*([\s\S]*)$/i.exec(trimmed);
  if (!match) return imagine(deps, ctx, trimmed);
  const [, name, rest] = match;
  switch (name!.toLowerCase()) {
    case 'imagine':
      return imagine(deps, ctx, rest!);
    case 'info': {
      const jobId = rest!.trim();
      if (jobId === '') return usage(deps, ctx);
      if (!JobIdSchema.safeParse(jobId).success) return { kind: 'rejected', code: 'invalid_job_id', message: `"${jobId.slice(0, 40)}" is not a job id; use the ℹ️ button or /info j…` };
      return jobInfo(deps, jobId);
    }
    case 'settings': {
      // As Discord's /settings with scope "user": no options shows them, options are merged in, `reset` starts over.
      const reset = /^reset(\s|$)/i.test(rest!);
      const options = (reset ? rest!.slice(5) : rest!).trim();
      return settings(deps, ctx, { scope: 'user', reset, ...(options ? { options } : {}) });
    }
    case 'board': {
      const input = parseBoardText(rest!, 'web');
      return 'kind' in input ? input : boardCommand(deps, ctx, input);
    }
    default:
      return { kind: 'rejected', code: 'unknown_command', message: `Unknown command /${name!.slice(0, 20)}. Try /imagine a yellow circle in the center on a purple background, /info, /settings or /board.` };
  }
}

export function runButton(deps: BotDeps, sessionId: string, customId: string, requestId?: string): Promise<ButtonReply> {
  return pressButton(deps, webContext(sessionId, requestId), customId);
}
