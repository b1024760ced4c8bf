/**
 * Builds the Discord pieces from config, once, in main (or on a Lambda's first call): REST client,
 * poster, router deps. Shared by the gateway client, the interactions Lambda and the dispatcher.
 */
import type { REST } from '@discordjs/rest';
import type { Config } from '../../core/config.ts';
import type { BotDeps } from '../commands/context.ts';
import { createCommandHandlers } from './command-handlers.ts';
import type { Logger } from '../../core/log.ts';
import type { InteractionRouterDeps } from './acks.ts';
import { blobMessageIds, createDiscordRest, DiscordRestPoster } from './rest-poster.ts';

export interface DiscordWiring {
  rest: REST;
  router: InteractionRouterDeps;
  poster: DiscordRestPoster;
}

export function wireDiscord(config: Config, bot: BotDeps, options: { api?: string; log?: Logger } = {}): DiscordWiring {
  const token = config.discord.token;
  const rest = createDiscordRest({ ...(token ? { token } : {}), ...(options.api ? { api: options.api } : {}) });
  return {
    rest,
    router: { handlers: createCommandHandlers(bot), moderation: bot.moderation, rest, ...(options.log ? { log: options.log } : {}) },
    poster: new DiscordRestPoster({ rest, hasBotToken: token !== undefined, messageIds: blobMessageIds(bot.blobs) }),
  };
}

