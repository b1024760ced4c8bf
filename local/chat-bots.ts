/**
 * The chat front ends `npm start` runs next to the playground, each only when its tokens are set:
 * Discord through the gateway (DISCORD_TOKEN; no public URL needed) and Slack in Socket Mode
 * (SLACK_BOT_TOKEN + SLACK_APP_TOKEN). Both use the platform folders' own wiring and hand their
 * Poster to the one dispatcher. A rejected token stops `npm start` with a sentence naming the variable.
 */
import type { Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { BotDeps } from '../bot/commands/index.ts';
import type { PosterRegistry } from '../bot/poster.ts';

export interface ChatBots {
  posters: PosterRegistry;
  /** One line per platform for the start-up summary. */
  lines: string[];
  stop(): Promise<void>;
}

/** Where the platform clients send their API calls; tests point them at recording servers on loopback. */
export interface PlatformApis {
  discord?: string;
  slack?: string;
}

export async function startChatBots(config: Config, bot: BotDeps, log: Logger, apis: PlatformApis = {}): Promise<ChatBots> {
  const posters: PosterRegistry = {};
  const lines: string[] = [];
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch((error: unknown) => log.warn('chat bot stop failed', { error }));
  };
  try {
    if (config.discord.token) {
      // Loaded only when configured: discord.js is large and the playground does not need it.
      const { wireDiscord } = await import('../bot/discord/wiring.ts');
      const { startDiscordGateway } = await import('../bot/discord/gateway.ts');
      const discordLog = log.child({ component: 'discord' });
      const wiring = wireDiscord(config, bot, { log: discordLog, ...(apis.discord ? { api: apis.discord } : {}) });
      const gateway = await startDiscordGateway({ token: config.discord.token, router: wiring.router, log: discordLog });
      stops.push(() => gateway.stop());
      posters.discord = wiring.poster;
      lines.push(`discord    connected as ${gateway.client.user?.tag ?? 'the bot'} (gateway)`);
    } else {
      lines.push('discord    off (set DISCORD_TOKEN to connect)');
    }
    const { slackTokensFrom, startSlackSocketMode } = await import('../bot/slack/socket-mode.ts');
    const slack = slackTokensFrom(config);
    if (slack) {
      const running = await startSlackSocketMode({ ...slack, bot, log: log.child({ component: 'slack' }), ...(apis.slack ? { apiUrl: apis.slack } : {}) });
      stops.push(() => running.stop());
      posters.slack = running.poster;
      lines.push('slack      connected (Socket Mode)');
    } else {
      lines.push('slack      off (set SLACK_BOT_TOKEN and SLACK_APP_TOKEN to connect)');
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { posters, lines, stop };
}
