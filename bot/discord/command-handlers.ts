/**
 * The bot-core commands as the Discord layer calls them, bound to one set of ports. Tests of the
 * transport substitute recording handlers; everything else uses `createCommandHandlers`.
 */
import type { SlashOptions } from '../../core/options.js';
import type { BotDeps, ButtonReply, CommandContext, DoneReply, ImagineReply, InfoReply, Rejected, ShowReply } from '../commands/context.js';
import { cancel, imagine, pressButton, settings, show, usage, type SettingsInput } from '../commands/index.js';
import { DISCORD_LIMITS } from './limits.js';

/** The bot-core commands this layer calls; `createCommandHandlers` binds the real ones. */
export interface DiscordCommandHandlers {
  imagine(ctx: CommandContext, text: string, slash: SlashOptions): Promise<ImagineReply>;
  pressButton(ctx: CommandContext, customId: string, remixText?: string): Promise<ButtonReply>;
  info(ctx: CommandContext): Promise<InfoReply | Rejected>;
  settings(ctx: CommandContext, input: SettingsInput): Promise<InfoReply | DoneReply | Rejected>;
  show(ctx: CommandContext, jobId: string): Promise<ShowReply | Rejected>;
  cancel(ctx: CommandContext, jobId?: string): Promise<DoneReply | Rejected>;
}

/** The real bot-core commands over one set of ports. */
export function createCommandHandlers(deps: BotDeps): DiscordCommandHandlers {
  return {
    imagine: (ctx, text, slash) => imagine(deps, ctx, text, slash),
    pressButton: (ctx, customId, remixText) => pressButton(deps, ctx, customId, remixText),
    info: (ctx) => usage(deps, ctx),
    settings: (ctx, input) => settings(deps, ctx, input),
    show: (ctx, jobId) => show(deps, ctx, jobId, ctx.delivery.platform === 'discord' ? (ctx.delivery.attachmentLimitBytes ?? DISCORD_LIMITS.defaultAttachmentBytes) : DISCORD_LIMITS.defaultAttachmentBytes),
    cancel: (ctx, jobId) => cancel(deps, ctx, jobId),
  };
}
