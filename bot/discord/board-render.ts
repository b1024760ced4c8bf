/**
 * Discord JSON for mood boards: the pinned header (an embed with the collage as its image and a link button
 * to the board page), the end summary, and the pin card posted in the thread when a tile is pinned (👍 vote,
 * ⭐ hero, unpin: one row of three buttons, far under the 5 × 5 component limit). Every message passes
 * `assertDiscordMessage`, so a long name or brief is clipped, never refused by Discord.
 */
import { ButtonStyle, ComponentType } from 'discord-api-types/v10';
import type { BoardHeader, BoardSummary } from '../boards/board-message.ts';
import { truncate } from '../../core/truncate.ts';
import { encodeButtonId } from '../custom-id.ts';
import { assertDiscordMessage, DISCORD_LIMITS as L, type DiscordMessage } from './limits.ts';

function pageButton(url: string | undefined) {
  return url ? [{ type: ComponentType.ActionRow as const, components: [{ type: ComponentType.Button as const, style: ButtonStyle.Link as const, label: 'Board page', url: truncate(url, 512) }] }] : [];
}

export function renderBoardHeader(header: BoardHeader, attachmentName: string): DiscordMessage {
  const lines = [header.brief ? `*${truncate(header.brief, 1000)}*` : '', `Host: <@${header.host.userId}>`, header.statusLine, header.tasteLine ? `Taste: ${header.tasteLine}` : '', `Board code: \`${header.code}\``,
    header.final ? '' : 'Make images here with /imagine; press 📌 under a tile to pin it, 👍 on a pin to vote.'];
  return assertDiscordMessage({
    embeds: [{ title: truncate(header.title, L.embedTitle), description: truncate(lines.filter(Boolean).join('\n'), L.embedDescription), image: { url: `attachment://${attachmentName}` }, color: header.final ? 0x808080 : 0x5865f2 }],
    attachments: [{ id: 0, filename: attachmentName }],
    components: pageButton(header.pageUrl),
    allowed_mentions: { parse: [] },
  });
}

export function renderBoardSummary(summary: BoardSummary, attachmentName: string): DiscordMessage {
  const top = summary.top.map((pin) => `${pin.rank}. ${truncate(pin.prompt, 150)} — ${pin.votes} 👍${pin.hero ? ' ⭐' : ''} (<@${pin.author.userId}>)`);
  return assertDiscordMessage({
    embeds: [{
      title: truncate(summary.title, L.embedTitle),
      description: truncate([...summary.lines, '', top.length ? '**Top pins**' : 'Nothing was pinned.', ...top].join('\n'), L.embedDescription),
      fields: [
        { name: 'Collage', value: `[PNG](${summary.exports.collage})`, inline: true },
        { name: 'Contact sheet', value: `[PDF](${summary.exports.sheet})`, inline: true },
        { name: 'All images', value: `[zip](${summary.exports.zip})`, inline: true },
      ].filter((field) => field.value.length <= L.embedFieldValue),
      image: { url: `attachment://${attachmentName}` },
    }],
    attachments: [{ id: 0, filename: attachmentName }],
    components: pageButton(summary.pageUrl),
    allowed_mentions: { parse: [] },
  });
}

/** Posted in the thread when a tile is pinned: everyone can vote on it from there. */
export function renderPinCard(jobId: string, tile: 1 | 2 | 3 | 4, message: string, pinnedBy: string): DiscordMessage {
  const id = (action: 'vote' | 'hero' | 'unpin') => encodeButtonId({ action, jobId, index: tile });
  return assertDiscordMessage({
    content: truncate(`${message} (by <@${pinnedBy}>)`, L.contentChars),
    components: [{
      type: ComponentType.ActionRow,
      components: [
        { type: ComponentType.Button, style: ButtonStyle.Primary, label: 'Vote', emoji: { name: '👍' }, custom_id: id('vote') },
        { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Hero', emoji: { name: '⭐' }, custom_id: id('hero') },
        { type: ComponentType.Button, style: ButtonStyle.Secondary, label: 'Unpin', custom_id: id('unpin') },
      ],
    }],
    allowed_mentions: { parse: [] },
  });
}
