/**
 * The bot-core calls the Discord layer makes, bound to one set of ports: each slash command's own
 * (`bind` in its file, so the set follows SLASH_COMMANDS) and the button press. Tests of the transport
 * substitute recording handlers; everything else uses `createCommandHandlers`.
 */
import type { BotDeps, ButtonReply, CommandContext } from '../commands/context.ts';
import { pressButton } from '../commands/index.ts';
import { SLASH_COMMANDS } from './commands.ts';

type SlashCommandHandlers = { [Name in keyof typeof SLASH_COMMANDS]: ReturnType<(typeof SLASH_COMMANDS)[Name]['bind']> };

/** The bot-core commands this layer calls; `createCommandHandlers` binds the real ones. */
export interface DiscordCommandHandlers extends SlashCommandHandlers {
  pressButton(ctx: CommandContext, customId: string, remixText?: string): Promise<ButtonReply>;
}

/** The real bot-core commands over one set of ports. */
export function createCommandHandlers(deps: BotDeps): DiscordCommandHandlers {
  const slash = Object.fromEntries(Object.entries(SLASH_COMMANDS).map(([name, command]) => [name, command.bind(deps)])) as SlashCommandHandlers;
  return { ...slash, pressButton: (ctx, customId, remixText) => pressButton(deps, ctx, customId, remixText) };
}
