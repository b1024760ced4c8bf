/**
 * `/board start|end|status|generate|add|cohost`: team mood boards (bot/boards/). `start` opens a public thread from
 * the channel (bot token, before the board is written) and answers in the channel with a link to it; the header
 * follows in the thread from the header updater. `generate`'s grids post as new messages with the bot token (one
 * interaction cannot own several grid messages). `add` pins the attached picture (downloaded from Discord's CDN like
 * /imagine's). Refusals are private.
 */
import { DiscordAPIError } from '@discordjs/rest';
import { ApplicationCommandOptionType, ApplicationCommandType, ChannelType, Routes, type APIChannel } from 'discord-api-types/v10';
import { STYLE_PRESETS } from '../../../core/styles.ts';
import { boardCommand, type BoardCommandInput, type BoardCommandOptions, type BoardCommandReply } from '../../boards/board-command.ts';
import type { CommandContext } from '../../commands/context.ts';
import { deferPrivate, deferPublic, deferred, ephemeral } from '../acks.ts';
import { downloadAttachments, precheckAttachments } from './imagine.ts';
import { renderActorReply } from '../replies.ts';
import { optionText, WHERE, type DiscordSlashCommand } from '../slash-command.ts';

type Run = (ctx: CommandContext, input: BoardCommandInput, options?: BoardCommandOptions) => Promise<BoardCommandReply>;

const S = ApplicationCommandOptionType;

/** The thread for a new board could not be created: the board is not written, and the host is told why. */
class ThreadNotOpened extends Error {}

/** Thread names: 1–100 characters. A week is the longest auto-archive Discord offers. */
const THREAD_ARCHIVE_MINUTES = 10_080;

function inputOf(options: ReadonlyMap<string, string | number | boolean>): BoardCommandInput | undefined {
  const text = (name: string) => optionText(options, name);
  switch (options.get('subcommand')) {
    case 'start': {
      const [brief, duration, visibility, style] = [text('brief'), text('duration'), text('visibility'), text('style')];
      return { sub: 'start', name: text('name') ?? '', ...(brief ? { brief } : {}), ...(duration ? { duration } : {}), ...(visibility ? { visibility } : {}), ...(style ? { style } : {}) };
    }
    case 'generate': {
      const prompt = text('prompt');
      const k = options.get('k');
      return { sub: 'generate', ...(prompt ? { prompt } : {}), ...(typeof k === 'number' ? { count: k } : {}) };
    }
    case 'cohost': {
      const user = text('user');
      return { sub: 'cohost', ...(user ? { user: { platform: 'discord' as const, userId: user } } : {}) };
    }
    case 'add': {
      const caption = text('caption');
      return { sub: 'add', ...(caption ? { caption } : {}) };
    }
    case 'end':
    case 'status':
      return { sub: options.get('subcommand') as 'end' | 'status' };
    default:
      return undefined;
  }
}

