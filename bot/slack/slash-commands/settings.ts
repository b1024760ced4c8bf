/** `/imagine-settings [channel] [show | reset | buttons everyone|requester | --options…]`: defaults, answered privately. */
import type { WebClient } from '@slack/web-api';
import { settings, type SettingsInput } from '../../commands/index.ts';
import { renderReply } from '../replies.ts';
import type { SlackSlashCommand } from '../slash-command.ts';

export const settingsCommand = {
  definition: {
    command: '/imagine-settings',
    description: 'Your (or this channel\'s) default options',
    usage_hint: '[show | --ar 3:2 --style photo | reset | channel --ar 16:9 | channel buttons everyone]',
  },
  async execute({ bot, payload, ctx, client, tell }) {
    const input = parseSettingsText(payload.text);
    const wantsChange = input.scope === 'channel' && (input.options !== undefined || input.buttons !== undefined || input.reset === true);
    const canManageChannel = wantsChange ? await isWorkspaceAdmin(client, payload.user_id) : false;
    await tell(renderReply(await settings(bot, { ...ctx, canManageChannel }, input)));
  },
} satisfies SlackSlashCommand;

/**
 * `/imagine-settings` text: `[channel] [show | reset | buttons everyone|requester | --options…]`.
 * @example parseSettingsText('channel --ar 16:9') // → { scope: 'channel', options: '--ar 16:9' }
 */
export function parseSettingsText(text: string): SettingsInput {
  const trimmed = text.trim();
  const channelScope = /^channel\b/i.test(trimmed);
  const scope = channelScope ? 'channel' : 'user';
  const rest = channelScope ? trimmed.slice('channel'.length).trim() : trimmed;
  if (rest === '' || /^show$/i.test(rest)) return { scope };
  if (/^reset$/i.test(rest)) return { scope, reset: true };
  const buttons = /^buttons\s+(everyone|requester)$/i.exec(rest);
  if (buttons) return { scope, buttons: buttons[1]!.toLowerCase() as 'everyone' | 'requester' };
  return { scope, options: rest };
}

/** Slack payloads do not say who may manage a channel; workspace admins and owners may. Needs users:read. */
async function isWorkspaceAdmin(client: WebClient, userId: string): Promise<boolean> {
  const info = await client.users.info({ user: userId });
  return Boolean(info.user?.is_admin || info.user?.is_owner || info.user?.is_primary_owner);
}
