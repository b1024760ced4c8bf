/**
 * Chat credentials as SST secrets (stored encrypted in the account's SST bootstrap bucket), only for
 * the platforms being deployed. Set each with `npx sst secret set <Name> <value> --stage <stage>`.
 */
import type { ChatPlatform } from '../config.ts';

export function createSecrets(platforms: readonly ChatPlatform[]) {
  const discord = platforms.includes('discord')
    ? {
        applicationId: new sst.Secret('DiscordApplicationId'),
        publicKey: new sst.Secret('DiscordPublicKey'),
        botToken: new sst.Secret('DiscordBotToken'),
      }
    : undefined;
  const slack = platforms.includes('slack')
    ? { signingSecret: new sst.Secret('SlackSigningSecret'), botToken: new sst.Secret('SlackBotToken') }
    : undefined;
  return { discord, slack };
}

export type Secrets = ReturnType<typeof createSecrets>;
