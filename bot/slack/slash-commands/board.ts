/**
 * `/board start "name" --brief … [--duration 2h] [--visibility private|link] [--style …] | status | generate [prompt] [k]
 * | cohost @user | add | end`: team mood boards (bot/boards/), text parsed by the core's `parseBoardText`.
 *
 * `start` posts the board header in the channel (its thread is the session) before the board is written; the header
 * updater then edits that message with the collage (chat.update). `generate` makes each grid like `/imagine`, with its
 * own placeholder message in the board's thread. Everything else answers the actor alone (ephemeral).
 */
import type { WebClient } from '@slack/web-api';
import { boardCommand, parseBoardText, type BoardCommandInput } from '../../boards/board-command.ts';
import { boardHere, pinUploadedPicture } from '../../boards/actions.ts';
import type { BoardRecord } from '../../boards/model.ts';
import type { ButtonReply, CommandContext } from '../../commands/context.ts';
import { renderNotice } from '../blocks.ts';
import { SLACK_LIMITS } from '../block-limits.ts';
import { platformErrorOf } from '../poster.ts';
import { renderReply } from '../replies.ts';
import type { SlackSlashCommand, SlackSlashCommandCall } from '../slash-command.ts';
import { truncate } from '../../../core/truncate.ts';
import { fetchSlackPictures, slackFileLinks } from '../files.ts';

/** The header could not be posted: the board is not written, and the host is told why. */
class HeaderNotPosted extends Error {}

export const boardCommandSlack = {
  definition: {
    command: '/board',
    description: 'Team mood boards with pins, votes and a live collage',
    usage_hint: 'start Spring campaign --brief pastel, outdoors --duration 2h | status | generate [prompt] [k] | add <file link> [caption] | cohost @someone | end',
  },
  async execute(call) {
    const input = parseBoardText(unescapeCommandText(call.payload.text), 'slack');
    if ('kind' in input) return void (await call.tell(renderReply(input)));
    if (input.sub === 'start') return start(call, input);
    if (input.sub === 'generate') return generate(call, input);
    if (input.sub === 'add') return add(call);
    const reply = await boardCommand(call.bot, call.ctx, input);
    if (reply.kind === 'board_started' || reply.kind === 'board_generated') return; // only start/generate give these
    await call.tell(renderReply(reply));
  },
} satisfies SlackSlashCommand;

/**
 * `/board` is declared with should_escape (manifest.yaml) so that a mention arrives as `<@U123|name>` (the user id
 * `cohost` needs). Names and briefs are then read back as typed: links and channel mentions as their label,
 * Slack's three entities decoded. User mentions are kept for parseBoardText.
 */
