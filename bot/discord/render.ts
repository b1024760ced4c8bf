/**
 * JobMessage → Discord message JSON (embed + action rows), a pure function validated against
 * Discord's limits before it leaves. We never store or reuse Discord CDN URLs (they expire).
 *
 * The grid or preview is a plain image attachment of the message, not an embed image: an edit
 * replaces the embed wholesale, so an embed that pointed at `attachment://…` would lose its picture on
 * every progress edit that carries no new file. On such edits `attachments` is left out and Discord
 * keeps the file; with a new file, `attachments` lists only it, which drops the earlier preview.
 *
 * @example
 *   renderDiscordMessage(message, { attachmentName: 'grid-j1.png' })
 *   // → { content: '<@42>', embeds: [{ title, description, color, footer }],
 *   //     components: [{ type: 1, components: [U1 U2 U3 U4 🔄] }, { … V1–V4 ℹ️ }, { … V1+–V4+ 🗑️ }],
 *   //     attachments: [{ id: 0, filename: 'grid-j1.png' }], allowed_mentions: { parse: [] } }
 */
import { ButtonStyle as DiscordButtonStyle, ComponentType } from 'discord-api-types/v10';
import type { ButtonStyle, JobMessage, MessageButton, MessageStatus } from '../message-model.ts';
import { assertDiscordMessage, DISCORD_LIMITS, type DiscordMessage } from './limits.ts';
import { truncate } from '../../core/truncate.ts';

export interface RenderOptions {
  /** File name of the attachment sent with this edit (grid or preview); absent = keep the current one. */
  attachmentName?: string;
  /** Guild id, for a link to the parent message (absent in DMs). */
  guildId?: string;
  channelId?: string;
  /** The parent job's message, for "Upscale of tile 2" links. */
  parentMessageId?: string;
  /** Send as a reply to this message (bot-token posts only; interaction responses link instead). */
  replyToMessageId?: string;
}

const STATUS_COLOR: Record<MessageStatus, number> = {
  queued: 0x99aab5,
  waking: 0xfaa61a,
  running: 0x5865f2,
  completed: 0x57f287,
  failed: 0xed4245,
  cancelled: 0x99aab5,
  deleted: 0x99aab5,
};

const BUTTON_STYLE: Record<ButtonStyle, DiscordButtonStyle> = {
  primary: DiscordButtonStyle.Primary,
  secondary: DiscordButtonStyle.Secondary,
  danger: DiscordButtonStyle.Danger,
};

export function renderDiscordMessage(message: JobMessage, options: RenderOptions = {}): DiscordMessage {
  const description = [message.statusLine, ...message.lines.map((line, i) => (i === 0 ? codeLine(line) : line))];
  if (message.parent) {
    const link = messageLink(options.guildId, options.channelId, options.parentMessageId);
    const lineage = `${message.parent.label} of job \`${message.parent.jobId}\``;
    const at = description.findIndex((line) => line === `${message.parent!.label} of job ${message.parent!.jobId}`);
    const rendered = link ? `[${lineage}](${link})` : lineage;
    if (at >= 0) description[at] = rendered;
    else description.push(rendered);
  }
  const body = {
    content: `<@${message.requester.userId}>`,
    // Mentions render but never ping on edits; keep it that way for new bot-token posts too.
    allowed_mentions: { parse: [] as Array<'users' | 'roles' | 'everyone'> },
    embeds: [
      {
        title: truncate(message.title, DISCORD_LIMITS.embedTitle),
        description: truncate(description.join('\n'), DISCORD_LIMITS.embedDescription),
        color: STATUS_COLOR[message.status],
        footer: { text: `job ${message.jobId}` },
      },
    ],
    components: message.buttonRows.map((row) => ({ type: ComponentType.ActionRow as const, components: row.buttons.map(renderButton) })),
    ...(options.attachmentName ? { attachments: [{ id: 0, filename: options.attachmentName }] } : {}),
    ...(options.replyToMessageId ? { message_reference: { message_id: options.replyToMessageId, fail_if_not_exists: false } } : {}),
  };
  return assertDiscordMessage(body);
}

function renderButton(button: MessageButton) {
  return {
    type: ComponentType.Button as const,
    style: BUTTON_STYLE[button.style],
    custom_id: button.customId,
    ...(button.label ? { label: truncate(button.label, DISCORD_LIMITS.buttonLabel) } : {}),
    ...(button.emoji ? { emoji: { name: button.emoji } } : {}),
    ...(button.disabled ? { disabled: true } : {}),
  };
}

/** The options line in a code span: one tap copies it on mobile (a complaint in chat-platforms §6.4). */
function codeLine(text: string): string {
  return text.includes('`') ? text : `\`${text}\``;
}

export function messageLink(guildId: string | undefined, channelId: string | undefined, messageId: string | undefined): string | undefined {
  if (!channelId || !messageId) return undefined;
  return `https://discord.com/channels/${guildId ?? '@me'}/${channelId}/${messageId}`;
}