export const boardSlashCommand = {
  definition: {
    ...WHERE,
    type: ApplicationCommandType.ChatInput,
    name: 'board',
    description: 'Team mood boards: a thread where everyone pins and votes',
    options: [
      {
        type: S.Subcommand, name: 'start', description: 'Open a board in a new thread',
        options: [
          { type: S.String, name: 'name', description: 'The board’s name', required: true, max_length: 100 },
          { type: S.String, name: 'brief', description: 'What the team is looking for', max_length: 1000 },
          { type: S.String, name: 'duration', description: '30m, 2h, 7d (default 24h)', max_length: 10 },
          { type: S.String, name: 'visibility', description: 'Who sees the board page', choices: [{ name: 'link (everyone in the thread)', value: 'link' }, { name: 'private (host and co-hosts)', value: 'private' }] },
          { type: S.String, name: 'style', description: 'A style preset every image in the board uses', choices: STYLE_PRESETS.map((preset) => ({ name: preset.name, value: preset.name })) },
        ],
      },
      { type: S.Subcommand, name: 'status', description: 'This thread’s board: counts, taste line and its code' },
      {
        type: S.Subcommand, name: 'generate', description: 'Images in the board’s style',
        options: [
          { type: S.String, name: 'prompt', description: 'What to make (default: the brief)', max_length: 1500 },
          { type: S.Integer, name: 'k', description: 'How many grids (1–4)', min_value: 1, max_value: 4 },
        ],
      },
      {
        type: S.Subcommand, name: 'add', description: 'Pin a picture of yours to the board',
        options: [
          { type: S.Attachment, name: 'image', description: 'The picture (PNG, JPEG or WebP, up to 10 MiB)', required: true },
          { type: S.String, name: 'caption', description: 'What it is (shown as its prompt)', max_length: 200 },
        ],
      },
      { type: S.Subcommand, name: 'cohost', description: 'Name a co-host (host only)', options: [{ type: S.User, name: 'user', description: 'Who', required: true }] },
      { type: S.Subcommand, name: 'end', description: 'End the board: summary and exports (host or co-host)' },
    ],
  },
  bind: (bot) => ((ctx, input, options) => boardCommand(bot, ctx, input, options)) satisfies Run,
  execute(call) {
    const input = inputOf(call.options);
    if (!input) return { ok: true, response: { type: 4, data: { content: 'Use /board start, status, generate, add, cohost or end.', flags: 64 } } };
    const { ctx, deps } = call;
    if (input.sub === 'start') {
      const openPlace: BoardCommandOptions['openPlace'] = async (draft) => {
        let thread: APIChannel;
        try {
          thread = (await deps.rest.post(Routes.threads(ctx.requester.channelId), {
            body: { name: draft.name.slice(0, 100), type: ChannelType.PublicThread, auto_archive_duration: THREAD_ARCHIVE_MINUTES },
          })) as APIChannel;
        } catch (error) {
          throw new ThreadNotOpened(error instanceof DiscordAPIError ? `Discord said: ${error.message.slice(0, 120)}` : 'the bot has no token to create threads (DISCORD_TOKEN)');
        }
        return { platform: 'discord', channelId: thread.id, parentChannelId: ctx.requester.channelId, ...(ctx.requester.workspaceId ? { workspaceId: ctx.requester.workspaceId } : {}) };
      };
      return deferred(call, {
        ack: deferPublic,
        command: 'board start',
        run: () => call.run(ctx, input, { openPlace }).catch((error: unknown) => {
          if (error instanceof ThreadNotOpened) return { kind: 'rejected' as const, code: 'invalid_board' as const, message: `Could not open a thread here (${error.message}). Start the board from a text channel where the bot may create threads.` };
          throw error;
        }),
        show: async (reply) => {
          if (reply.kind !== 'board_started') return call.webhook.replacePublicWithPrivate(renderActorReply(reply.kind === 'rejected' ? reply : { kind: 'rejected', code: 'internal', message: 'Unexpected reply.' }));
          await call.webhook.editOriginal({ content: `📋 **${reply.board.name.replace(/[*_`~|]/g, '')}** is open in <#${reply.board.place.channelId}>. ${reply.message}`.slice(0, 2000), allowed_mentions: { parse: [] } });
        },
      });
    }
    if (input.sub === 'add') {
      const files = [...call.attachments.values()];
      const tooLarge = precheckAttachments(files);
      if (tooLarge) return { ok: true, response: ephemeral(tooLarge.message) };
      return deferred(call, {
        ack: deferPrivate,
        command: 'board add',
        run: async () => {
          const pictures = await downloadAttachments(deps, files);
          return 'kind' in pictures ? pictures : call.run(ctx, { ...input, pictures });
        },
        show: (reply) => call.webhook.editOriginal(renderActorReply(reply.kind === 'board_generated' || reply.kind === 'board_started' ? { kind: 'done', action: reply.kind, message: reply.message } : reply)),
      });
    }
    // generate: each grid posts its own message with the bot token (tokenIssuedAt 0), not into this interaction's reply.
    const runCtx: CommandContext = input.sub === 'generate' && ctx.delivery.platform === 'discord' ? { ...ctx, delivery: { ...ctx.delivery, tokenIssuedAt: 0 } } : ctx;
    return deferred(call, {
      ack: deferPrivate,
      command: `board ${input.sub}`,
      run: () => call.run(runCtx, input),
      show: (reply) => call.webhook.editOriginal(renderActorReply(reply.kind === 'board_generated' || reply.kind === 'board_started' ? { kind: 'done', action: reply.kind, message: reply.message } : reply)),
    });
  },
} satisfies DiscordSlashCommand<Run>;
