/**
 * Discord JSON for the platform-neutral replies of bot/commands (Rejected, InfoReply, DoneReply, …)
 * and the follow-up calls that show them through the interaction webhook after the ack.
 * Replies to the actor alone are ephemeral (flag 64).
 */
import type { REST, RawFile } from '@discordjs/rest';
import { MessageFlags, Routes } from 'discord-api-types/v10';
import type { DoneReply, InfoReply, Rejected } from '../commands/context.ts';
import type { Attachment } from '../poster.ts';
import { assertDiscordMessage, DISCORD_LIMITS, type DiscordMessage } from './limits.ts';
import { truncate } from '../../core/truncate.ts';

export type ActorReply = Rejected | InfoReply | DoneReply;

/** A conservative cap on an embed's url / thumbnail url (Discord documents none we could check here; 2048 is the common bound). */
export const PICTURE_URL_MAX = 2048;

/** A message for the actor only: text, plus an embed with code blocks for what they will copy. */
export function renderActorReply(reply: ActorReply): DiscordMessage {
  if (reply.kind !== 'info') return assertDiscordMessage({ content: truncate(reply.message, DISCORD_LIMITS.contentChars), allowed_mentions: { parse: [] } });
  const fields = reply.copyable.slice(0, DISCORD_LIMITS.embedFields).map((item) => ({
    name: truncate(item.label, DISCORD_LIMITS.embedFieldName),
    value: codeBlock(item.value, DISCORD_LIMITS.embedFieldValue),
  }));
  // One small embed per picture the asker may open: its label linked, its thumbnail shown (at most 5, under the 10 embeds).
  // A link longer than PICTURE_URL_MAX (a presigned URL with a long session token) is left out rather than risk Discord
  // refusing the whole reply; the lines still name the picture.
  const pictures = (reply.pictures ?? []).flatMap((p) => (p.url && p.url.length <= PICTURE_URL_MAX ? [{ title: truncate(p.label, DISCORD_LIMITS.embedTitle), url: p.url, thumbnail: { url: p.url } }] : []));
  return assertDiscordMessage({
    embeds: [
      { title: truncate(reply.title, DISCORD_LIMITS.embedTitle), ...(reply.lines.length ? { description: truncate(reply.lines.join('\n'), DISCORD_LIMITS.embedDescription) } : {}), ...(fields.length ? { fields } : {}) },
      ...pictures.slice(0, DISCORD_LIMITS.embeds - 1),
    ],
    allowed_mentions: { parse: [] },
  });
}

/** Code block that survives backticks in user text and fits `max` characters. */
function codeBlock(value: string, max: number): string {
  const safe = value.replace(/```/g, '`\u200b`\u200b`');
  return `\`\`\`\n${truncate(safe, max - 8)}\n\`\`\``;
}

/** Calls on one interaction's webhook; all without the bot token (`auth: false`). */
export class InteractionWebhook {
  private readonly rest: REST;
  private readonly applicationId: string;
  private readonly token: string;
  constructor(
    rest: REST,
    applicationId: string,
    token: string,
  ) {
    this.rest = rest;
    this.applicationId = applicationId;
    this.token = token;
  }

  async editOriginal(body: DiscordMessage, attachment?: Attachment): Promise<void> {
    const files: RawFile[] | undefined = attachment ? [{ name: attachment.fileName, data: Buffer.from(attachment.bytes), contentType: attachment.contentType }] : undefined;
    await this.rest.patch(Routes.webhookMessage(this.applicationId, this.token, '@original'), { auth: false, body, ...(files ? { files } : {}) });
  }

  async deleteOriginal(): Promise<void> {
    await this.rest.delete(Routes.webhookMessage(this.applicationId, this.token, '@original'), { auth: false });
  }

  async followUp(body: DiscordMessage, ephemeral: boolean): Promise<void> {
    await this.rest.post(Routes.webhook(this.applicationId, this.token), { auth: false, body: { ...body, ...(ephemeral ? { flags: MessageFlags.Ephemeral } : {}) } });
  }

  /** Replaces a public "thinking…" placeholder by a private answer: the placeholder goes, the actor alone sees why. */
  async replacePublicWithPrivate(body: DiscordMessage): Promise<void> {
    await this.deleteOriginal();
    await this.followUp(body, true);
  }
}