export function unescapeCommandText(text: string): string {
  return text
    .replace(/<(?:#[A-Z0-9]+|!subteam\^[A-Z0-9]+|(?:https?|mailto):[^|>]*)\|([^>]*)>/g, '$1')
    .replace(/<((?:https?|mailto):[^|>]*)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** `/board add <Slack file link> [caption]`: the linked file (yours, or shared here) pinned to the channel's board. */
async function add(call: SlackSlashCommandCall): Promise<void> {
  // Links are read from the text as Slack sent it (`<url|label>` keeps its URL); the rest, unescaped, is the caption.
  const { text, fileIds } = slackFileLinks(call.payload.text);
  const caption = unescapeCommandText(text).replace(/^add\b/i, '').trim().replace(/^"(.*)"$/s, '$1');
  const pictures = await fetchSlackPictures(call.files, call.ctx.requester, { attached: [], linked: fileIds });
  if ('kind' in pictures) return void (await call.tell(renderReply(pictures)));
  await call.tell(renderReply(await pinUploadedPicture(call.bot, call.ctx, pictures, caption, call.payload.user_name)));
}

async function start({ bot, ctx, payload, client, tell }: SlackSlashCommandCall, input: Extract<BoardCommandInput, { sub: 'start' }>): Promise<void> {
  let postedTs: string | undefined;
  const openPlace = async (draft: BoardRecord) => {
    postedTs = await postHeaderPlaceholder(client, draft);
    return { platform: 'slack' as const, channelId: draft.place.channelId, threadId: postedTs, ...(draft.place.workspaceId ? { workspaceId: draft.place.workspaceId } : {}) };
  };
  let reply;
  try {
    reply = await boardCommand(bot, ctx, input, { openPlace, ...(payload.user_name ? { actorName: payload.user_name } : {}) });
  } catch (error) {
    // The header was posted but the board could not be written: no header may stay behind for a board that does not exist.
    if (postedTs) await client.chat.delete({ channel: ctx.requester.channelId, ts: postedTs }).catch(() => undefined);
    if (error instanceof HeaderNotPosted) return void (await tell(renderNotice(error.message)));
    throw error;
  }
  if (reply.kind !== 'board_started') return void (await tell(renderReply(reply.kind === 'rejected' ? reply : { kind: 'rejected', code: 'internal', message: 'Unexpected reply.' })));
  // A private board's page link is the host's alone: it is told here, never shown in the header.
  const link = reply.pageUrl && reply.board.visibility === 'private' ? ` Your private board page: ${reply.pageUrl}` : '';
  await tell(renderNotice(`${reply.message}${link}`));
}

async function postHeaderPlaceholder(client: WebClient, draft: BoardRecord): Promise<string> {
  const text = `📋 ${draft.name}\nOpening the board…`;
  const blocks = [
    { type: 'section', block_id: 'title', text: { type: 'plain_text', text: truncate(`📋 ${draft.name}`, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'context', block_id: 'status', elements: [{ type: 'plain_text', text: 'Opening the board…', emoji: true }] },
  ];
  try {
    const posted = await client.chat.postMessage({ channel: draft.place.channelId, text, blocks });
    if (!posted.ts) throw new HeaderNotPosted('Slack accepted the board header but returned no message ts; nothing was started.');
    return posted.ts;
  } catch (error) {
    const code = platformErrorOf(error);
    if (code === 'not_in_channel' || code === 'channel_not_found') {
      throw new HeaderNotPosted('I cannot post in this conversation, so the board was not started. Invite me with /invite @cascade, then try again.');
    }
    throw error;
  }
}

/**
 * `/board generate [prompt] [k]`: k grids, one after another, each through the core's generate with count 1 and its own
 * placeholder in the board's thread (a Slack message belongs to one job).
 */
async function generate({ bot, ctx, tell, startJob }: SlackSlashCommandCall, input: Extract<BoardCommandInput, { sub: 'generate' }>): Promise<void> {
  const count = input.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 4) return void (await tell(renderReply({ kind: 'rejected', code: 'invalid_options', message: 'k must be 1–4 grids.' })));
  const board = await boardHere(bot, ctx);
  if ('kind' in board) return void (await tell(renderReply(board)));
  const threadTs = board.place.threadId;
  const inThread: CommandContext = threadTs ? { ...ctx, requester: { ...ctx.requester, threadId: threadTs }, delivery: { ...ctx.delivery, ...(ctx.delivery.platform === 'slack' ? { threadTs } : {}) } } : ctx;
  let accepted = 0;
  let code = '';
  let styleNote = '';
  for (let i = 0; i < count; i++) {
    const submit = async (withMessage: CommandContext): Promise<ButtonReply> => {
      const reply = await boardCommand(bot, withMessage, { sub: 'generate', ...(input.prompt ? { prompt: input.prompt } : {}), count: 1 });
      if (reply.kind !== 'board_generated') return reply.kind === 'board_started' ? { kind: 'rejected', code: 'internal', message: 'Unexpected reply.' } : reply;
      code = reply.code;
      styleNote = reply.styleNote;
      const first = reply.results[0]!;
      if (first.kind === 'accepted' && !first.duplicate) accepted++;
      return first;
    };
    await startJob(input.prompt ?? (board.brief || board.name), submit, { ...inThread, sourceId: `${ctx.sourceId}:${i}` });
  }
  if (accepted > 0) await tell(renderNotice(`${accepted} of ${count} grid${count === 1 ? '' : 's'} queued in the board's thread, in the style of "${board.name}" (${code}). ${styleNote}`));
}

