/**
 * Self-hosted Slack: Socket Mode (no public URL). `npm start` calls `startSlackSocketMode` when both
 * SLACK_APP_TOKEN (xapp-…, with connections:write) and SLACK_BOT_TOKEN (xoxb-…) are set, and hands
 * `poster` to its dispatcher. The bot token is checked once at start (auth.test), so a wrong token
 * fails with a sentence instead of at the first /imagine.
 *
 * @example
 *   const slack = slackTokensFrom(config);
 *   if (slack) {
 *     const running = await startSlackSocketMode({ ...slack, bot });
 *     posters.slack = running.poster;
 *   }
 */
import type { App } from '@slack/bolt';
import type { Config } from '../../core/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { createSlackApp } from './app.ts';
import type { SlackListenerDeps } from './listeners.ts';
import { platformErrorOf, SlackPoster } from './poster.ts';
import { createSlackClient } from './web-client.ts';

export interface SlackSocketModeOptions extends SlackListenerDeps {
  botToken: string;
  appToken: string;
  /** Recording server in tests. */
  apiUrl?: string;
}

export interface SlackSocketMode {
  app: App;
  /** The Poster for the dispatcher, on the same bot token. */
  poster: SlackPoster;
  stop(): Promise<void>;
}

/** Both tokens, or undefined when Slack is not configured (then `npm start` runs without Slack). */
export function slackTokensFrom(config: Config): { botToken: string; appToken: string } | undefined {
  const { botToken, appToken } = config.slack;
  if (!botToken && !appToken) return undefined;
  if (!botToken || !appToken) {
    throw new ConfigError([`${botToken ? 'SLACK_APP_TOKEN' : 'SLACK_BOT_TOKEN'}: required for Slack Socket Mode when ${botToken ? 'SLACK_BOT_TOKEN' : 'SLACK_APP_TOKEN'} is set`]);
  }
  return { botToken, appToken };
}

export async function startSlackSocketMode(options: SlackSocketModeOptions): Promise<SlackSocketMode> {
  const apiUrl = options.apiUrl ? { apiUrl: options.apiUrl } : {};
  const client = createSlackClient(options.botToken, { ...apiUrl, retryConfig: { retries: 2 } });
  try {
    await client.auth.test();
  } catch (error) {
    const code = platformErrorOf(error);
    if (code) throw new ConfigError([`SLACK_BOT_TOKEN: Slack rejected the bot token (${code})`]);
    throw error;
  }
  const { app } = createSlackApp({ transport: 'socket', botToken: options.botToken, appToken: options.appToken, ...apiUrl }, options);
  await app.start();
  return {
    app,
    poster: new SlackPoster({ client: createSlackClient(options.botToken, apiUrl) }),
    stop: async () => {
      await app.stop();
    },
  };
}
