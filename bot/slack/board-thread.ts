/**
 * Where a board's work goes on Slack. A slash command's payload carries no `thread_ts` (Slack does not allow slash
 * commands in threads), so a board belongs to its channel: while it is open, every `/imagine`, `/board generate` and
 * `@cascade` mention in the channel joins it (bot/boards/capture.ts looks boards up by channel). Results of
 * `/imagine` and `/board generate` are posted in the board's thread (the header's thread is the session); a
 * mention's results stay in the thread it was made in.
 */
import type { WebClient } from '@slack/web-api';
import type { BotDeps, CommandContext, DoneReply } from '../commands/context.ts';
import { findActiveBoard, loadBoard } from '../boards/board-store.ts';
import { renderPinCard } from './board-blocks.ts';

/** The context moved into the thread of the channel's open board, if there is one (else unchanged). */
export async function inBoardThread(bot: BotDeps, ctx: CommandContext): Promise<CommandContext> {
  if (ctx.requester.threadId || ctx.delivery.platform !== 'slack') return ctx;
  const board = await findActiveBoard(bot.blobs, ctx.requester, (bot.now ?? Date.now)());
  const threadTs = board?.place.threadId;
  if (!threadTs) return ctx;
  return { ...ctx, requester: { ...ctx.requester, threadId: threadTs }, delivery: { ...ctx.delivery, threadTs } };
}

/**
 * A new pin is shown to the whole session: a pin card with 👍 ⭐ and unpin, in the board's thread (the grid may be in
 * the channel or another thread). False when the board has no thread to post in; the actor is then told privately.
 */
export async function postPinCard(client: WebClient, bot: BotDeps, pinned: DoneReply, pin: { jobId: string; index: 1 | 2 | 3 | 4 }, pinnedBy: string): Promise<boolean> {
  const board = pinned.boardId ? await loadBoard(bot.blobs, pinned.boardId) : null;
  if (!board?.place.threadId) return false;
  const card = renderPinCard(pin.jobId, pin.index, pinned.message, pinnedBy);
  await client.chat.postMessage({ channel: board.place.channelId, thread_ts: board.place.threadId, text: card.text, blocks: card.blocks });
  return true;
}
