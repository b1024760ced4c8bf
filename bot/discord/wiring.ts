/**
 * Builds the Discord pieces from config, once, in main (or on a Lambda's first call): REST client,
 * poster, router deps. Shared by the gateway client, the interactions Lambda and the dispatcher.
 */
import type { REST } from '@discordjs/rest';
import type { Config } from '../../core/config.js';
import type { BotDeps } from '../commands/context.js';
import type { ModerationConfig } from '../moderation.js';
import { createCommandHandlers, type InteractionLog, type InteractionRouterDeps } from './interactions.js';
import { blobMessageIds, createDiscordRest, DiscordRestPoster } from './rest-poster.js';

/**
 * Moderation settings from the environment (comma-separated lists):
 * MODERATION_BLOCKLIST, MODERATION_RESTRICTED (allowed only in age-restricted channels),
 * ALLOWED_WORKSPACES (Discord guild ids / Slack team ids), ALLOWED_CHANNELS.
 */
export function moderationConfigFromEnv(env: Record<string, string | undefined>): ModerationConfig {
  const list = (name: string) => (env[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  const allowedWorkspaces = list('ALLOWED_WORKSPACES');
  const allowedChannels = list('ALLOWED_CHANNELS');
  return {
    blocklist: list('MODERATION_BLOCKLIST'),
    restrictedOnly: list('MODERATION_RESTRICTED'),
    ...(allowedWorkspaces.length ? { allowedWorkspaces } : {}),
    ...(allowedChannels.length ? { allowedChannels } : {}),
  };
}

export interface DiscordWiring {
  rest: REST;
  router: InteractionRouterDeps;
  poster: DiscordRestPoster;
}

export function wireDiscord(config: Config, bot: BotDeps, options: { api?: string; log?: InteractionLog } = {}): DiscordWiring {
  const token = config.discord.token;
  const rest = createDiscordRest({ ...(token ? { token } : {}), ...(options.api ? { api: options.api } : {}) });
  return {
    rest,
    router: { handlers: createCommandHandlers(bot), moderation: bot.moderation, rest, ...(options.log ? { log: options.log } : {}) },
    poster: new DiscordRestPoster({ rest, hasBotToken: token !== undefined, messageIds: blobMessageIds(bot.blobs) }),
  };
}

