/**
 * One Discord slash command as data, in the discord.js guide's shape: its registration JSON
 * (`definition`) and what runs when someone uses it (`execute`), one file per command in
 * slash-commands/, checked with `satisfies DiscordSlashCommand<…>`. SLASH_COMMANDS (commands.ts) lists
 * them; registration, routing and the bot-core handlers are all derived from that list, so a new
 * command is a new file and one line there.
 */
import {
  ApplicationIntegrationType,
  InteractionContextType,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord-api-types/v10';
import type { BotDeps, CommandContext } from '../commands/context.ts';
import type { InteractionTarget, RouteResult } from './acks.ts';
import type { DiscordAttachment } from './interaction-payload.ts';

/**
 * Server installs only, usable in servers and in DMs with the bot: both places let the bot token post
 * a result after the 15-minute interaction token expires. A user install used in someone else's server
 * has no such fallback, so it is not offered.
 */
export const WHERE = { integration_types: [ApplicationIntegrationType.GuildInstall], contexts: [InteractionContextType.Guild, InteractionContextType.BotDM] };

/** One use of a command, as `execute` sees it. */
export interface SlashCommandCall<Run> extends InteractionTarget {
  ctx: CommandContext;
  /** The interaction's option values by name. */
  options: ReadonlyMap<string, string | number | boolean>;
  /** Attachment options' files by option name (Discord's resolved data); empty for commands without them. */
  attachments: ReadonlyMap<string, DiscordAttachment>;
  /** This command's bot-core call, bound to the ports (`bind`; tests of the transport substitute it). */
  run: Run;
}

export interface DiscordSlashCommand<Run> {
  /** What `PUT /applications/{id}/commands` takes for this command (register-commands.ts sends them all). */
  definition: RESTPostAPIChatInputApplicationCommandsJSONBody;
  /** The bot-core call, bound once to the ports. */
  bind(bot: BotDeps): Run;
  /**
   * Synchronous and without I/O, inside Discord's 3-second window: an ephemeral refusal for input that is
   * wrong on its face, or a deferral (acks.ts `deferred`) whose work runs once Discord has the ack.
   */
  execute(call: SlashCommandCall<Run>): RouteResult;
}

/** A string option's value (numbers and booleans as text); undefined when the user left it out. */
export function optionText(options: ReadonlyMap<string, string | number | boolean>, name: string): string | undefined {
  const value = options.get(name);
  return value === undefined ? undefined : String(value);
}
