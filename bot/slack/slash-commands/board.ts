/**
 * `/board start "name" --brief … --duration 2h [--visibility private|link] [--style name]`, `/board status`,
 * `/board generate [prompt] [k]`, `/board add`, `/board cohost @someone`, `/board end`.
 *
 * Where a Slack board lives: a slash command's payload says which channel it came from but not which thread
 * (it carries no thread_ts), so a board belongs to its channel, with one open board per channel. `start` posts
 * the header in the channel and its thread is the session: `@cascade <prompt>` in that thread, and `/imagine`
 * anywhere in the channel, make images of the board; the header is kept current with chat.update.
 */
import { boardCommand, parseBoardText, type BoardCommandReply } from '../../boards/board-command.js';
import { saveHeader } from '../../boards/board-store.js';
import type { ButtonReply, Rejected } from '../../commands/context.js';
import { renderNotice } from '../blocks.js';
import { renderReply } from '../replies.js';
import type { SlackSlashCommand } from '../slash-command.js';

function asReply(reply: BoardCommandReply): Parameters<typeof renderReply>[0] {
  if (reply.kind === 'board_started') return { kind: 'done', action: 'board_started', boardId: reply.board.id, message: `${reply.message}${reply.pageUrl ? ` Board page: ${reply.pageUrl}` : ''}` };
  if (reply.kind === 'board_generated') return { kind: 'done', action: 'board_generated', message: reply.message };
  return reply;
}

export const boardSlackCommand = {
  definition: { command: '/board', description: 'Team mood boards, pinned and voted in a thread', usage_hint: 'start Spring campaign --brief pastel, outdoors --duration 2h | status | generate [prompt] [k] | cohost @someone | end' },
  async execute({ bot, payload, ctx, client, tell, startJob }) {
    const input = parseBoardText(payload.text, 'slack');
    if ('kind' in input) return void (await tell(renderNotice(input.message)));
    if (input.sub === 'generate') {
      // Each grid gets its own placeholder message (startJob), so each is made and shown like an /imagine.
      const count = input.count ?? 1;
      if (count < 1 || count > 4) return void (await tell(renderNotice('k must be 1–4 grids.')));
      for (let i = 0; i < count; i++) {
        await startJob(input.prompt, async (withMessage): Promise<ButtonReply> => {
          const reply = await boardCommand(bot, { ...withMessage, sourceId: `${withMessage.sourceId}:${i}` }, { sub: 'generate', ...(input.prompt ? { prompt: input.prompt } : {}), count: 1 });
          return reply.kind === 'board_generated' ? reply.results[0]! : (reply as Rejected);
        });
      }
      return;
    }
    const reply = await boardCommand(bot, ctx, input, {
      // The header is posted first: its ts is the session's thread, and the header updater edits this message.
      openPlace: async (draft) => {
        const posted = await client.chat.postMessage({ channel: ctx.requester.channelId, text: `📋 ${draft.name} — opening the board…` });
        const ts = String(posted.ts);
        await saveHeader(bot.blobs, draft.id, { v: 1, platform: 'slack', channelId: ctx.requester.channelId, messageId: ts });
        return { platform: 'slack', channelId: ctx.requester.channelId, threadId: ts, ...(ctx.requester.workspaceId ? { workspaceId: ctx.requester.workspaceId } : {}) };
      },
    });
    await tell(renderReply(asReply(reply)));
  },
} satisfies SlackSlashCommand;
